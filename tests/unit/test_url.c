/*
 * test_url.c: url_parse, and form_append against Go's url.QueryEscape.
 */
#include "unit.h"

#include "url.h"

/* ---- url_parse ---- */

static void
parse_ok(const char *text, struct url *u)
{
	struct err err = { 0 };

	memset(u, 0xa5, sizeof *u);
	if (url_parse(u, text, &err) != 0)
		fail_msg("\"%s\" refused: %s", text, err.msg);
}

static void
test_parse_valid(void **state)
{
	static const struct {
		const char *text;
		bool tls;
		enum url_host_kind kind;
		const char *host;
		uint16_t port;
		const char *authority;
		const char *target;
	} cases[] = {
		{ "https://sts.example.com/v1/token", true, URL_HOST_NAME,
		    "sts.example.com", 443, "sts.example.com", "/v1/token" },
		{ "http://sts.example.com", false, URL_HOST_NAME,
		    "sts.example.com", 80, "sts.example.com", "/" },
		{ "https://sts.example.com", true, URL_HOST_NAME,
		    "sts.example.com", 443, "sts.example.com", "/" },
		{ "https://STS.Example.COM:8443/a/b?x=1&y=%2F#frag", true,
		    URL_HOST_NAME, "sts.example.com", 8443,
		    "sts.example.com:8443", "/a/b?x=1&y=%2F" },
		{ "https://sts.example.com?aud=x", true, URL_HOST_NAME,
		    "sts.example.com", 443, "sts.example.com", "/?aud=x" },
		{ "https://sts.example.com/#frag", true, URL_HOST_NAME,
		    "sts.example.com", 443, "sts.example.com", "/" },
		{ "http://127.0.0.1:8080/token", false, URL_HOST_IPV4,
		    "127.0.0.1", 8080, "127.0.0.1:8080", "/token" },
		{ "http://[::1]:8080/token", false, URL_HOST_IPV6, "::1", 8080,
		    "[::1]:8080", "/token" },
		{ "https://[2001:DB8::1]/t", true, URL_HOST_IPV6, "2001:db8::1",
		    443, "[2001:db8::1]", "/t" },
		{ "http://localhost:65535/", false, URL_HOST_NAME, "localhost",
		    65535, "localhost:65535", "/" },
		{ "http://a:1/", false, URL_HOST_NAME, "a", 1, "a:1", "/" },
	};
	struct url u;
	int bad = 0;

	/* Report every wrong case before failing. */
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		parse_ok(cases[i].text, &u);
		if (u.tls != cases[i].tls || u.host_kind != cases[i].kind ||
		    strcmp(u.host, cases[i].host) != 0 ||
		    u.port != cases[i].port ||
		    strcmp(u.authority, cases[i].authority) != 0 ||
		    strcmp(u.target, cases[i].target) != 0) {
			print_error("\"%s\": tls %d kind %d host \"%s\" "
			            "port %u authority \"%s\" target \"%s\"\n",
			    cases[i].text, u.tls, u.host_kind, u.host, u.port,
			    u.authority, u.target);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

static void
test_parse_invalid(void **state)
{
	static const char *const cases[] = {
		"",
		"sts.example.com/token",
		"//sts.example.com/token",
		"ftp://sts.example.com/",
		"https:/sts.example.com/",
		"https://",
		"https:///token",
		"https://:443/token",
		"https://sts.example.com:0/",
		"https://sts.example.com:65536/",
		"https://sts.example.com:99999999999999999999/",
		"https://sts.example.com:-1/",
		"https://sts.example.com:8x/",
		"https://sts.example.com:+80/",
		"https://[::1/token",
		"https://::1/token",
		"https://[]/",
		"https://exa mple.com/",
		"https://sts.example.com/a\r\nX: y",
		"https://sts.example.com/a\nb",
		"https://sts.example.com\r\n/",
		"https://sts.example.com/a\tb",
		"https://sts.example.com/\x7f",
		"https://sts.example.com/a\x01",
		"https://[::1]x/",
	};

	int bad = 0;

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct url u;
		struct err err = { 0 };

		if (url_parse(&u, cases[i], &err) == 0) {
			print_error("\"%s\" accepted: host \"%s\" "
			            "target \"%s\"\n",
			    cases[i], u.host, u.target);
			bad++;
			continue;
		}
		assert_int_equal(err.kind, ERR_CONFIG);
		assert_true(err.msg[0] != '\0');
		/* A message is one log line. */
		assert_printable(err.msg);
	}
	assert_int_equal(bad, 0);
}

/*
 * Go sends a space in the path percent-encoded; either that or a refusal
 * is fine, but a raw space would split the request line.
 */
static void
test_parse_space_in_path(void **state)
{
	struct url u;
	struct err err = { 0 };

	if (url_parse(&u, "https://sts.example.com/a b?c d", &err) == 0)
		assert_string_equal(u.target, "/a%20b?c%20d");
	else
		assert_int_equal(err.kind, ERR_CONFIG);
}

/* Userinfo is refused without echoing the password. */
static void
test_parse_userinfo(void **state)
{
	static const char *const cases[] = {
		"https://alice:hunter2-secret@sts.example.com/token",
		"https://hunter2-secret@sts.example.com/token",
		"https://alice:hunter2-secret@[::1]:8443/token",
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct url u;
		struct err err = { 0 };

		assert_int_equal(url_parse(&u, cases[i], &err), -1);
		assert_int_equal(err.kind, ERR_CONFIG);
		assert_not_contains(err.msg, "hunter2");
	}
}

static void
test_parse_lengths(void **state)
{
	/* 253 characters: the longest DNS name. */
	char host[300], text[URL_TARGET_MAX + 400];
	struct url u;
	struct err err = { 0 };
	size_t n;

	memset(host, 'a', 253);
	for (size_t i = 63; i < 253; i += 64)
		host[i] = '.';
	host[253] = '\0';
	snprintf(text, sizeof text, "https://%s/token", host);
	parse_ok(text, &u);
	assert_string_equal(u.host, host);

	host[253] = 'b';
	host[254] = '\0';
	snprintf(text, sizeof text, "https://%s/token", host);
	assert_int_equal(url_parse(&u, text, &err), -1);
	assert_int_equal(err.kind, ERR_CONFIG);

	/* The target must fit with its NUL. */
	n = (size_t)snprintf(text, sizeof text, "https://h/");
	memset(text + n, 'p', URL_TARGET_MAX - 2);
	text[n + URL_TARGET_MAX - 2] = '\0';
	parse_ok(text, &u);
	assert_int_equal(strlen(u.target), URL_TARGET_MAX - 1);

	text[n + URL_TARGET_MAX - 2] = 'p';
	text[n + URL_TARGET_MAX - 1] = '\0';
	assert_int_equal(url_parse(&u, text, &err), -1);
	assert_int_equal(err.kind, ERR_CONFIG);
}

/* ---- form_append ---- */

/* Go's url.QueryEscape, written from its definition. */
static size_t
query_escape(char *out, const unsigned char *in, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = in[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~') {
			out[n++] = (char)c;
		} else if (c == ' ') {
			out[n++] = '+';
		} else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	return n;
}

static void
test_form_every_byte(void **state)
{
	unsigned char value[256];
	char buf[1024], want[1024];
	size_t len = 0, n;

	for (size_t i = 0; i < sizeof value; i++)
		value[i] = (unsigned char)i;
	assert_int_equal(form_append(buf, sizeof buf, &len, "v",
	                     (const char *)value, sizeof value),
	    0);

	memcpy(want, "v=", 2);
	n = 2 + query_escape(want + 2, value, sizeof value);
	assert_int_equal(len, n);
	assert_memory_equal(buf, want, n);
}

static void
test_form_go_vectors(void **state)
{
	/* Outputs of Go's url.Values{...}.Encode() for these pairs. */
	static const struct {
		const char *value;
		const char *want;
	} cases[] = {
		{ "", "k=" },
		{ "a b&c=d/\xc3\xa9~", "k=a+b%26c%3Dd%2F%C3%A9~" },
		{ "urn:ietf:params:oauth:grant-type:token-exchange",
		    "k=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange" },
		{ "eyJhbGciOi.J9-_x+y/z==",
		    "k=eyJhbGciOi.J9-_x%2By%2Fz%3D%3D" },
		{ "100%", "k=100%25" },
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char buf[256];
		size_t len = 0;

		assert_int_equal(form_append(buf, sizeof buf, &len, "k",
		                     cases[i].value, strlen(cases[i].value)),
		    0);
		assert_int_equal(len, strlen(cases[i].want));
		assert_memory_equal(buf, cases[i].want, len);
	}
}

static void
test_form_sequence(void **state)
{
	static const char want[] = "audience=api%3A%2F%2Fx&grant_type=g"
	                           "&subject_token=abc";
	char buf[128];
	size_t len = 0;

	assert_int_equal(form_append(buf, sizeof buf, &len, "audience",
	                     LIT("api://x")),
	    0);
	assert_int_equal(form_append(buf, sizeof buf, &len, "grant_type",
	                     LIT("g")),
	    0);
	/* value_len, not the NUL, ends the value. */
	assert_int_equal(form_append(buf, sizeof buf, &len, "subject_token",
	                     "abcdef", 3),
	    0);
	assert_int_equal(len, sizeof want - 1);
	assert_memory_equal(buf, want, len);
}

/* A pair that does not fit fails and leaves the buffer as it was. */
static void
test_form_no_room(void **state)
{
	char buf[64], before[64];
	size_t len = 0, cap;

	assert_int_equal(form_append(buf, sizeof buf, &len, "a", LIT("1")), 0);
	assert_int_equal(len, 3);

	/* "&bb=x%2Fy" needs 9 more bytes. */
	for (cap = len; cap < len + 9; cap++) {
		size_t l = len;

		memset(buf + len, '#', sizeof buf - len);
		memcpy(before, buf, sizeof buf);
		assert_int_equal(form_append(buf, cap, &l, "bb", LIT("x/y")),
		    -1);
		assert_int_equal(l, len);
		assert_memory_equal(buf, before, sizeof buf);
	}
	/* With room for a terminator too, it fits. */
	assert_int_equal(form_append(buf, len + 10, &len, "bb", LIT("x/y")), 0);
	assert_int_equal(len, 12);
	assert_memory_equal(buf, "a=1&bb=x%2Fy", 12);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_parse_space_in_path),
		cmocka_unit_test(test_parse_userinfo),
		cmocka_unit_test(test_parse_lengths),
		cmocka_unit_test(test_form_every_byte),
		cmocka_unit_test(test_form_go_vectors),
		cmocka_unit_test(test_form_sequence),
		cmocka_unit_test(test_form_no_room),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
