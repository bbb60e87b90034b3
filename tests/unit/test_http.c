/*
 * test_http.c: the request writer, and the incremental response reader.
 *
 * Every response is fed to the reader three ways: whole, one byte at a
 * time, and in pseudo-random pieces. A parser that keeps state across
 * reads must give the same answer whatever the split, so each case checks
 * all of them against one expected outcome.
 */
#include "unit.h"

#include <poll.h>

#include "http.h"
#include "url.h"

/* ---- http_request_write ---- */

/*
 * The value of header `name` (case-insensitive) in a serialized request,
 * copied into out; 0 when absent. Fails the test on a duplicate.
 */
static int
request_header(const char *req, const char *name, char *out, size_t cap)
{
	const char *line = strstr(req, "\r\n") + 2, *end;
	size_t nlen = strlen(name);
	int found = 0;

	for (; (end = strstr(line, "\r\n")) != line; line = end + 2) {
		assert_non_null(end);
		if ((size_t)(end - line) > nlen && line[nlen] == ':' &&
		    strncasecmp(line, name, nlen) == 0) {
			const char *v = line + nlen + 1;

			assert_false(found);
			found = 1;
			while (*v == ' ')
				v++;
			assert_true((size_t)(end - v) < cap);
			memcpy(out, v, (size_t)(end - v));
			out[end - v] = '\0';
		}
	}
	return found;
}

static void
assert_header(const char *req, const char *name, const char *want)
{
	char v[512];

	if (!request_header(req, name, v, sizeof v))
		fail_msg("no %s header in:\n%s", name, req);
	assert_string_equal(v, want);
}

/* The request as a C string, for the helpers above. */
static void
write_request(const struct http_request *req, char *buf, size_t cap,
    size_t *len)
{
	struct err err = { 0 };

	if (http_request_write(req, buf, cap - 1, len, &err) != 0)
		fail_msg("http_request_write: %s", err.msg);
	assert_true(*len < cap);
	buf[*len] = '\0';
}

static void
test_request_post(void **state)
{
	static const char body[] = "grant_type=x&subject_token=y";
	const struct http_header extra[] = {
		{ "X-Request-Id", "abc-123" },
	};
	struct url u;
	struct err err = { 0 };
	struct http_request req = {
		.method = "POST",
		.url = &u,
		.content_type = "application/x-www-form-urlencoded",
		.user_agent = "tokenbridge-sidecar/0.1.0",
		.extra = extra,
		.extra_count = ARRAY_LEN(extra),
		.body = body,
		.body_len = sizeof body - 1,
	};
	char buf[2048], *head_end;
	size_t len;

	assert_int_equal(url_parse(&u,
	                     "https://sts.example.com:8443/v1/token?a=1", &err),
	    0);
	write_request(&req, buf, sizeof buf, &len);

	assert_true(strncmp(buf, "POST /v1/token?a=1 HTTP/1.1\r\n", 29) == 0);
	assert_header(buf, "Host", "sts.example.com:8443");
	assert_header(buf, "Content-Type", "application/x-www-form-urlencoded");
	assert_header(buf, "Content-Length", "28");
	assert_header(buf, "User-Agent", "tokenbridge-sidecar/0.1.0");
	assert_header(buf, "X-Request-Id", "abc-123");

	/* Headers end once, and the body follows exactly. */
	head_end = strstr(buf, "\r\n\r\n");
	assert_non_null(head_end);
	assert_string_equal(head_end + 4, body);
	/* No bare LF or CR in the head. */
	for (const char *p = buf; p < head_end; p++) {
		if (*p == '\r')
			assert_int_equal(p[1], '\n');
		if (*p == '\n')
			assert_int_equal(p[-1], '\r');
	}
}

static void
test_request_no_body(void **state)
{
	struct url u;
	struct err err = { 0 };
	struct http_request req = {
		.method = "GET",
		.url = &u,
		.user_agent = "ua",
	};
	char buf[1024], v[64];
	size_t len;

	assert_int_equal(url_parse(&u, "http://[::1]:8080", &err), 0);
	write_request(&req, buf, sizeof buf, &len);
	assert_true(strncmp(buf, "GET / HTTP/1.1\r\n", 16) == 0);
	assert_header(buf, "Host", "[::1]:8080");
	assert_false(request_header(buf, "Content-Type", v, sizeof v));
	assert_false(request_header(buf, "Content-Length", v, sizeof v));
	assert_int_equal(len, (size_t)(strstr(buf, "\r\n\r\n") + 4 - buf));
}

/* A header value with CR or LF would let it forge headers: refused. */
static void
test_request_injection(void **state)
{
	static const char *const values[] = {
		"a\r\nX-Evil: 1",
		"a\nb",
		"a\rb",
		"\r\n",
	};
	struct url u;
	struct err err = { 0 };
	char buf[1024];
	size_t len;

	assert_int_equal(url_parse(&u, "https://h/t", &err), 0);
	for (size_t i = 0; i < ARRAY_LEN(values); i++) {
		const struct http_header extra = { "X-A", values[i] };
		const struct http_request base = {
			.method = "POST",
			.url = &u,
			.user_agent = "ua",
			.content_type = "text/plain",
			.body = "x",
			.body_len = 1,
		};
		struct http_request req = base;

		req.extra = &extra;
		req.extra_count = 1;
		if (http_request_write(&req, buf, sizeof buf, &len, &err) == 0)
			fail_msg("extra header value %zu accepted", i);
		req = base;
		req.user_agent = values[i];
		if (http_request_write(&req, buf, sizeof buf, &len, &err) == 0)
			fail_msg("User-Agent value %zu accepted", i);
		req = base;
		req.content_type = values[i];
		if (http_request_write(&req, buf, sizeof buf, &len, &err) == 0)
			fail_msg("Content-Type value %zu accepted", i);
	}
}

static void
test_request_no_room(void **state)
{
	struct url u;
	struct err err = { 0 };
	struct http_request req = {
		.method = "POST",
		.url = &u,
		.content_type = "application/x-www-form-urlencoded",
		.user_agent = "ua",
		.body = "k=v",
		.body_len = 3,
	};
	char full[1024], buf[1024];
	size_t len, n;

	assert_int_equal(url_parse(&u, "https://h/t", &err), 0);
	write_request(&req, full, sizeof full, &len);
	for (size_t cap = 0; cap < len; cap++)
		assert_int_equal(http_request_write(&req, buf, cap, &n, &err),
		    -1);
	/* Room to spare changes nothing. */
	assert_int_equal(http_request_write(&req, buf, len + 1, &n, &err), 0);
	assert_int_equal(n, len);
	assert_memory_equal(buf, full, len);
}

/* ---- the response reader ---- */

/* How a feed ended. */
enum end { END_DONE, END_FAIL, END_STALL };

struct outcome {
	enum end end;
	bool done_before_eof; /* finished without needing the EOF */
	int status;
	char content_type[128];
	char location[512];
	char retry_after[64];
	char *body; /* a copy, malloc'd */
	size_t body_len;
	enum err_kind kind;
	char msg[ERR_MSG_MAX];
};

/* Split sizes: 0 = whole, 1 = byte by byte, else a seed for random
 * pieces of 1..64 bytes. */
static size_t
next_piece(uint32_t *rng, size_t split)
{
	if (split <= 1)
		return split == 0 ? SIZE_MAX : 1;
	*rng = *rng * 1103515245u + 12345u;
	return 1 + (*rng >> 16) % 64;
}

static void
feed(const char *in, size_t len, size_t cap, size_t split, struct outcome *o)
{
	char *buf = malloc(cap);
	struct http_reader r;
	struct http_response resp;
	struct err err = { 0 };
	enum http_step step = HTTP_MORE;
	uint32_t rng = (uint32_t)split;
	size_t off = 0;

	assert_non_null(buf);
	memset(o, 0, sizeof *o);
	memset(&resp, 0, sizeof resp);
	http_reader_init(&r, buf, cap, &resp);
	while (step == HTTP_MORE && off < len) {
		size_t avail, n = next_piece(&rng, split);
		char *space = http_reader_space(&r, &avail);

		if (avail == 0) {
			o->end = END_STALL;
			free(buf);
			return;
		}
		if (n > avail)
			n = avail;
		if (n > len - off)
			n = len - off;
		memcpy(space, in + off, n);
		off += n;
		step = http_reader_commit(&r, n, &err);
	}
	o->done_before_eof = step == HTTP_DONE;
	if (step == HTTP_MORE) {
		step = http_reader_commit(&r, 0, &err);
		/* After the end of the stream there is nothing to wait for. */
		assert_int_not_equal(step, HTTP_MORE);
	}
	if (step == HTTP_FAIL) {
		o->end = END_FAIL;
		o->kind = err.kind;
		memcpy(o->msg, err.msg, sizeof o->msg);
	} else {
		o->end = END_DONE;
		o->status = resp.status;
		memcpy(o->content_type, resp.content_type,
		    sizeof o->content_type);
		memcpy(o->location, resp.location, sizeof o->location);
		memcpy(o->retry_after, resp.retry_after, sizeof o->retry_after);
		o->body_len = resp.body_len;
		o->body = malloc(resp.body_len + 1);
		assert_non_null(o->body);
		if (resp.body_len > 0)
			memcpy(o->body, resp.body, resp.body_len);
	}
	free(buf);
}

static const char *const end_names[] = { "done", "fail", "stall" };

static void
assert_same(const struct outcome *a, const struct outcome *b, const char *how)
{
	if (a->end != b->end)
		fail_msg("%s: %s, whole: %s (%s)", how, end_names[b->end],
		    end_names[a->end], a->end == END_FAIL ? a->msg : b->msg);
	assert_int_equal(a->done_before_eof, b->done_before_eof);
	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->status, b->status);
	assert_string_equal(a->content_type, b->content_type);
	assert_string_equal(a->location, b->location);
	assert_string_equal(a->retry_after, b->retry_after);
	assert_int_equal(a->body_len, b->body_len);
	if (a->body_len > 0)
		assert_memory_equal(a->body, b->body, a->body_len);
}

/*
 * Feed `in` whole, byte by byte and in random pieces into a reader of
 * HTTP_READER_BUF bytes; all must agree. Returns the whole-feed outcome,
 * which the caller frees with outcome_free().
 */
static void
read_all_ways(const char *in, size_t len, struct outcome *o)
{
	static const size_t splits[] = { 1, 7, 1234, 99991 };

	feed(in, len, HTTP_READER_BUF, 0, o);
	for (size_t i = 0; i < ARRAY_LEN(splits); i++) {
		struct outcome other;
		char how[32];

		feed(in, len, HTTP_READER_BUF, splits[i], &other);
		snprintf(how, sizeof how, "split %zu", splits[i]);
		assert_same(o, &other, how);
		free(other.body);
	}
}

static void
outcome_free(struct outcome *o)
{
	free(o->body);
	o->body = NULL;
}

static void
expect_body(const char *in, size_t len, int status, const char *body,
    size_t body_len, bool before_eof)
{
	struct outcome o;

	read_all_ways(in, len, &o);
	if (o.end != END_DONE)
		fail_msg("%s: %s", end_names[o.end], o.msg);
	assert_int_equal(o.status, status);
	assert_int_equal(o.body_len, body_len);
	if (body_len > 0)
		assert_memory_equal(o.body, body, body_len);
	/* Framed bodies end by themselves: a server may keep the
	 * connection open after them. */
	assert_int_equal(o.done_before_eof, before_eof);
	outcome_free(&o);
}

static void
expect_fail(const char *in, size_t len)
{
	struct outcome o;

	read_all_ways(in, len, &o);
	if (o.end != END_FAIL)
		fail_msg("%s, status %d, body %zu bytes", end_names[o.end],
		    o.status, o.body_len);
	assert_int_equal(o.kind, ERR_HTTP);
	assert_true(o.msg[0] != '\0');
	assert_printable(o.msg);
	outcome_free(&o);
}

#define EXPECT_BODY(in, status, body, before_eof) \
	expect_body(LIT(in), (status), LIT(body), (before_eof))
#define EXPECT_FAIL(in) expect_fail(LIT(in))

static void
test_content_length(void **state)
{
	EXPECT_BODY("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 200,
	    "hello", true);
	EXPECT_BODY("HTTP/1.1 200 OK\r\ncontent-length:0\r\n\r\n", 200, "",
	    true);
	EXPECT_BODY("HTTP/1.1 400 Bad Request\r\nCONTENT-LENGTH:   2   \r\n"
	            "\r\n{}",
	    400, "{}", true);
	/* The same value twice is one length. */
	EXPECT_BODY("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
	            "Content-Length: 2\r\n\r\nok",
	    200, "ok", true);
	/* Bytes past the length are not part of the body. */
	EXPECT_BODY("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA", 200,
	    "ok", true);
	/* Binary bodies are bodies. */
	EXPECT_BODY("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\na\0b", 200,
	    "a\0b", true);
	EXPECT_BODY("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, "ok",
	    true);
}

static void
test_headers(void **state)
{
	struct outcome o;

	read_all_ways(LIT("HTTP/1.1 429 Too Many Requests\r\n"
	                  "content-type:application/json; charset=utf-8 \r\n"
	                  "RETRY-AFTER: 120\r\nLocation:\t/elsewhere\r\n"
	                  "X-Empty:\r\nContent-Length: 2\r\n\r\n{}"),
	    &o);
	assert_int_equal(o.end, END_DONE);
	assert_int_equal(o.status, 429);
	assert_string_equal(o.content_type, "application/json; charset=utf-8");
	assert_string_equal(o.retry_after, "120");
	assert_string_equal(o.location, "/elsewhere");
	outcome_free(&o);

	/* Reason phrases may be empty or hold any text. */
	EXPECT_BODY("HTTP/1.1 204 \r\n\r\n", 204, "", true);
	EXPECT_BODY("HTTP/1.1 200 Very OK: \x80\xff\r\nContent-Length: 1\r\n"
	            "\r\nx",
	    200, "x", true);
}

static void
test_chunked(void **state)
{
	EXPECT_BODY("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	            "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
	    200, "hello world", true);
	/* Upper and lower case hex, leading zeros, extensions, trailers. */
	EXPECT_BODY("HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\n"
	            "000A;name=value\r\n0123456789\r\n"
	            "b ; a=\"q;x\" ; b\r\nabcdefghijk\r\n"
	            "0;last\r\nX-Trailer: 1\r\nX-Other: 2\r\n\r\n",
	    200, "0123456789abcdefghijk", true);
	EXPECT_BODY("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	            "0\r\n\r\n",
	    200, "", true);
}

static void
test_read_to_close(void **state)
{
	EXPECT_BODY("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n"
	            "until the end",
	    200, "until the end", false);
	EXPECT_BODY("HTTP/1.1 500 Oops\r\n\r\n", 500, "", false);
}

static void
test_interim(void **state)
{
	EXPECT_BODY(
	    "HTTP/1.1 100 Continue\r\n\r\n"
	    "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
	    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
	    200, "ok", true);
	/* Five, Go's limit, are followed; a sixth is refused. */
	EXPECT_BODY("HTTP/1.1 100 Continue\r\n\r\n"
	            "HTTP/1.1 100 Continue\r\n\r\n"
	            "HTTP/1.1 100 Continue\r\n\r\n"
	            "HTTP/1.1 100 Continue\r\n\r\n"
	            "HTTP/1.1 100 Continue\r\n\r\n"
	            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
	    200, "ok", true);
	EXPECT_FAIL("HTTP/1.1 100 Continue\r\n\r\n"
	            "HTTP/1.1 100 Continue\r\n\r\n"
	            "HTTP/1.1 100 Continue\r\n\r\n"
	            "HTTP/1.1 100 Continue\r\n\r\n"
	            "HTTP/1.1 100 Continue\r\n\r\n"
	            "HTTP/1.1 100 Continue\r\n\r\n"
	            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
}

static void
test_no_body(void **state)
{
	/* 204 and 304 end at the headers whatever they say. */
	EXPECT_BODY("HTTP/1.1 204 No Content\r\n\r\n", 204, "", true);
	EXPECT_BODY("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
	    304, "", true);
}

static void
test_malformed_head(void **state)
{
	EXPECT_FAIL("");
	EXPECT_FAIL("HTTP/1.1 200 OK\r\nContent-Le");
	EXPECT_FAIL("HTTP/1.1 200 OK\r\n");
	EXPECT_FAIL("HTP/1.1 200 OK\r\n\r\n");
	EXPECT_FAIL("ICY 200 OK\r\n\r\n");
	EXPECT_FAIL("http/1.1 200 OK\r\n\r\n");
	EXPECT_FAIL("HTTP/1.1 20 OK\r\n\r\n");
	EXPECT_FAIL("HTTP/1.1 2000 OK\r\n\r\n");
	EXPECT_FAIL("HTTP/1.1 2x0 OK\r\n\r\n");
	EXPECT_FAIL("HTTP/1.1 -20 OK\r\n\r\n");
	EXPECT_FAIL("HTTP/1.1 099 OK\r\n\r\n");
	EXPECT_FAIL("HTTP/1.1\r\n\r\n");
	/* A reason phrase is text: no bare CR or control byte hides in it. */
	EXPECT_FAIL("HTTP/1.1 200 OK\rContent-Length: 5\r\n\r\nhello");
	EXPECT_FAIL("HTTP/1.1 200 O\x1bK\r\nContent-Length: 0\r\n\r\n");
	EXPECT_FAIL("<html>hello</html>\r\n\r\n");
	EXPECT_FAIL("HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n");
	EXPECT_FAIL("HTTP/1.1 200 OK\r\n: empty name\r\n\r\n");
	EXPECT_FAIL("HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n"
	            "Content-Length: 0\r\n\r\n");
	EXPECT_FAIL("HTTP/1.1 200 OK\r\nX-A: 1\r\n\tfolded\r\n"
	            "Content-Length: 0\r\n\r\n");
	EXPECT_FAIL(
	    "HTTP/1.1 200 OK\r\nX-A: a\0b\r\nContent-Length: 0\r\n\r\n");
	EXPECT_FAIL("HTTP/1.1 200 O\0K\r\nContent-Length: 0\r\n\r\n");
	EXPECT_FAIL("HTTP/1.1 200 OK\r\nX\0: a\r\nContent-Length: 0\r\n\r\n");
}

static void
test_bad_framing(void **state)
{
	EXPECT_FAIL("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
	            "Content-Length: 3\r\n\r\nabc");
	EXPECT_FAIL("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
	            "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
	EXPECT_FAIL("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	            "Content-Length: 5\r\n\r\n0\r\n\r\n");
	EXPECT_FAIL("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n");
	EXPECT_FAIL("HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\nx");
	EXPECT_FAIL("HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n");
	EXPECT_FAIL("HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n");
	EXPECT_FAIL("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n");
	EXPECT_FAIL("HTTP/1.1 200 OK\r\nContent-Length: "
	            "18446744073709551617\r\n\r\n");
	EXPECT_FAIL("HTTP/1.1 200 OK\r\nContent-Length: "
	            "99999999999999999999999999999\r\n\r\n");
	/* EOF before the length is reached is truncation. */
	EXPECT_FAIL("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort");
	EXPECT_FAIL("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n");
}

static void
test_bad_chunks(void **state)
{
#define CHUNKED "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	EXPECT_FAIL(CHUNKED "FFFFFFFFFFFFFFFFF\r\n");
	EXPECT_FAIL(CHUNKED "10000000000000000\r\nx");
	EXPECT_FAIL(CHUNKED "FFFFFFFFFFFFFFFF\r\nx");
	EXPECT_FAIL(CHUNKED "-5\r\nhello\r\n0\r\n\r\n");
	EXPECT_FAIL(CHUNKED "+5\r\nhello\r\n0\r\n\r\n");
	EXPECT_FAIL(CHUNKED "0x5\r\nhello\r\n0\r\n\r\n");
	EXPECT_FAIL(CHUNKED "5x\r\nhello\r\n0\r\n\r\n");
	EXPECT_FAIL(CHUNKED "g\r\n0\r\n\r\n");
	EXPECT_FAIL(CHUNKED "\r\nhello\r\n0\r\n\r\n");
	EXPECT_FAIL(CHUNKED " 5\r\nhello\r\n0\r\n\r\n");
	/* The data must end with CRLF. */
	EXPECT_FAIL(CHUNKED "5\r\nhelloXY0\r\n\r\n");
	/* EOF anywhere before the last chunk is truncation. */
	EXPECT_FAIL(CHUNKED);
	EXPECT_FAIL(CHUNKED "5\r\nhel");
	EXPECT_FAIL(CHUNKED "5\r\nhello\r\n");
	EXPECT_FAIL(CHUNKED "5\r\nhello\r\n6\r\n worl");
	EXPECT_FAIL(CHUNKED "5");
#undef CHUNKED
}

/* A response of `n` body bytes framed by `framing`, malloc'd. */
static char *
big_response(enum http_framing framing, size_t n, size_t *len)
{
	size_t cap = n * 2 + 4096, off;
	char *p = malloc(cap);

	assert_non_null(p);
	off = (size_t)snprintf(p, cap, "HTTP/1.1 200 OK\r\n");
	if (framing == HTTP_FRAME_LENGTH)
		off += (size_t)snprintf(p + off, cap - off,
		    "Content-Length: %zu\r\n\r\n", n);
	else if (framing == HTTP_FRAME_CHUNKED)
		off += (size_t)snprintf(p + off, cap - off,
		    "Transfer-Encoding: chunked\r\n\r\n");
	else
		off += (size_t)snprintf(p + off, cap - off, "\r\n");
	for (size_t done = 0; done < n;) {
		/* Odd-sized chunks, so that chunk edges land anywhere. */
		size_t k = n - done < 4093 ? n - done : 4093;

		if (framing == HTTP_FRAME_CHUNKED)
			off += (size_t)snprintf(p + off, cap - off, "%zx\r\n",
			    k);
		for (size_t i = 0; i < k; i++)
			p[off++] = (char)('a' + (done + i) % 26);
		if (framing == HTTP_FRAME_CHUNKED)
			off += (size_t)snprintf(p + off, cap - off, "\r\n");
		done += k;
	}
	if (framing == HTTP_FRAME_CHUNKED)
		off += (size_t)snprintf(p + off, cap - off, "0\r\n\r\n");
	*len = off;
	return p;
}

static void
test_body_limit(void **state)
{
	static const enum http_framing framings[] = {
		HTTP_FRAME_LENGTH,
		HTTP_FRAME_CHUNKED,
		HTTP_FRAME_CLOSE,
	};

	for (size_t f = 0; f < ARRAY_LEN(framings); f++) {
		size_t len;
		char *in = big_response(framings[f], HTTP_BODY_MAX, &len);
		struct outcome o;

		read_all_ways(in, len, &o);
		if (o.end != END_DONE)
			fail_msg("framing %d: %s: %s", framings[f],
			    end_names[o.end], o.msg);
		assert_int_equal(o.body_len, HTTP_BODY_MAX);
		for (size_t i = 0; i < o.body_len; i++)
			assert_int_equal(o.body[i], 'a' + i % 26);
		outcome_free(&o);
		free(in);

		in = big_response(framings[f], HTTP_BODY_MAX + 1, &len);
		expect_fail(in, len);
		free(in);
	}
}

static void
test_header_limit(void **state)
{
	size_t cap = HTTP_HEADERS_MAX * 2, off;
	char *in = malloc(cap);
	struct outcome o;

	assert_non_null(in);
	/* Well under the limit, in many lines. */
	off = (size_t)snprintf(in, cap, "HTTP/1.1 200 OK\r\n");
	while (off < HTTP_HEADERS_MAX - 200)
		off += (size_t)snprintf(in + off, cap - off,
		    "X-Filler-%05zu: %s\r\n", off,
		    "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv");
	off += (size_t)snprintf(in + off, cap - off,
	    "Content-Length: 2\r\n\r\nok");
	read_all_ways(in, off, &o);
	if (o.end != END_DONE)
		fail_msg("%s: %s", end_names[o.end], o.msg);
	assert_int_equal(o.body_len, 2);
	outcome_free(&o);

	/* Over it: one line. */
	off = (size_t)snprintf(in, cap, "HTTP/1.1 200 OK\r\nX-Big: ");
	memset(in + off, 'v', HTTP_HEADERS_MAX);
	off += HTTP_HEADERS_MAX;
	off += (size_t)snprintf(in + off, cap - off,
	    "\r\nContent-Length: 0\r\n\r\n");
	expect_fail(in, off);

	/* Over it, and never ending. */
	off = (size_t)snprintf(in, cap, "HTTP/1.1 200 OK\r\n");
	memset(in + off, 'v', cap - off);
	expect_fail(in, cap);
	free(in);
}

static void
test_chunk_line_limit(void **state)
{
	size_t cap = HTTP_CHUNK_LINE_MAX * 4, off;
	char *in = malloc(cap);

	assert_non_null(in);
	off = (size_t)snprintf(in, cap,
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;e=");
	memset(in + off, 'x', HTTP_CHUNK_LINE_MAX * 2);
	off += HTTP_CHUNK_LINE_MAX * 2;
	off += (size_t)snprintf(in + off, cap - off, "\r\nhello\r\n0\r\n\r\n");
	expect_fail(in, off);
	free(in);
}

/* ---- http_call over a scripted non-blocking stream ---- */

struct script {
	char sent[256];
	size_t sent_len;
	const char *in; /* what the server answers */
	size_t in_len, off;
	size_t piece;             /* bytes per read and per write */
	enum err_kind fail_write; /* ERR_NONE: succeed */
	enum err_kind fail_read;  /* once `in` is used up; ERR_NONE: EOF */
	unsigned calls;           /* every other call would block */
	bool flushed;
};

/* Every other call says "not ready", as a socket might. */
static bool
would_block(struct script *sc, short *events, short ev)
{
	if (sc->calls++ % 2 == 0)
		return false;
	*events = ev;
	return true;
}

static ssize_t
script_send(void *ctx, const void *buf, size_t len, short *events,
    struct err *err)
{
	struct script *sc = ctx;

	if (sc->fail_write != ERR_NONE)
		return err_set(err, sc->fail_write, "peer went away");
	if (would_block(sc, events, POLLOUT))
		return STREAM_AGAIN;
	if (len > sc->piece)
		len = sc->piece;
	assert_true(len > 0 && len <= sizeof sc->sent - sc->sent_len);
	memcpy(sc->sent + sc->sent_len, buf, len);
	sc->sent_len += len;
	return (ssize_t)len;
}

static int
script_flush(void *ctx, short *events, struct err *err)
{
	struct script *sc = ctx;

	if (would_block(sc, events, POLLOUT))
		return STREAM_AGAIN;
	sc->flushed = true;
	return 0;
}

static ssize_t
script_recv(void *ctx, void *buf, size_t cap, short *events, struct err *err)
{
	struct script *sc = ctx;
	size_t n = sc->in_len - sc->off;

	/* Nothing is read before the whole request is on the wire, and the
	 * reader never asks for nothing: that reads as EOF. */
	assert_true(sc->flushed);
	assert_true(cap > 0);
	if (would_block(sc, events, POLLIN))
		return STREAM_AGAIN;
	if (n == 0 && sc->fail_read != ERR_NONE)
		return err_set(err, sc->fail_read, "deadline passed");
	if (n > sc->piece)
		n = sc->piece;
	if (n > cap)
		n = cap;
	memcpy(buf, sc->in + sc->off, n);
	sc->off += n;
	return (ssize_t)n;
}

static int
roundtrip(struct script *sc, size_t cap, struct http_response *resp,
    struct err *err)
{
	static const char req[] = "POST / HTTP/1.1\r\nHost: h\r\n\r\n";
	struct stream s = { script_send, script_flush, script_recv, sc };
	struct http_reader r;
	struct http_call call;
	enum http_step st;
	char *buf = malloc(cap);
	short events = 0;

	assert_non_null(buf);
	http_reader_init(&r, buf, cap, resp);
	http_call_init(&call, req, sizeof req - 1, &r);
	while ((st = http_call_step(&call, &s, &events, err)) == HTTP_MORE)
		assert_true(events == POLLIN || events == POLLOUT);
	if (st == HTTP_DONE) {
		assert_int_equal(sc->sent_len, sizeof req - 1);
		assert_memory_equal(sc->sent, req, sizeof req - 1);
		/* resp->body points into buf: check it before it goes. */
		assert_int_equal(resp->body_len, 5);
		assert_memory_equal(resp->body, "hello", 5);
	}
	free(buf);
	return st == HTTP_DONE ? 0 : -1;
}

static const char hello[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

static void
test_roundtrip(void **state)
{
	struct script sc = { .in = hello,
		.in_len = sizeof hello - 1,
		.piece = 3,
		.fail_read = ERR_TIMEOUT };
	struct http_response resp;
	struct err err = { 0 };

	/* Framed by its length: done without waiting for more. */
	assert_int_equal(roundtrip(&sc, HTTP_READER_BUF, &resp, &err), 0);
	assert_int_equal(resp.status, 200);
	assert_int_equal(sc.off, sc.in_len);
}

/* A server that sends 100 Continue for ever; counts the reads. */
static ssize_t
endless_recv(void *ctx, void *buf, size_t cap, short *events, struct err *err)
{
	static const char head[] =
	    "HTTP/1.1 200 OK\r\nContent-Length: 60000\r\n\r\n";
	size_t *reads = ctx;

	/* The head, then the body a byte at a time, as a drip would. */
	if ((*reads)++ == 0) {
		memcpy(buf, head, sizeof head - 1);
		return (ssize_t)(sizeof head - 1);
	}
	memset(buf, 'x', 1);
	return 1;
}

static ssize_t
sink_send(void *ctx, const void *buf, size_t len, short *events,
    struct err *err)
{
	return (ssize_t)len;
}

static int
sink_flush(void *ctx, short *events, struct err *err)
{
	return 0;
}

static void
test_a_long_drip_yields(void **state)
{
	static const char req[] = "POST / HTTP/1.1\r\nHost: h\r\n\r\n";
	size_t reads = 0;
	struct stream s = { sink_send, sink_flush, endless_recv, &reads };
	struct http_response resp;
	struct http_reader r;
	struct http_call call;
	struct err err = { 0 };
	short events = 0;
	char *buf = malloc(HTTP_READER_BUF);

	assert_non_null(buf);
	http_reader_init(&r, buf, HTTP_READER_BUF, &resp);
	/* The call gives the caller its turn after a few reads, asking to be
	 * called again at once, instead of reading for as long as the server
	 * has bytes. */
	http_call_init(&call, req, sizeof req - 1, &r);
	assert_int_equal(http_call_step(&call, &s, &events, &err), HTTP_MORE);
	assert_int_equal(reads, 16);
	assert_int_equal(events, 0);
	assert_int_equal(http_call_step(&call, &s, &events, &err), HTTP_MORE);
	assert_int_equal(reads, 32);
	free(buf);
}

static void
test_roundtrip_errors(void **state)
{
	struct script sc = { .in = hello,
		.in_len = sizeof hello - 1,
		.piece = 200 };
	struct http_response resp;
	struct err err = { 0 };

	/* A response larger than the buffer is refused, not waited on. */
	assert_int_equal(roundtrip(&sc, 32, &resp, &err), -1);
	assert_int_equal(err.kind, ERR_HTTP);

	sc = (struct script){ .in = hello,
		.in_len = 20,
		.piece = 7,
		.fail_read = ERR_TIMEOUT };
	assert_int_equal(roundtrip(&sc, HTTP_READER_BUF, &resp, &err), -1);
	assert_err(&err, ERR_TIMEOUT, "deadline passed");

	sc = (struct script){ .in = hello, .in_len = 20, .piece = 7 };
	assert_int_equal(roundtrip(&sc, HTTP_READER_BUF, &resp, &err), -1);
	assert_int_equal(err.kind, ERR_HTTP);

	sc = (struct script){ .fail_write = ERR_CONNECT, .piece = 1 };
	assert_int_equal(roundtrip(&sc, HTTP_READER_BUF, &resp, &err), -1);
	assert_err(&err, ERR_CONNECT, "peer went away");
	assert_int_equal(sc.off, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_post),
		cmocka_unit_test(test_request_no_body),
		cmocka_unit_test(test_request_injection),
		cmocka_unit_test(test_request_no_room),
		cmocka_unit_test(test_content_length),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_read_to_close),
		cmocka_unit_test(test_interim),
		cmocka_unit_test(test_a_long_drip_yields),
		cmocka_unit_test(test_no_body),
		cmocka_unit_test(test_malformed_head),
		cmocka_unit_test(test_bad_framing),
		cmocka_unit_test(test_bad_chunks),
		cmocka_unit_test(test_body_limit),
		cmocka_unit_test(test_header_limit),
		cmocka_unit_test(test_chunk_line_limit),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_roundtrip_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
