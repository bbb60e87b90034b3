/*
 * test_exchange.c: reading token responses, without a network.
 *
 * The response is built by hand as the HTTP reader would leave it. Beyond
 * the result, every failure is checked for what it must not say: the
 * access token, or raw bytes of a body that is not JSON.
 */
#include "unit.h"

#include "exchange.h"
#include "oauth_error.h"

/* The token planted in responses, searched for in every message. */
#define SECRET "SECRET-at-7f3a9c"
/* Past OAUTH_ERROR_WORD_MAX without a space, as a real token is. */
#define SECRET_LONG "SECRET-at-7f3a9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f"

static struct exchange_result res;

static int
parse(int status, const char *body, size_t len, struct err *err)
{
	struct http_response resp = { .status = status,
		.body = body,
		.body_len = len };

	strcpy(resp.content_type, "application/json");
	memset(&res, 0xa5, sizeof res);
	memset(err, 0, sizeof *err);
	return exchange_parse_response(&resp, &res, err);
}

static void
parse_ok(const char *body)
{
	struct err err;

	if (parse(200, body, strlen(body), &err) != 0)
		fail_msg("refused (%s): %s", err.msg, body);
}

/* A failure of `kind`, in one printable line free of the secret. */
static void
parse_fails(int status, const char *body, size_t len, enum err_kind kind,
    struct err *err)
{
	if (parse(status, body, len, err) == 0)
		fail_msg("accepted: %.*s", (int)len, body);
	assert_int_equal(err->kind, kind);
	assert_true(err->msg[0] != '\0');
	assert_true(strlen(err->msg) < ERR_MSG_MAX);
	assert_printable(err->msg);
	assert_not_contains(err->msg, SECRET);
}

#define REFUSED(body) \
	do { \
		struct err e_; \
		parse_fails(200, LIT(body), ERR_RESPONSE, &e_); \
	} while (0)

static void
test_success(void **state)
{
	parse_ok("{\"access_token\":\"" SECRET "\",\"token_type\":\"Bearer\","
	         "\"expires_in\":3600,\"issued_token_type\":"
	         "\"urn:ietf:params:oauth:token-type:access_token\","
	         "\"scope\":\"a b\",\"extra\":{\"nested\":[1,2]}}");
	assert_string_equal(res.access_token, SECRET);
	assert_int_equal(res.access_token_len, strlen(SECRET));
	assert_true(res.has_expires_in);
	assert_int_equal(res.expires_in, 3600);
	assert_string_equal(res.token_type, "Bearer");
	assert_string_equal(res.issued_token_type,
	    "urn:ietf:params:oauth:token-type:access_token");
}

static void
test_minimal(void **state)
{
	parse_ok("{\"access_token\":\"t\"}");
	assert_string_equal(res.access_token, "t");
	assert_int_equal(res.access_token_len, 1);
	assert_false(res.has_expires_in);

	/* Escapes are decoded; JSON white space is allowed anywhere. */
	parse_ok(" {\n \"access_token\" : \"a\\/b\\u002Bc\" } \n");
	assert_string_equal(res.access_token, "a/b+c");
}

static void
test_expires_in(void **state)
{
	/* Some servers send a string; a fraction is truncated. */
	parse_ok("{\"access_token\":\"t\",\"expires_in\":\"1800\"}");
	assert_true(res.has_expires_in);
	assert_int_equal(res.expires_in, 1800);

	parse_ok("{\"expires_in\":0,\"access_token\":\"t\"}");
	assert_true(res.has_expires_in);
	assert_int_equal(res.expires_in, 0);

	parse_ok("{\"access_token\":\"t\",\"expires_in\":59.9}");
	assert_true(res.has_expires_in);
	assert_int_equal(res.expires_in, 59);
}

static void
test_bad_access_token(void **state)
{
	REFUSED("{}");
	REFUSED("{\"token_type\":\"Bearer\",\"expires_in\":3600}");
	REFUSED("{\"access_token\":\"\"}");
	REFUSED("{\"access_token\":null}");
	REFUSED("{\"access_token\":12345}");
	REFUSED("{\"access_token\":true}");
	REFUSED("{\"access_token\":[\"" SECRET "\"]}");
	REFUSED("{\"access_token\":{\"v\":\"" SECRET "\"}}");
	REFUSED("{\"data\":{\"access_token\":\"" SECRET "\"}}");
	REFUSED("{\"Access_Token\":\"" SECRET "\"}");
}

/* A token is written to a file and sent in headers: no control bytes. */
static void
test_control_characters(void **state)
{
	REFUSED("{\"access_token\":\"" SECRET "\\n\"}");
	REFUSED("{\"access_token\":\"" SECRET "\\nX-Evil: 1\"}");
	REFUSED("{\"access_token\":\"" SECRET "\\r\"}");
	REFUSED("{\"access_token\":\"" SECRET "\\u0000tail\"}");
	REFUSED("{\"access_token\":\"\\u0000\"}");
	REFUSED("{\"access_token\":\"" SECRET "\\t\"}");
	REFUSED("{\"access_token\":\"" SECRET "\\u001b[31m\"}");
	REFUSED("{\"access_token\":\"" SECRET "\\u001f\"}");
	REFUSED("{\"access_token\":\"" SECRET "\\u007f\"}");
}

static void
test_duplicates(void **state)
{
	REFUSED("{\"access_token\":\"" SECRET "\",\"access_token\":\"b\"}");
	REFUSED("{\"access_token\":\"" SECRET "\","
	        "\"acc\\u0065ss_token\":\"" SECRET "\"}");
}

static void
test_not_a_token_response(void **state)
{
	REFUSED("");
	REFUSED("null");
	REFUSED("[{\"access_token\":\"" SECRET "\"}]");
	REFUSED("\"" SECRET "\"");
	REFUSED("{\"access_token\":\"" SECRET "\"");
	REFUSED("{\"access_token\":\"" SECRET "\"} trailing");
	REFUSED("<html>" SECRET "</html>");
	REFUSED("access_token=" SECRET "&token_type=bearer");
}

static void
test_token_size(void **state)
{
	size_t n = EXCHANGE_TOKEN_MAX - 1;
	char *body = malloc(n + 64);
	struct err err;
	size_t len;

	assert_non_null(body);
	/* The longest token that fits with its NUL. */
	len = (size_t)sprintf(body, "{\"access_token\":\"");
	memset(body + len, 'x', n);
	len += n;
	len += (size_t)sprintf(body + len, "\"}");
	assert_int_equal(parse(200, body, len, &err), 0);
	assert_int_equal(res.access_token_len, n);
	assert_int_equal(res.access_token[n], '\0');

	/* One more byte. */
	len = (size_t)sprintf(body, "{\"access_token\":\"");
	memset(body + len, 'x', n + 1);
	len += n + 1;
	len += (size_t)sprintf(body + len, "\"}");
	parse_fails(200, body, len, ERR_RESPONSE, &err);
	assert_not_contains(err.msg, "xxxxxxxx");
	free(body);
}

static void
test_error_response(void **state)
{
	struct err err;

	parse_fails(400,
	    LIT("{\"error\":\"invalid_grant\","
	        "\"error_description\":\"the subject token has expired\"}"),
	    ERR_STATUS, &err);
	assert_contains(err.msg, "invalid_grant");
	assert_contains(err.msg, "the subject token has expired");

	parse_fails(401, LIT("{\"error\":\"invalid_client\"}"), ERR_STATUS,
	    &err);
	assert_contains(err.msg, "invalid_client");

	/* An error status with a token in it is still an error. */
	parse_fails(500, LIT("{\"access_token\":\"" SECRET "\"}"), ERR_STATUS,
	    &err);
	parse_fails(403,
	    LIT("{\"error\":\"access_denied\","
	        "\"error_description\":\"no\",\"access_token\":\"" SECRET
	        "\"}"),
	    ERR_STATUS, &err);
	assert_contains(err.msg, "access_denied");

	parse_fails(302, LIT(""), ERR_STATUS, &err);
	parse_fails(503, LIT("{}"), ERR_STATUS, &err);
}

static size_t
longest_run(const char *s, char c)
{
	size_t run = 0, best = 0;

	for (; *s; s++) {
		run = *s == c ? run + 1 : 0;
		if (run > best)
			best = run;
	}
	return best;
}

/* Server text reaches the log only cleaned and bounded. */
static void
test_error_text_cleaned(void **state)
{
	char body[4096];
	struct err err;
	size_t n;

	parse_fails(400,
	    LIT("{\"error\":\"invalid_request\\r\\nlevel=error "
	        "msg=forged\",\"error_description\":\"line 1\\nline 2\\u001b[2J"
	        "\\u0000\\u007f end\"}"),
	    ERR_STATUS, &err);
	assert_contains(err.msg, "invalid_request");
	assert_contains(err.msg, "end");

	/* A description far longer than a log line: words, cut. */
	n = (size_t)sprintf(body,
	    "{\"error\":\"invalid_grant\",\"error_description\":\"");
	for (size_t i = 0; i < 750; i++)
		n += (size_t)sprintf(body + n, "ddd ");
	n += (size_t)sprintf(body + n, "\"}");
	parse_fails(400, body, n, ERR_STATUS, &err);
	assert_contains(err.msg, "invalid_grant");
	assert_contains(err.msg, "ddd ddd");
	assert_true(strlen(err.msg) < ERR_MSG_MAX);

	/* One long word, as a token would be: withheld, its size said. */
	n = (size_t)sprintf(body,
	    "{\"error\":\"invalid_grant\",\"error_description\":\"");
	memset(body + n, 'd', 3000);
	n += 3000;
	n += (size_t)sprintf(body + n, "\"}");
	parse_fails(400, body, n, ERR_STATUS, &err);
	assert_contains(err.msg, "invalid_grant");
	assert_contains(err.msg, "withheld");
	assert_true(longest_run(err.msg, 'd') < OAUTH_ERROR_WORD_MAX);
}

/* The status and Retry-After reach the caller, which schedules the retry. */
static void
test_retry_after(void **state)
{
	struct http_response resp = { .status = 429,
		.body = "{}",
		.body_len = 2 };
	struct err err;

	strcpy(resp.retry_after, "120");
	assert_int_equal(exchange_parse_response(&resp, &res, &err), -1);
	assert_int_equal(err.kind, ERR_STATUS);
	assert_int_equal(res.http_status, 429);
	assert_int_equal(res.retry_after, 120);

	parse_ok("{\"access_token\":\"t\"}");
	assert_int_equal(res.http_status, 200);
	assert_int_equal(res.retry_after, 0);
}

/*
 * A body that is not JSON is shown only as short printable text (a
 * gateway's "502 Bad Gateway"); one that holds what may be a credential
 * (a JWT, or a long word) is withheld, in whole.
 */
static void
test_error_body_shown_or_withheld(void **state)
{
	static const char *const bodies[] = {
		"<html><body>" SECRET_LONG "</body></html>",
		SECRET_LONG,
		"{\"error\":\"" SECRET_LONG,
		"error=" SECRET_LONG,
		"token "
		"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0ifQ.c2lnbmF0dXJl"
		"LWJ5dGVzLWJ5dGVz"
		" rejected",
	};
	struct err err;

	for (size_t i = 0; i < ARRAY_LEN(bodies); i++) {
		parse_fails(502, bodies[i], strlen(bodies[i]), ERR_STATUS,
		    &err);
		assert_not_contains(err.msg, "SECRET");
		assert_not_contains(err.msg, "c2lnbmF0dXJl");
		assert_contains(err.msg, "withheld");
	}
	parse_fails(502, LIT("upstream connect error or disconnect"),
	    ERR_STATUS, &err);
	assert_contains(err.msg, "upstream connect error or disconnect");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_success),
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_expires_in),
		cmocka_unit_test(test_bad_access_token),
		cmocka_unit_test(test_control_characters),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_not_a_token_response),
		cmocka_unit_test(test_token_size),
		cmocka_unit_test(test_error_response),
		cmocka_unit_test(test_error_text_cleaned),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_error_body_shown_or_withheld),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
