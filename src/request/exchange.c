/*
 * exchange.c: one RFC 8693 token exchange.
 */
#include <string.h>
#include <time.h>

#include <poll.h>
#include <unistd.h>

#include "event.h"
#include "exchange.h"
#include "fmt.h"
#include "json.h"
#include "log.h"
#include "oauth_error.h"
#include "wipe.h"

/* Larger lifetimes are nonsense; the schedule caps them anyway. */
#define EXPIRES_IN_MAX (10ull * 365 * 24 * 3600)

#define USER_AGENT "tokenbridge-sidecar/" TB_VERSION

static int
build_request(struct exchange *x, const struct grant *g, struct err *err)
{
	struct http_header headers[] = {
		{ "Accept", "application/json" },
		{ "Cache-Control", "no-store" },
		{ NULL, NULL },
		{ NULL, NULL },
	};
	const char *basic = x->authorization + sizeof "Basic " - 1;
	struct http_request req;

	if (grant_form(g, x->form, sizeof x->form, &x->form_len,
	        x->authorization, sizeof x->authorization, err) == -1)
		return -1;
	/* A server may quote the header back: its base64 is no piece of
	 * the registered secret, so it is registered too. */
	if (x->authorization[0] != '\0')
		log_secret(LOG_SECRET_BASIC, basic, strlen(basic));
	memset(&req, 0, sizeof req);
	req.method = "POST";
	req.url = &x->cfg->url;
	req.user_agent = USER_AGENT;
	req.content_type = "application/x-www-form-urlencoded";
	req.extra = headers;
	req.extra_count = 2;
	if (x->authorization[0] != '\0') {
		headers[req.extra_count].name = "Authorization";
		headers[req.extra_count++].value = x->authorization;
	}
	/* An http:// target through a proxy: the request goes to the proxy
	 * itself, in absolute form, as Go sends it. */
	if (x->proxy != NULL && !x->proxy->tunnel) {
		req.absolute = true;
		if (x->proxy->authorization[0] != '\0') {
			headers[req.extra_count].name = "Proxy-Authorization";
			headers[req.extra_count++].value = x->proxy
			                                       ->authorization;
		}
	}
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
	char loc[EXCHANGE_TEXT_MAX + 1], text[OAUTH_ERROR_TEXT_MAX];

	if (resp->status >= 300 && resp->status < 400) {
		clean_text(loc, sizeof loc, resp->location,
		    strlen(resp->location));
		return err_set(err, ERR_STATUS,
		    "the exchange server answered "
		    "HTTP %d, a redirect to \"%s\": redirects are not "
		    "followed; set EXCHANGE_URL to the final URL",
		    resp->status, loc);
	}
	oauth_error_text(text, sizeof text, resp->content_type,
	    resp->content_encoding, resp->body, resp->body_len);
	return err_set(err, ERR_STATUS,
	    "the exchange server answered HTTP %d: %s", resp->status, text);
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

/* Nothing open, nothing to wipe. */
static void
idle(struct exchange *x)
{
	x->phase = EXCHANGE_DONE;
	x->tls_started = x->proxy_tls_started = false;
	x->connect_len = 0;
	x->conn.fd = -1;
	x->dial.phase = NET_IDLE;
	x->dial.pipe_fd = x->dial.fd = -1;
	x->form_len = x->req_len = x->reader.high = 0;
	x->authorization[0] = '\0';
}

void
exchange_init(struct exchange *x, const struct config *cfg,
    const struct trust *trust, const struct proxy *proxy,
    const struct resolver *resolver)
{
	x->cfg = cfg;
	x->resolver = resolver;
	x->trust = trust;
	x->proxy = proxy;
	idle(x);
}

int
exchange_begin(struct exchange *x, const struct grant *g,
    const struct tls_client *client, int64_t deadline,
    struct exchange_result *res, struct err *err)
{
	const struct url *hop = x->proxy != NULL ? &x->proxy->addr :
	                                           &x->cfg->url;

	x->res = res;
	x->client = client;
	x->deadline = deadline;
	idle(x);
	x->events = 0;
	x->conn.peer = x->dial.peer;
	x->phase = EXCHANGE_DIAL;
	res->http_status = 0;
	res->retry_after = 0;
	http_reader_init(&x->reader, x->response, sizeof x->response, &x->resp);
	if (build_request(x, g, err) == -1)
		return -1;
	if (net_dial_start(&x->dial, x->resolver, hop->host, hop->port,
	        deadline, err) == -1)
		return -1;
	return EXCHANGE_MORE;
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
	/* No events: a step yielded, and wants to go on at once. */
	*until = x->events == 0 ? 0 : x->deadline;
}

/* The deadline passed while the peer had the next move. */
static int
peer_timeout(const struct exchange *x, struct err *err)
{
	if (x->phase == EXCHANGE_PROXY_TLS || x->phase == EXCHANGE_CONNECT)
		return err_set(err, ERR_TIMEOUT,
		    "the proxy %s (%s) did not %s within EXCHANGE_TIMEOUT",
		    x->proxy->shown, x->proxy->variable,
		    x->phase == EXCHANGE_CONNECT ? "open the tunnel (CONNECT)" :
		                                   "finish the TLS handshake");
	return err_set(err, ERR_TIMEOUT,
	    "the server %s did not %s within EXCHANGE_TIMEOUT", x->conn.peer,
	    x->events == POLLOUT ? "take the request" : "answer");
}

/* TLS with the token service over the first hop (or the tunnel). */
static int
start_tls(struct exchange *x, struct err *err)
{
	x->phase = EXCHANGE_TLS;
	x->tls_started = true;
	if (tls_start(&x->tls, x->hop, x->cfg->url.host, x->conn.peer, x->trust,
	        x->client, err) == -1)
		return -1;
	tls_stream(&x->tls, &x->tls_stream);
	x->s = &x->tls_stream;
	return 0;
}

/* The tunnel is wanted: write the CONNECT request and expect its answer. */
static int
start_connect(struct exchange *x, struct err *err)
{
	x->phase = EXCHANGE_CONNECT;
	x->connect_sent = 0;
	proxy_reader_init(&x->connect_reader, x->proxy, x->connect_answer,
	    sizeof x->connect_answer);
	return proxy_connect_write(x->proxy, &x->cfg->url, USER_AGENT,
	    x->connect, sizeof x->connect, &x->connect_len, err);
}

/* After the first hop is up (the token service, or the proxy). */
static int
first_hop_ready(struct exchange *x, struct err *err)
{
	x->s = x->hop;
	x->phase = EXCHANGE_HTTP;
	if (x->proxy != NULL && x->proxy->tunnel)
		return start_connect(x, err);
	return x->cfg->url.tls ? start_tls(x, err) : 0;
}

/* Connected: TLS to an https:// proxy, or on to the first hop. */
static int
connected(struct exchange *x, struct err *err)
{
	x->conn.fd = net_dial_take(&x->dial);
	net_dial_close(&x->dial);
	net_stream(&x->conn, &x->sock);
	x->hop = &x->sock;
	http_call_init(&x->call, x->request, x->req_len, &x->reader);
	if (x->proxy != NULL) {
		(void)fmt_snprintf(x->via, sizeof x->via, "via %s",
		    x->proxy->shown);
		x->conn.peer = x->via;
	}
	if (x->proxy == NULL || !x->proxy->tls)
		return first_hop_ready(x, err);
	x->phase = EXCHANGE_PROXY_TLS;
	x->proxy_tls_started = true;
	if (tls_start(&x->proxy_tls, &x->sock, x->proxy->addr.host,
	        x->dial.peer, x->trust, NULL, err) == -1)
		return -1;
	tls_stream(&x->proxy_tls, &x->proxy_stream);
	x->hop = &x->proxy_stream;
	return 0;
}

/* Send the CONNECT, then read its answer: 0 once the tunnel is open,
 * STREAM_AGAIN, or -1 with err set. */
static int
tunnel(struct exchange *x, struct err *err)
{
	struct stream *s = x->hop;
	enum proxy_step st;
	size_t avail, extra;
	ssize_t n;
	char *p;
	int r;

	while (x->connect_sent < x->connect_len) {
		n = s->send(s->ctx, x->connect + x->connect_sent,
		    x->connect_len - x->connect_sent, &x->events, err);
		if (n < 0)
			return (int)n;
		x->connect_sent += (size_t)n;
		if (x->connect_sent == x->connect_len)
			/* It carried the proxy's credentials. */
			explicit_bzero(x->connect, x->connect_len);
	}
	if ((r = s->flush(s->ctx, &x->events, err)) != 0)
		return r;
	do {
		p = proxy_reader_space(&x->connect_reader, &avail);
		if ((n = s->recv(s->ctx, p, avail, &x->events, err)) < 0)
			return (int)n;
		st = proxy_reader_commit(&x->connect_reader, (size_t)n, err);
	} while (st == PROXY_MORE);
	if (st == PROXY_FAIL)
		return -1;
	if (proxy_reader_extra(&x->connect_reader, &extra) != NULL && extra > 0)
		return err_set(err, ERR_HTTP,
		    "the proxy %s (%s) sent %zu bytes after its answer to "
		    "CONNECT, before the token service could speak",
		    x->proxy->shown, x->proxy->variable, extra);
	return 0;
}

/* A step of the proxy's phases failed: say which proxy. */
static int
via_proxy(const struct exchange *x, struct err *err)
{
	if (strstr(err->msg, x->proxy->shown) != NULL)
		return -1;
	return err_wrap(err, "the proxy %s (%s)", x->proxy->shown,
	    x->proxy->variable);
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
			if (r == -1 && x->proxy != NULL)
				return via_proxy(x, err);
			if (r != NET_DONE)
				return r;
			if (connected(x, err) == -1)
				return -1;
			break;
		case EXCHANGE_PROXY_TLS:
			r = tls_handshake(&x->proxy_tls, &x->events, err);
			if (r != 0)
				return r == STREAM_AGAIN ? EXCHANGE_MORE :
				                           via_proxy(x, err);
			if (first_hop_ready(x, err) == -1)
				return -1;
			break;
		case EXCHANGE_CONNECT:
			if ((r = tunnel(x, err)) != 0)
				return r == STREAM_AGAIN ? EXCHANGE_MORE :
				                           via_proxy(x, err);
			if (start_tls(x, err) == -1)
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
		return peer_timeout(x, err);
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
	if (x->proxy_tls_started)
		tls_clear(&x->proxy_tls);
	x->tls_started = x->proxy_tls_started = false;
}

void
exchange_end(struct exchange *x)
{
	exchange_close(x);
	/*
	 * Leave no copy of either token behind, wiping only what was used
	 * (touching the rest would make it resident) and giving its pages
	 * back, so that between refreshes these buffers cost no memory.
	 */
	wipe(x->form, x->form_len);
	wipe(x->request, x->req_len);
	wipe(x->response, x->reader.high);
	wipe(x->connect, x->connect_len);
	log_secret(LOG_SECRET_BASIC, NULL, 0);
	wipe(x->authorization, strlen(x->authorization));
	idle(x);
}
