/*
 * exchange.c: one RFC 8693 token exchange.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "exchange.h"
#include "json.h"
#include "net.h"
#include "tls.h"

#define GRANT_TYPE "urn:ietf:params:oauth:grant-type:token-exchange"
/* Every byte percent-encoded, plus the keys and the grant type. */
#define FORM_MAX (3 * (EXCHANGE_SUBJECT_MAX + 2 * CONFIG_FIELD_MAX) + 512)
#define REQUEST_MAX (FORM_MAX + 4096)
/* Larger lifetimes are nonsense; the schedule caps them anyway. */
#define EXPIRES_IN_MAX (10ull * 365 * 24 * 3600)

/*
 * One exchange at a time, so the large buffers are static: they cost no
 * resident memory until touched, and nothing is allocated per refresh.
 */
static char form_buf[FORM_MAX];
static char request_buf[REQUEST_MAX];
static char response_buf[HTTP_READER_BUF];
static struct tls_conn tls;

static int
build_form(const struct config *cfg, const char *subject, size_t len,
    size_t *form_len)
{
	*form_len = 0;
	/* Keys in the order Go's url.Values.Encode sorts them. */
	if (cfg->audience != NULL &&
	    form_append(form_buf, sizeof form_buf, form_len, "audience",
	        cfg->audience, strlen(cfg->audience)) == -1)
		return -1;
	return form_append(form_buf, sizeof form_buf, form_len, "grant_type",
	           GRANT_TYPE, strlen(GRANT_TYPE)) == -1 ||
	        form_append(form_buf, sizeof form_buf, form_len,
	            "subject_token", subject, len) == -1 ||
	        form_append(form_buf, sizeof form_buf, form_len,
	            "subject_token_type", cfg->subject_token_type,
	            strlen(cfg->subject_token_type)) == -1 ?
	    -1 :
	    0;
}

static int
build_request(const struct config *cfg, const char *subject, size_t len,
    size_t *form_len, size_t *req_len, struct err *err)
{
	static const struct http_header headers[] = {
		{ "Accept", "application/json" },
		{ "Cache-Control", "no-store" },
	};
	struct http_request req;

	if (build_form(cfg, subject, len, form_len) == -1)
		return err_set(err, ERR_CONFIG,
		    "the request form is larger than %zu bytes",
		    sizeof form_buf);
	memset(&req, 0, sizeof req);
	req.method = "POST";
	req.url = &cfg->url;
	req.user_agent = "tokenbridge-sidecar/" TB_VERSION;
	req.content_type = "application/x-www-form-urlencoded";
	req.extra = headers;
	req.extra_count = sizeof headers / sizeof headers[0];
	req.body = form_buf;
	req.body_len = *form_len;
	return http_request_write(&req, request_buf, sizeof request_buf,
	    req_len, err);
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

static int
roundtrip(const struct config *cfg, const struct trust *trust,
    struct net_conn *conn, size_t req_len, struct http_reader *reader,
    struct err *err)
{
	struct stream s;

	if (cfg->url.tls) {
		if (tls_open(&tls, conn, cfg->url.host, trust, err) == -1)
			return -1;
		tls_stream(&tls, &s);
	} else {
		net_stream(conn, &s);
	}
	return http_roundtrip(&s, request_buf, req_len, reader, err);
}

int
exchange_token(const struct config *cfg, const struct trust *trust,
    const char *subject, size_t subject_len, int64_t deadline,
    struct exchange_result *res, struct err *err)
{
	struct http_response resp;
	struct http_reader reader;
	struct net_conn conn;
	size_t form_len = 0, req_len = 0;
	int rc;

	res->http_status = 0;
	res->retry_after = 0;
	http_reader_init(&reader, response_buf, sizeof response_buf, &resp);
	rc = build_request(cfg, subject, subject_len, &form_len, &req_len, err);
	if (rc == 0)
		rc = net_connect(&conn, cfg->url.host, cfg->url.port, deadline,
		    err);
	if (rc == 0) {
		rc = roundtrip(cfg, trust, &conn, req_len, &reader, err);
		net_close(&conn);
		/*
		 * BearSSL decrypts in place and keeps the session keys in the
		 * engine: the last record (the token) and the keys that would
		 * decrypt a capture of the request go too.
		 */
		tls_clear(&tls);
	}
	if (rc == 0)
		rc = exchange_parse_response(&resp, res, err);
	/*
	 * Leave no copy of either token behind, wiping only what was used:
	 * touching the whole buffers would make them resident.
	 */
	explicit_bzero(form_buf, form_len);
	explicit_bzero(request_buf, req_len);
	explicit_bzero(response_buf, reader.high);
	return rc;
}
