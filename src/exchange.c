/*
 * exchange.c: one RFC 8693 token exchange.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <poll.h>
#include <unistd.h>

#include "event.h"
#include "exchange.h"
#include "json.h"

#define GRANT_TYPE "urn:ietf:params:oauth:grant-type:token-exchange"
/* Larger lifetimes are nonsense; the schedule caps them anyway. */
#define EXPIRES_IN_MAX (10ull * 365 * 24 * 3600)

static int
build_form(const struct config *cfg, char *form_buf, size_t cap,
    const char *subject, size_t len, size_t *form_len)
{
	*form_len = 0;
	/* Keys in the order Go's url.Values.Encode sorts them. */
	if (cfg->audience != NULL &&
	    form_append(form_buf, cap, form_len, "audience", cfg->audience,
	        strlen(cfg->audience)) == -1)
		return -1;
	return form_append(form_buf, cap, form_len, "grant_type", GRANT_TYPE,
	           strlen(GRANT_TYPE)) == -1 ||
	        form_append(form_buf, cap, form_len, "subject_token", subject,
	            len) == -1 ||
	        form_append(form_buf, cap, form_len, "subject_token_type",
	            cfg->subject_token_type,
	            strlen(cfg->subject_token_type)) == -1 ?
	    -1 :
	    0;
}

static int
build_request(struct exchange *x, const char *subject, size_t len,
    struct err *err)
{
	static const struct http_header headers[] = {
		{ "Accept", "application/json" },
		{ "Cache-Control", "no-store" },
	};
	struct http_request req;

	if (build_form(x->cfg, x->form, sizeof x->form, subject, len,
	        &x->form_len) == -1)
		return err_set(err, ERR_CONFIG,
		    "the request form is larger than %zu bytes",
		    sizeof x->form);
	memset(&req, 0, sizeof req);
	req.method = "POST";
	req.url = &x->cfg->url;
	req.user_agent = "tokenbridge-sidecar/" TB_VERSION;
	req.content_type = "application/x-www-form-urlencoded";
	req.extra = headers;
	req.extra_count = sizeof headers / sizeof headers[0];
	req.body = x->form;
	req.body_len = x->form_len;
	return http_request_write(&req, x->request, sizeof x->request,
	    &x->req_len, err);
}

/* Server text for a log line: control characters dropped, bounded. */
static void
clean_text(char *out, size_t cap, const char *in, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 1 < cap; i++)
		if ((unsigned char)in[i] >= 0x20 && in[i] != 0x7f)
			out[o++] = in[i];
	out[o] = '\0';
}

/* Copy an optional string member into out; absent or odd leaves "". */
static void
optional_string(const struct json_doc *d, const char *key, char *out,
    size_t cap)
{
	char tmp[EXCHANGE_TEXT_MAX + 1];
	size_t len;
	int i = json_member(d, key);

	out[0] = '\0';
	if (i >= 0 && json_string_prefix(d, i, tmp, sizeof tmp, &len) == 0)
		clean_text(out, cap, tmp, len);
}

/* Parse the body as a JSON object, or say it is not `what` it should be. */
static int
body_object(const struct http_response *resp, struct json_doc *d,
    jsmntok_t *tok, enum err_kind kind, const char *what, struct err *err)
{
	struct err ignored;
	char ctype[64];

	if (json_parse(d, resp->body, resp->body_len, tok, JSON_TOKENS_MAX,
	        &ignored) == 0 &&
	    json_is_object(d))
		return 0;
	clean_text(ctype, sizeof ctype, resp->content_type,
	    strlen(resp->content_type));
	return err_set(err, kind,
	    "the exchange server answered HTTP %d with a "
	    "%zu-byte body that is not %s (Content-Type \"%s\")",
	    resp->status, resp->body_len, what, ctype);
}

static int
status_error(const struct http_response *resp, struct err *err)
{
	jsmntok_t tok[JSON_TOKENS_MAX];
	struct json_doc d;
	char code[64], desc[EXCHANGE_TEXT_MAX + 1], loc[EXCHANGE_TEXT_MAX + 1];

	if (resp->status >= 300 && resp->status < 400) {
		clean_text(loc, sizeof loc, resp->location,
		    strlen(resp->location));
		return err_set(err, ERR_STATUS,
		    "the exchange server answered "
		    "HTTP %d, a redirect to \"%s\": redirects are not "
		    "followed; set EXCHANGE_URL to the final URL",
		    resp->status, loc);
	}
	if (body_object(resp, &d, tok, ERR_STATUS, "an OAuth error", err) == -1)
		return -1;
	optional_string(&d, "error", code, sizeof code);
	optional_string(&d, "error_description", desc, sizeof desc);
	return err_set(err, ERR_STATUS,
	    "the exchange server answered HTTP "
	    "%d: error=\"%s\" error_description=\"%s\"",
	    resp->status, code[0] ? code : "(none)", desc);
}

static int
access_token(const struct json_doc *d, struct exchange_result *res,
    struct err *err)
{
	size_t i;
	int t = json_member(d, "access_token");

	if (t == -1)
		return err_set(err, ERR_RESPONSE,
		    "the exchange response has no access_token");
	if (t == -2)
		return err_set(err, ERR_RESPONSE,
		    "the exchange response has "
		    "more than one access_token: refusing to pick one");
	if (json_type(d, t) != JSMN_STRING)
		return err_set(err, ERR_RESPONSE,
		    "the exchange response's access_token is not a string");
	if (json_string(d, t, res->access_token, sizeof res->access_token,
	        &res->access_token_len) == -1)
		return err_set(err, ERR_RESPONSE,
		    "the exchange response's "
		    "access_token is longer than %zu bytes",
		    sizeof res->access_token - 1);
	if (res->access_token_len == 0)
		return err_set(err, ERR_RESPONSE,
		    "the exchange response's access_token is empty");
	for (i = 0; i < res->access_token_len; i++)
		if ((unsigned char)res->access_token[i] < 0x20 ||
		    res->access_token[i] == 0x7f)
			return err_set(err, ERR_RESPONSE,
			    "the exchange "
			    "response's access_token holds a control "
			    "character");
	return 0;
}

static int
expires_in(const struct json_doc *d, struct exchange_result *res,
    struct err *err)
{
	int t = json_member(d, "expires_in");

	res->has_expires_in = false;
	if (t == -1 ||
	    (t >= 0 && json_type(d, t) == JSMN_PRIMITIVE &&
	        d->text[d->tok[t].start] == 'n'))
		return 0;
	if (t == -2 || json_uint(d, t, EXPIRES_IN_MAX, &res->expires_in) == -1)
		return err_set(err, ERR_RESPONSE,
		    "the exchange response's "
		    "expires_in is not a whole number of seconds up to %llu",
		    EXPIRES_IN_MAX);
	res->has_expires_in = true;
	return 0;
}

int
exchange_parse_response(const struct http_response *resp,
    struct exchange_result *res, struct err *err)
{
	jsmntok_t tok[JSON_TOKENS_MAX];
	struct json_doc d;

	res->http_status = resp->status;
	if (http_retry_after(resp->retry_after, (int64_t)time(NULL),
	        &res->retry_after) == -1)
		res->retry_after = 0;
	res->access_token_len = 0;
	res->access_token[0] = '\0';
	if (resp->status < 200 || resp->status > 299)
		return status_error(resp, err);
	if (body_object(resp, &d, tok, ERR_RESPONSE, "a JSON object", err) ==
	    -1)
		return -1;
	if (access_token(&d, res, err) == -1 || expires_in(&d, res, err) == -1)
		return -1;
	optional_string(&d, "token_type", res->token_type,
	    sizeof res->token_type);
	optional_string(&d, "issued_token_type", res->issued_token_type,
	    sizeof res->issued_token_type);
	return 0;
}

void
exchange_init(struct exchange *x)
{
	x->phase = EXCHANGE_DONE;
	x->tls_started = false;
	x->conn.fd = -1;
	x->dial.phase = NET_IDLE;
	x->dial.pipe_fd = x->dial.fd = x->dial.child = -1;
	x->form_len = x->req_len = x->reader.high = 0;
}

int
exchange_begin(struct exchange *x, const struct config *cfg,
    const struct trust *trust, const char *subject, size_t subject_len,
    int64_t deadline, struct exchange_result *res, struct err *err)
{
	x->cfg = cfg;
	x->trust = trust;
	x->res = res;
	x->deadline = deadline;
	exchange_init(x);
	x->events = 0;
	x->conn.peer = x->dial.peer;
	x->phase = EXCHANGE_DIAL;
	res->http_status = 0;
	res->retry_after = 0;
	http_reader_init(&x->reader, x->response, sizeof x->response, &x->resp);
	if (build_request(x, subject, subject_len, err) == -1)
		return -1;
	return net_dial_start(&x->dial, cfg->url.host, cfg->url.port, deadline,
	    err);
}

void
exchange_want(const struct exchange *x, int *fd, short *events, int64_t *until)
{
	if (x->phase == EXCHANGE_DIAL) {
		net_dial_want(&x->dial, fd, events, until);
		return;
	}
	*fd = x->conn.fd;
	*events = x->events;
	*until = x->deadline;
}

/* The deadline passed while the server had the next move. */
static int
server_timeout(const struct exchange *x, struct err *err)
{
	return err_set(err, ERR_TIMEOUT,
	    "the server %s did not %s within EXCHANGE_TIMEOUT", x->conn.peer,
	    x->events == POLLOUT ? "take the request" : "answer");
}

/* Connected: TLS set up over the socket, or the socket itself. */
static int
connected(struct exchange *x, struct err *err)
{
	x->conn.fd = net_dial_take(&x->dial);
	net_dial_close(&x->dial);
	net_stream(&x->conn, &x->sock);
	x->s = &x->sock;
	http_call_init(&x->call, x->request, x->req_len, &x->reader,
	    x->deadline);
	x->phase = EXCHANGE_HTTP;
	if (!x->cfg->url.tls)
		return 0;
	x->phase = EXCHANGE_TLS;
	x->tls_started = true;
	if (tls_start(&x->tls, &x->sock, x->cfg->url.host, x->conn.peer,
	        x->trust, err) == -1)
		return -1;
	tls_stream(&x->tls, &x->tls_stream);
	x->s = &x->tls_stream;
	return 0;
}

/* Move the transport as far as it goes: EXCHANGE_MORE, EXCHANGE_OK, or
 * -1 with err set. */
static int
advance(struct exchange *x, short revents, struct err *err)
{
	enum http_step st;
	int r;

	for (;;) {
		switch (x->phase) {
		case EXCHANGE_DIAL:
			r = net_dial_step(&x->dial, revents, err);
			if (r != NET_DONE)
				return r;
			if (connected(x, err) == -1)
				return -1;
			break;
		case EXCHANGE_TLS:
			r = tls_handshake(&x->tls, &x->events, err);
			if (r != 0)
				return r == STREAM_AGAIN ? EXCHANGE_MORE : -1;
			x->phase = EXCHANGE_HTTP;
			break;
		case EXCHANGE_HTTP:
			st = http_call_step(&x->call, x->s, &x->events, err);
			if (st == HTTP_MORE)
				return EXCHANGE_MORE;
			x->phase = EXCHANGE_DONE;
			return st == HTTP_DONE ? EXCHANGE_OK : -1;
		case EXCHANGE_DONE:
		default:
			return err_set(err, ERR_SYSTEM,
			    "the exchange is not in progress");
		}
	}
}

int
exchange_step(struct exchange *x, short revents, struct err *err)
{
	int r;

	/* Past the deadline whatever the socket says: a server that keeps
	 * the socket readable must not keep the exchange alive. */
	if (x->phase != EXCHANGE_DIAL && event_now() >= x->deadline)
		return server_timeout(x, err);
	if ((r = advance(x, revents, err)) != EXCHANGE_OK)
		return r;
	exchange_close(x);
	return exchange_parse_response(&x->resp, x->res, err) == 0 ?
	    EXCHANGE_OK :
	    -1;
}

void
exchange_close(struct exchange *x)
{
	net_dial_close(&x->dial);
	if (x->conn.fd != -1)
		close(x->conn.fd);
	x->conn.fd = -1;
	/*
	 * BearSSL decrypts in place and keeps the session keys in the
	 * engine: the last record (the token) and the keys that would
	 * decrypt a capture of the request go too.
	 */
	if (x->tls_started)
		tls_clear(&x->tls);
	x->tls_started = false;
}

void
exchange_end(struct exchange *x)
{
	exchange_close(x);
	/*
	 * Leave no copy of either token behind, wiping only what was used:
	 * touching the whole buffers would make them resident.
	 */
	explicit_bzero(x->form, x->form_len);
	explicit_bzero(x->request, x->req_len);
	explicit_bzero(x->response, x->reader.high);
	exchange_init(x);
}
