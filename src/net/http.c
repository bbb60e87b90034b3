/*
 * http.c: one HTTP/1.1 request and its response, over a struct stream.
 */
#include <string.h>
#include <strings.h>

#include "date.h"
#include "fmt.h"
#include "http.h"

/* Reads in one step, before the loop gets its turn again. */
#define HTTP_READS_PER_STEP 16

enum chunk_state { CS_SIZE, CS_DATA, CS_DATA_END, CS_TRAILER, CS_DONE };

static int
has_crlf(const char *s)
{
	return strpbrk(s, "\r\n") != NULL;
}

static int
append(char *buf, size_t cap, size_t *len, const char *a, const char *b,
    const char *c)
{
	int n = fmt_snprintf(buf + *len, cap - *len, "%s%s%s", a, b, c);

	if (n < 0 || (size_t)n >= cap - *len)
		return -1;
	*len += (size_t)n;
	return 0;
}

int
http_request_write(const struct http_request *req, char *buf, size_t cap,
    size_t *len, struct err *err)
{
	char clen[24];
	size_t i;
	int bad = 0;

	*len = 0;
	if (has_crlf(req->method) || has_crlf(req->url->target) ||
	    has_crlf(req->url->authority) || has_crlf(req->user_agent) ||
	    (req->content_type != NULL && has_crlf(req->content_type)))
		return err_set(err, ERR_CONFIG,
		    "an HTTP request line or header value holds a line break");
	bad |= append(buf, cap, len, req->method,
	    req->absolute ? " http://" : " ",
	    req->absolute ? req->url->authority : "");
	bad |= append(buf, cap, len, req->url->target, "", "");
	bad |= append(buf, cap, len, " HTTP/1.1\r\nHost: ", req->url->authority,
	    "\r\n");
	bad |= append(buf, cap, len, "User-Agent: ", req->user_agent, "\r\n");
	if (req->content_type != NULL) {
		(void)fmt_snprintf(clen, sizeof clen, "%zu", req->body_len);
		bad |= append(buf, cap, len,
		    "Content-Type: ", req->content_type, "\r\n");
		bad |= append(buf, cap, len, "Content-Length: ", clen, "\r\n");
	}
	for (i = 0; i < req->extra_count; i++) {
		if (has_crlf(req->extra[i].name) ||
		    has_crlf(req->extra[i].value))
			return err_set(err, ERR_CONFIG,
			    "the %s header value holds a line break",
			    req->extra[i].name);
		bad |= append(buf, cap, len, req->extra[i].name, ": ",
		    req->extra[i].value);
		bad |= append(buf, cap, len, "\r\n", "", "");
	}
	bad |= append(buf, cap, len, "Connection: close\r\n\r\n", "", "");
	if (bad || req->body_len > cap - *len)
		return err_set(err, ERR_SYSTEM,
		    "the HTTP request is larger than its %zu-byte buffer", cap);
	if (req->body_len > 0)
		memcpy(buf + *len, req->body, req->body_len);
	*len += req->body_len;
	return 0;
}

void
http_reader_init(struct http_reader *r, char *buf, size_t cap,
    struct http_response *resp)
{
	memset(r, 0, sizeof *r);
	memset(resp, 0, sizeof *resp);
	r->buf = buf;
	r->cap = cap;
	r->resp = resp;
}

char *
http_reader_space(struct http_reader *r, size_t *avail)
{
	*avail = r->cap - r->len;
	return r->buf + r->len;
}

/* The end of the line starting at `from` (after its '\n'), or 0. */
static size_t
line_end(const struct http_reader *r, size_t from)
{
	const char *nl = memchr(r->buf + from, '\n', r->len - from);

	return nl == NULL ? 0 : (size_t)(nl - r->buf) + 1;
}

/* Length of a line's content, without its CRLF or LF. */
static size_t
content_len(const char *line, size_t with_eol)
{
	size_t n = with_eol - 1;

	return n > 0 && line[n - 1] == '\r' ? n - 1 : n;
}

static int
tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static void
copy_value(char *dst, size_t cap, const char *v, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

int
http_printable(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') ||
		    s[i] == 0x7f)
			return 0;
	return 1;
}

static int
parse_status(struct http_reader *r, const char *s, size_t n, struct err *err)
{
	if (n < 12 || memcmp(s, "HTTP/1.", 7) != 0 ||
	    (s[7] != '0' && s[7] != '1') || s[8] != ' ' || s[9] < '1' ||
	    s[9] > '5' || s[10] < '0' || s[10] > '9' || s[11] < '0' ||
	    s[11] > '9' || (n > 12 && s[12] != ' '))
		return err_set(err, ERR_HTTP,
		    "the response does not start "
		    "with an HTTP/1.x status line: is the URL's port an "
		    "HTTP server?");
	if (!http_printable(s + 12, n - 12))
		return err_set(err, ERR_HTTP,
		    "the response's status line holds a control character");
	r->resp->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 +
	    (s[11] - '0');
	return 0;
}

struct head_fields {
	int has_length, chunked, has_te;
};

static int
parse_length(struct http_reader *r, struct head_fields *h, const char *v,
    size_t n, struct err *err)
{
	uint64_t cl = 0;
	size_t i;

	if (n == 0 || n > 19)
		return err_set(err, ERR_HTTP,
		    "the Content-Length header is not a number");
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return err_set(err, ERR_HTTP,
			    "the Content-Length header is not a number");
		cl = cl * 10 + (uint64_t)(v[i] - '0');
	}
	if (h->has_length && cl != r->content_length)
		return err_set(err, ERR_HTTP,
		    "the response has two different Content-Length headers");
	h->has_length = 1;
	r->content_length = cl;
	return 0;
}

static int
parse_field(struct http_reader *r, struct head_fields *h, const char *s,
    size_t n, struct err *err)
{
	struct http_response *resp = r->resp;
	const char *colon = memchr(s, ':', n), *v;
	size_t name_len, vlen, i;

	if (n > 0 && (s[0] == ' ' || s[0] == '\t'))
		return err_set(err, ERR_HTTP,
		    "the response uses obsolete header line folding");
	if (colon == NULL)
		return err_set(err, ERR_HTTP,
		    "a response header line has no colon");
	name_len = (size_t)(colon - s);
	for (i = 0; i < name_len; i++)
		if (!tchar(s[i]))
			return err_set(err, ERR_HTTP,
			    "a response header name is malformed");
	if (name_len == 0)
		return err_set(err, ERR_HTTP,
		    "a response header name is empty");
	v = colon + 1;
	vlen = n - name_len - 1;
	while (vlen > 0 && (*v == ' ' || *v == '\t'))
		v++, vlen--;
	while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	if (!http_printable(v, vlen))
		return err_set(err, ERR_HTTP,
		    "a response header value holds a control character");
#define IS(name) \
	(name_len == sizeof(name) - 1 && strncasecmp(s, name, name_len) == 0)
	if (IS("Content-Length"))
		return parse_length(r, h, v, vlen, err);
	if (IS("Transfer-Encoding")) {
		if (h->has_te || vlen != 7 || strncasecmp(v, "chunked", 7) != 0)
			return err_set(err, ERR_HTTP,
			    "the response uses a "
			    "transfer coding other than chunked");
		h->has_te = h->chunked = 1;
	} else if (IS("Content-Type")) {
		copy_value(resp->content_type, sizeof resp->content_type, v,
		    vlen);
	} else if (IS("Content-Encoding")) {
		copy_value(resp->content_encoding,
		    sizeof resp->content_encoding, v, vlen);
	} else if (IS("Location")) {
		copy_value(resp->location, sizeof resp->location, v, vlen);
	} else if (IS("Retry-After")) {
		copy_value(resp->retry_after, sizeof resp->retry_after, v,
		    vlen);
	}
#undef IS
	return 0;
}

/* Parse the head in buf[0..end): status line, then header fields. */
static int
parse_head(struct http_reader *r, size_t end, struct err *err)
{
	struct head_fields h = { 0, 0, 0 };
	size_t pos = 0, next;
	int status;

	if (memchr(r->buf, '\0', end) != NULL)
		return err_set(err, ERR_HTTP,
		    "the response headers hold a NUL byte");
	next = line_end(r, 0);
	if (parse_status(r, r->buf, content_len(r->buf, next), err) == -1)
		return -1;
	for (pos = next; pos < end; pos = next) {
		next = line_end(r, pos);
		if (content_len(r->buf + pos, next - pos) == 0)
			break;
		if (parse_field(r, &h, r->buf + pos,
		        content_len(r->buf + pos, next - pos), err) == -1)
			return -1;
	}
	status = r->resp->status;
	if (h.has_te && h.has_length)
		return err_set(err, ERR_HTTP,
		    "the response has both "
		    "Content-Length and Transfer-Encoding");
	if (status == 204 || status == 304)
		r->framing = HTTP_FRAME_NONE;
	else if (h.chunked)
		r->framing = HTTP_FRAME_CHUNKED;
	else if (h.has_length)
		r->framing = HTTP_FRAME_LENGTH;
	else
		r->framing = HTTP_FRAME_CLOSE;
	if (r->framing == HTTP_FRAME_LENGTH &&
	    r->content_length > HTTP_BODY_MAX)
		return err_set(err, ERR_HTTP,
		    "the response body of %llu bytes is over the %u-byte limit",
		    (unsigned long long)r->content_length, HTTP_BODY_MAX);
	return 0;
}

/* Find the blank line ending the head; 0 while it has not arrived. */
static size_t
head_end(struct http_reader *r)
{
	size_t next;

	while ((next = line_end(r, r->scan)) != 0) {
		if (r->scan > 0 &&
		    content_len(r->buf + r->scan, next - r->scan) == 0)
			return next;
		r->scan = next;
	}
	return 0;
}

static enum http_step
read_head(struct http_reader *r, struct err *err)
{
	size_t end;

	for (;;) {
		if ((end = head_end(r)) == 0) {
			if (r->len > HTTP_HEADERS_MAX ||
			    r->scan > HTTP_HEADERS_MAX)
				return err_set(err, ERR_HTTP,
				    "the response "
				    "headers are over the %u-byte limit",
				    HTTP_HEADERS_MAX);
			if (r->eof)
				return err_set(err, ERR_HTTP,
				    r->len == 0 ?
				        "the server closed the connection without "
				        "answering" :
				        "the connection closed "
				        "in the middle of the response headers");
			return HTTP_MORE;
		}
		if (end > HTTP_HEADERS_MAX)
			return err_set(err, ERR_HTTP,
			    "the response headers are over the %u-byte limit",
			    HTTP_HEADERS_MAX);
		if (parse_head(r, end, err) == -1)
			return HTTP_FAIL;
		if (r->resp->status >= 200)
			break;
		if (r->resp->status == 101)
			return err_set(err, ERR_HTTP,
			    "the server switched "
			    "protocols (101), which a token exchange never "
			    "asks for");
		/* 100 Continue, 103 Early Hints: the real answer follows,
		 * after a few at most, as Go's client allows. */
		if (++r->interims > HTTP_INTERIMS_MAX)
			return err_set(err, ERR_HTTP,
			    "the server sent more than %d informational (1xx) "
			    "answers before its answer: Go's client gives up "
			    "there too",
			    HTTP_INTERIMS_MAX);
		memmove(r->buf, r->buf + end, r->len - end);
		r->len -= end;
		r->scan = 0;
		r->content_length = 0;
		memset(r->resp, 0, sizeof *r->resp);
	}
	r->head_done = true;
	r->body_start = r->body_end = r->raw = end;
	r->scan = 0;
	return HTTP_DONE;
}

static int
chunk_size(struct http_reader *r, const char *s, size_t n, struct err *err)
{
	uint64_t size = 0;
	size_t i = 0;
	int v;

	for (; i < n; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			v = s[i] - '0';
		else if ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'f')
			v = (s[i] | 0x20) - 'a' + 10;
		else
			break;
		size = size * 16 + (uint64_t)v;
		if (size > HTTP_BODY_MAX)
			return err_set(err, ERR_HTTP,
			    "a response chunk is over the %u-byte body limit",
			    HTTP_BODY_MAX);
	}
	if (i == 0)
		return err_set(err, ERR_HTTP,
		    "a chunk size line does not start with a hexadecimal size");
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i < n && s[i] != ';')
		return err_set(err, ERR_HTTP,
		    "a chunk size line holds junk after the size");
	if (!http_printable(s + i, n - i))
		return err_set(err, ERR_HTTP,
		    "a chunk extension holds a control character");
	r->chunk_left = size;
	return 0;
}

static int
chunk_line_too_long(struct err *err)
{
	return err_set(err, ERR_HTTP,
	    "a chunk size or trailer line is over %u bytes",
	    HTTP_CHUNK_LINE_MAX);
}

/*
 * Consume one line of the chunked framing (size or trailer) at r->raw.
 * Returns HTTP_DONE when a line was consumed, HTTP_MORE when it has not
 * fully arrived.
 */
static enum http_step
chunk_line(struct http_reader *r, struct err *err)
{
	size_t next = line_end(r, r->raw), n;
	const char *s = r->buf + r->raw;

	if (next == 0) {
		if (r->len - r->raw > HTTP_CHUNK_LINE_MAX)
			return chunk_line_too_long(err);
		if (r->eof)
			return err_set(err, ERR_HTTP,
			    "the connection closed "
			    "before the last chunk of the response");
		return HTTP_MORE;
	}
	n = content_len(s, next - r->raw);
	if (n > HTTP_CHUNK_LINE_MAX)
		return chunk_line_too_long(err);
	if (memchr(s, '\0', n) != NULL)
		return err_set(err, ERR_HTTP,
		    "the chunked body holds a NUL "
		    "byte in a size or trailer line");
	r->raw = next;
	if (r->chunk_state == CS_TRAILER) {
		r->scan += next - (size_t)(s - r->buf);
		if (r->scan > HTTP_HEADERS_MAX)
			return err_set(err, ERR_HTTP,
			    "the response trailers are over the %u-byte limit",
			    HTTP_HEADERS_MAX);
		if (n == 0)
			r->chunk_state = CS_DONE;
		else if (memchr(s, ':', n) == NULL)
			return err_set(err, ERR_HTTP,
			    "a trailer line has no colon");
		return HTTP_DONE;
	}
	if (chunk_size(r, s, n, err) == -1)
		return HTTP_FAIL;
	if (r->chunk_left == 0) {
		r->chunk_state = CS_TRAILER;
	} else {
		if (r->chunk_left >
		    HTTP_BODY_MAX - (r->body_end - r->body_start))
			return err_set(err, ERR_HTTP,
			    "the response body is over the %u-byte limit",
			    HTTP_BODY_MAX);
		r->chunk_state = CS_DATA;
	}
	return HTTP_DONE;
}

/*
 * Decode what has arrived of a chunked body, moving chunk data down to
 * body_end so that the buffer only ever holds the body and one partial
 * line. HTTP_DONE here means the last chunk and trailers are read.
 */
static enum http_step
read_chunked(struct http_reader *r, struct err *err)
{
	enum http_step st = HTTP_DONE;
	size_t take;

	while (r->chunk_state != CS_DONE && st == HTTP_DONE) {
		switch (r->chunk_state) {
		case CS_SIZE:
		case CS_TRAILER:
			st = chunk_line(r, err);
			break;
		case CS_DATA:
			take = r->len - r->raw;
			if (take > r->chunk_left)
				take = (size_t)r->chunk_left;
			memmove(r->buf + r->body_end, r->buf + r->raw, take);
			r->body_end += take;
			r->raw += take;
			r->chunk_left -= take;
			if (r->chunk_left > 0)
				st = r->eof ?
				    err_set(err, ERR_HTTP,
				        "the connection closed in the middle of a "
				        "chunk") :
				    HTTP_MORE;
			else
				r->chunk_state = CS_DATA_END;
			break;
		case CS_DATA_END:
			if (r->len - r->raw >= 1 && r->buf[r->raw] == '\n') {
				r->raw += 1;
			} else if (r->len - r->raw >= 2 &&
			    memcmp(r->buf + r->raw, "\r\n", 2) == 0) {
				r->raw += 2;
			} else if (r->len - r->raw >= 2 ||
			    (r->len > r->raw && r->buf[r->raw] != '\r')) {
				return err_set(err, ERR_HTTP,
				    "a chunk is longer than its stated size");
			} else {
				st = r->eof ?
				    err_set(err, ERR_HTTP,
				        "the connection closed before the last "
				        "chunk of the response") :
				    HTTP_MORE;
				break;
			}
			r->chunk_state = CS_SIZE;
			break;
		}
	}
	memmove(r->buf + r->body_end, r->buf + r->raw, r->len - r->raw);
	r->len = r->body_end + (r->len - r->raw);
	r->raw = r->body_end;
	return st;
}

static enum http_step
read_body(struct http_reader *r, struct err *err)
{
	size_t have = r->len - r->body_start;

	switch (r->framing) {
	case HTTP_FRAME_NONE:
		r->body_end = r->body_start;
		return HTTP_DONE;
	case HTTP_FRAME_LENGTH:
		if (have >= r->content_length) {
			r->body_end = r->body_start + (size_t)r->content_length;
			return HTTP_DONE;
		}
		if (r->eof)
			return err_set(err, ERR_HTTP,
			    "the connection closed "
			    "after %zu of %llu body bytes",
			    have, (unsigned long long)r->content_length);
		return HTTP_MORE;
	case HTTP_FRAME_CLOSE:
		if (have > HTTP_BODY_MAX)
			return err_set(err, ERR_HTTP,
			    "the response body is over the %u-byte limit",
			    HTTP_BODY_MAX);
		r->body_end = r->len;
		return r->eof ? HTTP_DONE : HTTP_MORE;
	case HTTP_FRAME_CHUNKED:
		return read_chunked(r, err);
	}
	return HTTP_FAIL;
}

enum http_step
http_reader_commit(struct http_reader *r, size_t n, struct err *err)
{
	enum http_step st;

	if (n == 0)
		r->eof = true;
	r->len += n;
	if (r->len > r->high)
		r->high = r->len;
	if (!r->head_done && (st = read_head(r, err)) != HTTP_DONE)
		return st;
	if ((st = read_body(r, err)) == HTTP_DONE) {
		r->resp->body = r->buf + r->body_start;
		r->resp->body_len = r->body_end - r->body_start;
	}
	return st;
}

/* n decimal digits at s, or -1. */
static int
digits_at(const char *s, int n)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* IMF-fixdate, the one HTTP-date form current servers send. */
static int
imf_fixdate(const char *v, int64_t *t)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	struct date d;
	int m;

	if (strlen(v) != 29 || v[3] != ',' || v[4] != ' ' || v[7] != ' ' ||
	    v[11] != ' ' || v[16] != ' ' || v[19] != ':' || v[22] != ':' ||
	    memcmp(v + 25, " GMT", 4) != 0)
		return -1;
	for (m = 0; m < 12 && memcmp(months + (size_t)m * 3, v + 8, 3) != 0;
	     m++)
		;
	d.year = digits_at(v + 12, 4);
	d.month = m + 1;
	d.day = digits_at(v + 5, 2);
	d.hour = digits_at(v + 17, 2);
	d.minute = digits_at(v + 20, 2);
	d.second = digits_at(v + 23, 2);
	if (m == 12 || d.year < 1970 || d.day < 1 || d.day > 31 || d.hour < 0 ||
	    d.hour > 23 || d.minute < 0 || d.minute > 59 || d.second < 0 ||
	    d.second > 60)
		return -1;
	*t = date_to_unix(&d);
	return 0;
}

int
http_retry_after(const char *value, int64_t now, uint64_t *seconds)
{
	uint64_t v = 0;
	int64_t when;

	if (*value >= '0' && *value <= '9') {
		for (; *value >= '0' && *value <= '9'; value++) {
			if (v > 100000000)
				return -1;
			v = v * 10 + (uint64_t)(*value - '0');
		}
		if (*value != '\0')
			return -1;
		*seconds = v;
		return 0;
	}
	if (imf_fixdate(value, &when) == -1)
		return -1;
	*seconds = when > now ? (uint64_t)(when - now) : 0;
	return 0;
}

void
http_call_init(struct http_call *c, const char *req, size_t req_len,
    struct http_reader *r)
{
	c->req = req;
	c->req_len = req_len;
	c->sent = 0;
	c->flushed = false;
	c->reader = r;
}

static enum http_step
call_send(struct http_call *c, struct stream *s, short *events, struct err *err)
{
	ssize_t n;
	int r;

	while (c->sent < c->req_len) {
		n = s->send(s->ctx, c->req + c->sent, c->req_len - c->sent,
		    events, err);
		if (n == STREAM_AGAIN)
			return HTTP_MORE;
		if (n < 0)
			return err_wrap(err, "sending the request");
		c->sent += (size_t)n;
	}
	if ((r = s->flush(s->ctx, events, err)) == STREAM_AGAIN)
		return HTTP_MORE;
	if (r != 0)
		return err_wrap(err, "sending the request");
	c->flushed = true;
	return HTTP_DONE;
}

enum http_step
http_call_step(struct http_call *c, struct stream *s, short *events,
    struct err *err)
{
	struct http_reader *r = c->reader;
	enum http_step st;
	size_t avail;
	ssize_t n;
	char *p;
	int reads = 0;

	if (!c->flushed && (st = call_send(c, s, events, err)) != HTTP_DONE)
		return st;
	do {
		/* A server that sends without end (1xx answers, say) must
		 * not keep the loop from signals, probes and its deadline:
		 * yield, asking to be called again at once. */
		if (reads++ == HTTP_READS_PER_STEP) {
			*events = 0;
			return HTTP_MORE;
		}
		p = http_reader_space(r, &avail);
		if (avail == 0)
			return err_set(err, ERR_HTTP,
			    "the response is larger than the %zu-byte buffer",
			    r->cap);
		n = s->recv(s->ctx, p, avail, events, err);
		if (n == STREAM_AGAIN)
			return HTTP_MORE;
		if (n < 0)
			return err_wrap(err, "reading the response");
		st = http_reader_commit(r, (size_t)n, err);
	} while (st == HTTP_MORE);
	return st;
}
