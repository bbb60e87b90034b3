/*
 * test_output.c: the token file's content by OUTPUT_FORMAT, and the JSON
 * writer under it (read back with the project's strict JSON reader).
 */
#include "unit.h"

#include "json.h"
#include "jsonw.h"
#include "output.h"

static char out[1024];
static size_t len;

static void
render_ok(enum output_format f, const char *token, const char *type,
    int has_expiry, int64_t at)
{
	struct output_token t = { token, strlen(token), type, has_expiry, at };
	struct err err = { 0 };

	memset(out, 0, sizeof out);
	if (output_render(f, &t, out, sizeof out, &len, &err) != 0)
		fail_msg("%s", err.msg);
}

static void
test_token(void **state)
{
	render_ok(OUTPUT_TOKEN, "abc.def", "Bearer", 1, 5);
	assert_int_equal(len, 7);
	assert_memory_equal(out, "abc.def", 7);
}

static void
test_json(void **state)
{
	render_ok(OUTPUT_JSON, "abc.def", "Bearer", 1, 1700000600);
	assert_string_equal(out,
	    "{\"access_token\":\"abc.def\",\"token_type\":\"Bearer\","
	    "\"expires_at\":1700000600}");
	assert_int_equal(len, strlen(out));
	/* Empty type and unknown expiry are left out. */
	render_ok(OUTPUT_JSON, "t", "", 0, 0);
	assert_string_equal(out, "{\"access_token\":\"t\"}");
}

/* Whatever the bytes, the strict reader reads back the same string. */
static void
test_escaping(void **state)
{
	static const char token[] = "a\"b\\c\x01\x1f\x7f\xc3\xa9/";
	jsmntok_t tok[16];
	struct json_doc d;
	struct err err = { 0 };
	char back[64];
	size_t n;

	render_ok(OUTPUT_JSON, token, "N_A", 0, 0);
	assert_contains(out, "a\\\"b\\\\c\\u0001\\u001f");
	assert_int_equal(json_parse(&d, out, len, tok, 16, &err), 0);
	assert_int_equal(json_string(&d, json_member(&d, "access_token"), back,
	                     sizeof back, &n),
	    0);
	assert_int_equal(n, sizeof token - 1);
	assert_memory_equal(back, token, n);
}

static void
test_limits(void **state)
{
	struct output_token t = { "0123456789", 10, "", 0, 0 };
	struct jsonw w;
	struct err err = { 0 };
	char small[16];
	size_t n;

	assert_int_equal(output_render(OUTPUT_JSON, &t, small, sizeof small, &n,
	                     &err),
	    -1);
	assert_err(&err, ERR_SYSTEM, "longer than 16 bytes");
	t.token = "0123456789abcdefg";
	t.len = 17;
	assert_int_equal(output_render(OUTPUT_TOKEN, &t, small, sizeof small,
	                     &n, &err),
	    -1);
	/* Exactly full leaves no room for the NUL: refused. */
	jsonw_begin(&w, small, 4);
	assert_int_equal(jsonw_end(&w, &n), 0);
	assert_string_equal(small, "{}");
	jsonw_begin(&w, small, 2);
	assert_int_equal(jsonw_end(&w, &n), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
