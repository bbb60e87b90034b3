/*
 * test_oauth_error.c: the log text of error responses: RFC 6749, RFC 9457,
 * API Gateway's message, plain text, undecoded encodings, and bodies that
 * must not be quoted because they may hold a credential.
 */
#include "unit.h"

#include "oauth_error.h"

static char text[OAUTH_ERROR_TEXT_MAX];

static const char *
says(const char *ctype, const char *enc, const char *body, size_t len)
{
	memset(text, 'x', sizeof text);
	oauth_error_text(text, sizeof text, ctype, enc, body, len);
	assert_printable(text);
	return text;
}

#define SAYS(ctype, body) says((ctype), "", LIT(body))
#define JSON "application/json"
#define JWT "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"

static void
test_rfc6749(void **state)
{
	assert_string_equal(SAYS(JSON,
	                        "{\"error\":\"invalid_client\","
	                        "\"error_description\":\"no client "
	                        "authentication mechanism provided\"}"),
	    "error=\"invalid_client\" error_description=\"no client "
	    "authentication mechanism provided\"");
	/* Empty fields are left out, not printed as "". */
	assert_string_equal(SAYS(JSON,
	                        "{\"error\":\"invalid_grant\","
	                        "\"error_description\":\"\"}"),
	    "error=\"invalid_grant\"");
	/* TokenBridge's own shape: free text in error. */
	assert_string_equal(SAYS(JSON, "{\"error\": \"token has expired\"}"),
	    "error=\"token has expired\"");
}

static void
test_google_nested(void **state)
{
	/* The shape Google's APIs answer with (AIP-193), e.g. IAM
	 * Credentials' generateAccessToken. */
	assert_string_equal(SAYS(JSON,
	                        "{\"error\":{\"code\":403,\"message\":"
	                        "\"Permission 'iam.serviceAccounts."
	                        "getAccessToken' denied\",\"status\":"
	                        "\"PERMISSION_DENIED\"}}"),
	    "error.status=\"PERMISSION_DENIED\" error.message=\"Permission "
	    "'iam.serviceAccounts.getAccessToken' denied\"");
	/* Only the two strings; a nested object without them is said so. */
	assert_string_equal(SAYS(JSON, "{\"error\":{\"code\":400}}"),
	    "a 22-byte JSON object without error, title, detail or message");
	/* A JWT quoted back in the message is withheld as anywhere else. */
	assert_string_equal(SAYS(JSON, "{\"error\":{\"message\":\"" JWT "\"}}"),
	    "error.message=(withheld: 63 bytes that may hold a credential)");
}

static void
test_rfc9457_and_message(void **state)
{
	assert_string_equal(
	    SAYS("application/problem+json",
	        "{\"type\":\"about:blank\",\"title\":\"Forbidden"
	        "\",\"status\":403,\"detail\":\"client not "
	        "allowed\"}"),
	    "title=\"Forbidden\" detail=\"client not allowed\"");
	assert_string_equal(SAYS(JSON, "{\"message\":\"Not Found\"}"),
	    "message=\"Not Found\"");
	assert_string_equal(SAYS(JSON, "{\"message\":null,\"code\":7}"),
	    "a 25-byte JSON object without error, title, detail or message");
	assert_string_equal(SAYS(JSON, "{\"error\":\"\"}"),
	    "a 12-byte JSON object without error, title, detail or message");
}

static void
test_plain_text(void **state)
{
	assert_string_equal(SAYS("text/plain", "Bad Gateway\r\n"),
	    "body=\"Bad Gateway\"");
	assert_string_equal(SAYS("text/html",
	                        "<html>\r\n<head><title>502 Bad Gateway</title>"
	                        "</head>\r\n</html>\r\n"),
	    "body=\"<html> <head><title>502 Bad Gateway</title></head> "
	    "</html>\"");
	/* Control bytes, escapes, quotes and bytes past ASCII are cleaned. */
	assert_string_equal(SAYS("text/plain", "a\x1b[31m\"b\"\x7f\xc3\xa9"),
	    "body=\"a [31m'b' ??\"");
	assert_string_equal(SAYS("text/plain", ""),
	    "an empty body (Content-Type \"text/plain\")");
	assert_string_equal(SAYS("text/plain", " \r\n\t"),
	    "a 4-byte blank body (Content-Type \"text/plain\")");
}

static void
test_bounded(void **state)
{
	char body[4000];
	size_t i;

	for (i = 0; i < sizeof body; i++)
		body[i] = i % 8 == 7 ? ' ' : 'a';
	says("text/plain", "", body, sizeof body);
	assert_true(strlen(text) <= OAUTH_ERROR_FIELD_MAX + 12);
	assert_contains(text, " ...\"");
	/* A code and a long description fit in one error message. */
	memset(body, 'a', sizeof body);
	memcpy(body, "{\"error\":\"invalid_client\",\"error_description\":\"",
	    47);
	for (i = 47; i < 1047; i++)
		body[i] = i % 8 == 0 ? ' ' : 'd';
	memcpy(body + 1047, "\"}", 2);
	says(JSON, "", body, 1049);
	assert_true(strlen("the exchange server answered HTTP 401: ") +
	        strlen(text) <
	    ERR_MSG_MAX);
	/* A tiny buffer is filled and terminated, nothing more. */
	oauth_error_text(text, 8, "text/plain", "", body, sizeof body);
	assert_int_equal(strlen(text), 7);
}

static void
test_never_a_token(void **state)
{
	assert_string_equal(SAYS("text/plain", "your token " JWT " is bad"),
	    "a 81-byte body (Content-Type \"text/plain\"), withheld: it may "
	    "hold a credential");
	assert_string_equal(SAYS(JSON,
	                        "{\"error\":\"invalid_grant\","
	                        "\"error_description\":\"bad " JWT "\"}"),
	    "error=\"invalid_grant\" error_description=(withheld: 67 bytes "
	    "that may hold a credential)");
	/* A long run without spaces: a secret, a key, a hash. */
	assert_contains(SAYS("text/plain",
	                    "secret=0123456789abcdef0123456789abcdef01234567"),
	    "withheld");
	/* Words of ordinary length, UUIDs included, are quoted. */
	assert_string_equal(SAYS(JSON,
	                        "{\"error_description\":\"AADSTS700016: "
	                        "Trace ID: 0b6f3a2c-1d4e-4f5a-9b8c-7d6e5f4a3b2c"
	                        "\"}"),
	    "error_description=\"AADSTS700016: Trace ID: "
	    "0b6f3a2c-1d4e-4f5a-9b8c-7d6e5f4a3b2c\"");
}

static void
test_encodings(void **state)
{
	assert_string_equal(says(JSON, "gzip", LIT("\x1f\x8b\x08\x00")),
	    "a 4-byte body in Content-Encoding \"gzip\", which the sidecar "
	    "does not decode");
	assert_string_equal(says(JSON, "identity", LIT("{\"error\":\"x\"}")),
	    "error=\"x\"");
	assert_contains(says(JSON, "br\r\nX: y", LIT("abc")),
	    "Content-Encoding \"br X: y\"");
	/* A header is peer text too (found by fuzz_oauth_error). */
	assert_string_equal(says("x" JWT, "", LIT("")),
	    "an empty body (Content-Type \"(withheld)\")");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc6749),
		cmocka_unit_test(test_google_nested),
		cmocka_unit_test(test_rfc9457_and_message),
		cmocka_unit_test(test_plain_text),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_never_a_token),
		cmocka_unit_test(test_encodings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
