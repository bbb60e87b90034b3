/*
 * test_proxy.c: proxy selection against the table of Go's
 * golang.org/x/net/http/httpproxy (proxy_test.go: proxyForURLTests,
 * UseProxyTests, TestInvalidNoProxy, TestAllNoProxy, TestFromEnvironment),
 * case for case, then the CONNECT writer and the answer reader.
 */
#include "unit.h"

#include "base64.h"
#include "proxy.h"

/* ---- an environment for proxy_select ---- */

struct var {
	const char *name, *value;
};

static const struct var *env_vars;
static size_t env_count;

static const char *
env_lookup(const char *name)
{
	for (size_t i = 0; i < env_count; i++)
		if (strcmp(env_vars[i].name, name) == 0)
			return env_vars[i].value;
	return NULL;
}

#define ENV(...) \
	do { \
		static const struct var vars_[] = { __VA_ARGS__ }; \
		env_vars = vars_; \
		env_count = ARRAY_LEN(vars_); \
	} while (0)

static struct url
target(const char *text)
{
	struct err err = { 0 };
	struct url u;

	if (url_parse(&u, text, &err) != 0)
		fail_msg("target \"%s\": %s", text, err.msg);
	return u;
}

/* Select for `req` and compare with Go's answer: the proxy URL as Go
 * prints it with the default port added, or NULL for a direct connection. */
static void
expect(const char *req, const char *want)
{
	struct url t = target(req);
	struct proxy p;
	struct err err = { 0 };
	int rc = proxy_select(&p, &t, env_lookup, &err);

	if (rc == -1)
		fail_msg("%s: refused: %s", req, err.msg);
	if (want == NULL && rc != 0)
		fail_msg("%s: proxied through %s, want direct", req, p.shown);
	if (want != NULL && rc != 1)
		fail_msg("%s: direct (%s), want %s", req, p.reason, want);
	if (want != NULL)
		assert_string_equal(p.shown, want);
	else
		assert_true(p.reason[0] != '\0');
}

static void
expect_refused(const char *req, const char *what)
{
	struct url t = target(req);
	struct proxy p;
	struct err err = { 0 };

	assert_int_equal(proxy_select(&p, &t, env_lookup, &err), -1);
	assert_err(&err, ERR_CONFIG, what);
	assert_printable(err.msg);
}

/* ---- Go's proxyForURLTests ---- */

static void
test_go_proxy_for_url(void **state)
{
	ENV({ "HTTP_PROXY", "127.0.0.1:8080" });
	expect("http://example.com", "http://127.0.0.1:8080");
	ENV({ "HTTP_PROXY", "cache.corp.example.com:1234" });
	expect("http://example.com", "http://cache.corp.example.com:1234");
	ENV({ "HTTP_PROXY", "cache.corp.example.com" });
	expect("http://example.com", "http://cache.corp.example.com:80");
	/* A single label parses as a scheme in url.Parse: still http://. */
	ENV({ "HTTP_PROXY", "localhost" });
	expect("http://example.com", "http://localhost:80");
	ENV({ "HTTP_PROXY", "https://cache.corp.example.com" });
	expect("http://example.com", "https://cache.corp.example.com:443");
	ENV({ "HTTP_PROXY", "http://127.0.0.1:8080" });
	expect("http://example.com", "http://127.0.0.1:8080");
	ENV({ "HTTP_PROXY", "https://127.0.0.1:8080" });
	expect("http://example.com", "https://127.0.0.1:8080");
	/* Go dials SOCKS5 and keeps unknown schemes; both are refused here
	 * (what differs, in the README). */
	ENV({ "HTTP_PROXY", "socks5://127.0.0.1" });
	expect_refused("http://example.com", "SOCKS");
	ENV({ "HTTP_PROXY", "foo://host" });
	expect_refused("http://example.com", "HTTP_PROXY");
	/* Don't use secure for http; use secure for https. */
	ENV({ "HTTP_PROXY", "http.proxy.tld" },
	    { "HTTPS_PROXY", "secure.proxy.tld" });
	expect("http://insecure.tld/", "http://http.proxy.tld:80");
	expect("https://secure.tld/", "http://secure.proxy.tld:80");
	ENV({ "HTTP_PROXY", "http.proxy.tld" },
	    { "HTTPS_PROXY", "https://secure.proxy.tld" });
	expect("https://secure.tld/", "https://secure.proxy.tld:443");
	ENV({ "HTTP_PROXY", "http.proxy.tld" });
	expect("https://secure.tld/", NULL);
	/* ftp://insecure.tld/: not a URL the sidecar accepts (n/a). */
	/* Issue 16405: no HTTP_PROXY in a CGI environment. */
	ENV({ "HTTP_PROXY", "http://10.1.2.3:8080" },
	    { "REQUEST_METHOD", "GET" });
	expect_refused("http://example.com", "CGI");
	ENV({ "HTTPS_PROXY", "https://secure.proxy.tld" },
	    { "REQUEST_METHOD", "GET" });
	expect("https://secure.tld/", "https://secure.proxy.tld:443");
	ENV({ "X", "" });
	expect("http://example.com", NULL);
	ENV({ "NO_PROXY", "example.com" }, { "HTTP_PROXY", "proxy" });
	expect("http://example.com/", NULL);
	ENV({ "NO_PROXY", ".example.com" }, { "HTTP_PROXY", "proxy" });
	expect("http://example.com/", "http://proxy:80");
	ENV({ "NO_PROXY", "ample.com" }, { "HTTP_PROXY", "proxy" });
	expect("http://example.com/", "http://proxy:80");
	ENV({ "NO_PROXY", "example.com" }, { "HTTP_PROXY", "proxy" });
	expect("http://foo.example.com/", NULL);
	ENV({ "NO_PROXY", ".foo.com" }, { "HTTP_PROXY", "proxy" });
	expect("http://example.com/", "http://proxy:80");
	/*
	 * The three IDNA cases (".示例.com", "xn--fsq092h.com" and "示例.com"
	 * against www.示例.com or www.xn--fsq092h.com): EXCHANGE_URL takes
	 * ASCII host names only, and a NO_PROXY entry is not converted to
	 * punycode, so only the ASCII pair can be run: it matches.
	 */
	ENV({ "NO_PROXY", "xn--fsq092h.com" }, { "HTTP_PROXY", "proxy" });
	expect("http://www.xn--fsq092h.com", NULL);
	/* http://[1000::%25.example.com]:123: zones are refused (n/a). */
}

/* ---- Go's UseProxyTests, TestInvalidNoProxy, TestAllNoProxy ---- */

static const char go_no_proxy[] =
    "foobar.com, .barbaz.net, *.wildcard.io, 192.168.1.1, "
    "192.168.1.2:81, 192.168.1.3:80, 10.0.0.0/30, 2001:db8::52:0:1, "
    "[2001:db8::52:0:2]:443, [2001:db8::52:0:3]:80, 2002:db8:a::45/64";

static const struct {
	const char *host;
	bool proxied;
} use_proxy_tests[] = {
	/* Never proxy localhost. */
	{ "localhost", false }, { "127.0.0.1", false }, { "127.0.0.2", false },
	{ "[::1]", false }, { "[::2]", true }, /* not a loopback address */

	{ "192.168.1.1", false },                /* matches exact IPv4 */
	{ "192.168.1.2", true },                 /* ports do not match */
	{ "192.168.1.3", false },                /* matches IPv4:port */
	{ "192.168.1.4", true },                 /* no match */
	{ "10.0.0.2", false },                   /* matches IPv4/CIDR */
	{ "[2001:db8::52:0:1]", false },         /* matches exact IPv6 */
	{ "[2001:db8::52:0:2]", true },          /* no match */
	{ "[2001:db8::52:0:3]", false },         /* matches [IPv6]:port */
	{ "[2002:db8:a::123]", false },          /* matches IPv6/CIDR */
	{ "[fe80::424b:c8be:1643:a1b6]", true }, /* no match */

	{ "barbaz.net", true },          /* does not match as .barbaz.net */
	{ "www.barbaz.net", false },     /* does match as .barbaz.net */
	{ "foobar.com", false },         /* does match as foobar.com */
	{ "www.foobar.com", false },     /* NO_PROXY includes foobar.com */
	{ "foofoobar.com", true },       /* not a part of foobar.com */
	{ "baz.com", true },             /* not a part of barbaz.com */
	{ "localhost.net", true },       /* not a suffix of an address */
	{ "local.localhost", true },     /* not a prefix of an address */
	{ "barbarbaz.net", true },       /* wrong domain */
	{ "wildcard.io", true },         /* does not match as *.wildcard.io */
	{ "nested.wildcard.io", false }, /* match as *.wildcard.io */
	{ "awildcard.io", true },        /* not a match because of '*' */
};

static void
run_use_proxy(const char *list, bool all_direct)
{
	const struct var vars[] = { { "HTTP_PROXY", "proxy" },
		{ "NO_PROXY", list } };
	char url[128];
	int bad = 0;

	env_vars = vars;
	env_count = ARRAY_LEN(vars);
	for (size_t i = 0; i < ARRAY_LEN(use_proxy_tests); i++) {
		bool want = !all_direct && use_proxy_tests[i].proxied;
		struct proxy p;
		struct err err = { 0 };
		struct url t;
		int rc;

		(void)snprintf(url, sizeof url, "http://%s:80/",
		    use_proxy_tests[i].host);
		t = target(url);
		rc = proxy_select(&p, &t, env_lookup, &err);
		if (rc != (want ? 1 : 0)) {
			print_error("useProxy(%s) = %d, want %d\n",
			    use_proxy_tests[i].host, rc, want);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

static void
test_go_use_proxy(void **state)
{
	run_use_proxy(go_no_proxy, false);
}

static void
test_go_all_no_proxy(void **state)
{
	run_use_proxy("*", true);
}

static void
test_go_invalid_no_proxy(void **state)
{
	ENV({ "HTTP_PROXY", "proxy" }, { "NO_PROXY", ":1" });
	expect("http://example.com:80", "http://proxy:80");
}

/* TestFromEnvironment(LowerCase): the upper-case name wins when both are
 * set; an empty value counts as unset, as in Go's getEnvAny. */
static void
test_go_from_environment(void **state)
{
	struct url t = target("https://sts.example.com/");
	struct proxy p;
	struct err err;

	ENV({ "HTTPS_PROXY", "upper:1" }, { "https_proxy", "lower:2" });
	assert_int_equal(proxy_select(&p, &t, env_lookup, &err), 1);
	assert_string_equal(p.shown, "http://upper:1");
	assert_string_equal(p.variable, "HTTPS_PROXY");
	ENV({ "HTTPS_PROXY", "" }, { "https_proxy", "lower:2" });
	assert_int_equal(proxy_select(&p, &t, env_lookup, &err), 1);
	assert_string_equal(p.shown, "http://lower:2");
	assert_string_equal(p.variable, "https_proxy");
	ENV({ "HTTPS_PROXY", "p:3" }, { "NO_PROXY", "" },
	    { "no_proxy", "sts.example.com" });
	assert_int_equal(proxy_select(&p, &t, env_lookup, &err), 0);
	assert_contains(p.reason, "no_proxy");
	ENV({ "HTTPS_PROXY", "p:3" }, { "NO_PROXY", "other.example" },
	    { "no_proxy", "sts.example.com" });
	assert_int_equal(proxy_select(&p, &t, env_lookup, &err), 1);
	/* HTTP_PROXY never serves an https:// target. */
	ENV({ "HTTP_PROXY", "p:3" }, { "http_proxy", "p:4" });
	assert_int_equal(proxy_select(&p, &t, env_lookup, &err), 0);
	assert_contains(p.reason, "HTTPS_PROXY");
	assert_contains(p.reason, "https_proxy");
}

/* ---- beyond Go's table ---- */

static void
test_no_proxy_forms(void **state)
{
	static const struct {
		const char *list, *url;
		bool match;
	} cases[] = {
		{ "EXAMPLE.com", "https://www.example.COM/", true },
		{ "  example.com\t, ,", "https://example.com/", true },
		{ ",,, ,", "https://example.com/", false },
		{ "example.com:443", "https://example.com/", true },
		{ "example.com:8443", "https://example.com/", false },
		{ "example.com:8443", "https://example.com:8443/", true },
		{ "example.com:", "https://example.com:9/", true },
		{ ".example.com:443", "https://a.b.example.com/", true },
		{ "*.example.com", "https://example.com/", false },
		{ "*", "https://anything.example/", true },
		{ "foo.example, *", "https://anything.example/", true },
		{ "*example.com", "https://www.example.com/", false },
		{ "com", "https://example.com/", true },
		{ "example.com.", "https://example.com/", false },
		/* A domain entry never matches an IP host (x/net v0.36.0). */
		{ "0.0.1", "https://10.0.0.1/", false },
		{ "1", "https://10.0.0.1/", false },
		{ "0.1:443", "https://10.0.0.1/", false },
		{ "db8::1", "https://[2001:db8::1]/", false },
		{ "0.1.example", "https://a.0.1.example/", true },
		{ "10.0.0.0/8", "https://10.200.0.1/", true },
		{ "10.0.0.0/08", "https://10.200.0.1/", true },
		{ "10.0.0.0/8", "https://11.0.0.1/", false },
		{ "10.0.0.0/33", "https://10.0.0.1/", false },
		{ "10.1.2.3/0", "https://192.0.2.1/", true },
		{ "10.1.2.3/0", "https://[2001:db8::1]/", false },
		{ "::/0", "https://192.0.2.1/", false },
		{ "::/0", "https://[2001:db8::1]/", true },
		{ "::ffff:10.0.0.0/104", "https://10.9.9.9/", true },
		{ "::ffff:10.0.0.0/104", "https://11.9.9.9/", false },
		{ "::ffff:0.0.0.0/80", "https://10.9.9.9/", false },
		{ "10.0.0.0/8", "https://[::ffff:10.1.1.1]/", true },
		{ "192.0.2.1", "https://[::ffff:192.0.2.1]/", true },
		{ "::ffff:192.0.2.1", "https://192.0.2.1/", true },
		{ "2001:DB8::1", "https://[2001:db8:0::1]/", true },
		{ "[2001:db8::1]", "https://[2001:db8::1]/", false },
		{ "[2001:db8::1]:443", "https://[2001:db8::1]/", true },
		{ "192.0.2.1:443", "https://192.0.2.1:444/", false },
		{ "example.com/8", "https://example.com/", false },
	};
	int bad = 0;

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct url t = target(cases[i].url);

		if (proxy_no_proxy_match(cases[i].list, &t) != cases[i].match) {
			print_error("NO_PROXY \"%s\" against %s: want %d\n",
			    cases[i].list, cases[i].url, cases[i].match);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

static void
test_reasons(void **state)
{
	struct url t = target("https://127.0.0.1:8443/");
	struct proxy p;
	struct err err;

	ENV({ "HTTPS_PROXY", "http://u:secret@proxy:3128" });
	assert_int_equal(proxy_select(&p, &t, env_lookup, &err), 0);
	assert_contains(p.reason, "loopback");
	/* Nothing of the credentials is left behind. */
	assert_string_equal(p.authorization, "");
	t = target("https://sts.example.com/");
	ENV({ "HTTPS_PROXY", "proxy:3128" }, { "NO_PROXY", "sts.example.com" });
	assert_int_equal(proxy_select(&p, &t, env_lookup, &err), 0);
	assert_string_equal(p.reason, "NO_PROXY matches sts.example.com");
}

static void
expect_auth(const char *value, const char *decoded)
{
	struct url t = target("https://sts.example.com/");
	char want[PROXY_AUTH_MAX] = "Basic ";
	struct proxy p;
	struct err err = { 0 };
	const struct var vars[] = { { "HTTPS_PROXY", value } };
	long n;

	env_vars = vars;
	env_count = 1;
	if (proxy_select(&p, &t, env_lookup, &err) != 1)
		fail_msg("%s: %s", value, err.msg);
	n = base64_encode(want + 6, sizeof want - 7,
	    (const unsigned char *)decoded, strlen(decoded), BASE64_STD, 1);
	assert_true(n > 0);
	want[6 + n] = '\0';
	assert_string_equal(p.authorization, want);
	assert_not_contains(p.shown, "@");
	assert_string_equal(p.shown, "http://proxy.example:3128");
	proxy_wipe(&p);
	for (size_t i = 0; i < sizeof p.authorization; i++)
		assert_int_equal(p.authorization[i], 0);
}

static void
test_credentials(void **state)
{
	expect_auth("http://alice:s3cret@proxy.example:3128", "alice:s3cret");
	expect_auth("alice:s3cret@proxy.example:3128", "alice:s3cret");
	expect_auth("http://al%69ce:p%40ss%3Aw:rd@proxy.example:3128",
	    "alice:p@ss:w:rd");
	/* The last '@' ends the user info, as in url.Parse. */
	expect_auth("http://a@b:c@proxy.example:3128", "a@b:c");
	/* '+' stays '+' (not a form). */
	expect_auth("http://a+b:c+d@proxy.example:3128", "a+b:c+d");
	/* User without password, and empty user info: Go's basicAuth. */
	expect_auth("http://alice@proxy.example:3128", "alice:");
	expect_auth("http://@proxy.example:3128", ":");
	expect_auth("http://:pw@proxy.example:3128/some/path?q#f", ":pw");
}

static void
test_bad_proxy_values(void **state)
{
	static const struct {
		const char *value, *what;
	} cases[] = {
		{ "http://", "host is missing" },
		{ "http://:3128", "host is missing" },
		{ "http://proxy:0", "port" },
		{ "http://proxy:65536", "port" },
		{ "http://proxy:31x8", "port" },
		{ "http://a:b%zz@proxy:3128", "%" },
		{ "http://a:b%4@proxy:3128", "%" },
		{ "http://a b:c@proxy:3128", "percent-encoded" },
		{ "http://pro xy:3128", "host name" },
		{ "http://[::1:3128", "IPv6" },
		{ "http://u:secret@[::1:3128", "IPv6" },
		{ "http://u:secret@proxy:99999", "port" },
		{ "socks5h://proxy:1080", "SOCKS" },
		{ "ftp://proxy", "scheme" },
		/* Unencoded '/', '?', '#' in the password: never a host. */
		{ "http://alice:12/34secret@proxy:3128", "percent-encode" },
		{ "http://alice:pa?ss@proxy:3128", "percent-encode" },
		{ "http://alice:pa#ss@proxy:3128", "percent-encode" },
		{ "http://u:p@ss:99/x@proxy:3128", "percent-encode" },
	};
	struct url t = target("https://sts.example.com/");

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const struct var vars[] = { { "https_proxy", cases[i].value } };
		struct proxy p;
		struct err err = { 0 };

		env_vars = vars;
		env_count = 1;
		memset(&p, 0x55, sizeof p);
		if (proxy_select(&p, &t, env_lookup, &err) != -1)
			fail_msg("\"%s\" accepted", cases[i].value);
		for (size_t k = 0; k < sizeof p.authorization; k++)
			assert_int_equal(p.authorization[k], 0);
		assert_err(&err, ERR_CONFIG, "https_proxy");
		assert_contains(err.msg, cases[i].what);
		assert_not_contains(err.msg, cases[i].value);
		assert_printable(err.msg);
	}
}

static void
test_long_credentials(void **state)
{
	static char value[3000];
	struct url t = target("https://sts.example.com/");
	struct proxy p;
	struct err err = { 0 };
	const struct var vars[] = { { "HTTPS_PROXY", value } };
	size_t n;

	env_vars = vars;
	env_count = 1;
	/* 764 bytes of user, ':' : exactly what fits. */
	memcpy(value, "http://", 7);
	n = 7;
	memset(value + n, 'u', 764);
	n += 764;
	memcpy(value + n, "@proxy:1", 9);
	assert_int_equal(proxy_select(&p, &t, env_lookup, &err), 1);
	assert_int_equal(strlen(p.authorization), 6 + 1020);
	memset(value + 7, 'u', 765);
	memcpy(value + 7 + 765, "@proxy:1", 9);
	assert_int_equal(proxy_select(&p, &t, env_lookup, &err), -1);
	assert_err(&err, ERR_CONFIG, "longer than");
}

static void
test_shown_forms(void **state)
{
	static const struct {
		const char *value, *shown;
		bool tls;
	} cases[] = {
		{ "HTTP://Proxy.Example:3128", "http://proxy.example:3128",
		    false },
		{ "HtTpS://proxy.example", "https://proxy.example:443", true },
		{ "http://proxy.example:", "http://proxy.example:80", false },
		{ "[::1]:3128", "http://[::1]:3128", false },
		{ "https://[2001:DB8::7]", "https://[2001:db8::7]:443", true },
		{ "http://proxy.example:3128/", "http://proxy.example:3128",
		    false },
		{ "proxy.example:3128?x#y", "http://proxy.example:3128",
		    false },
	};
	struct url t = target("https://sts.example.com/");

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const struct var vars[] = { { "HTTPS_PROXY", cases[i].value } };
		struct proxy p;
		struct err err = { 0 };

		env_vars = vars;
		env_count = 1;
		if (proxy_select(&p, &t, env_lookup, &err) != 1)
			fail_msg("\"%s\": %s", cases[i].value, err.msg);
		assert_string_equal(p.shown, cases[i].shown);
		assert_int_equal(p.tls, cases[i].tls);
		assert_true(p.tunnel);
		assert_string_equal(p.authorization, "");
	}
}

/* RFC 4648's test vectors, and the bound. */
static void
test_base64_encode(void **state)
{
	static const char *const vectors[][2] = {
		{ "", "" },
		{ "f", "Zg==" },
		{ "fo", "Zm8=" },
		{ "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
		{ "\xff\xfe\xfd", "//79" },
	};
	char out[16];
	long n;

	for (size_t i = 0; i < ARRAY_LEN(vectors); i++) {
		const char *in = vectors[i][0];

		n = base64_encode(out, sizeof out, (const unsigned char *)in,
		    strlen(in), BASE64_STD, 1);
		assert_int_equal(n, strlen(vectors[i][1]));
		assert_memory_equal(out, vectors[i][1], (size_t)n);
	}
	/* 8 digits need 8 bytes: no more, no less. */
	memset(out, 'x', sizeof out);
	assert_int_equal(base64_encode(out, 7, (const unsigned char *)"foob", 4,
	                     BASE64_STD, 1),
	    -1);
	assert_int_equal(out[0], 'x');
	assert_int_equal(base64_encode(out, 8, (const unsigned char *)"foob", 4,
	                     BASE64_STD, 1),
	    8);
}

static void
select_ok(struct proxy *p, const char *url, const char *value)
{
	struct url t = target(url);
	struct err err = { 0 };
	const struct var vars[] = { { "HTTPS_PROXY", value } };

	env_vars = vars;
	env_count = 1;
	if (proxy_select(p, &t, env_lookup, &err) != 1)
		fail_msg("%s: %s", value, err.msg);
}

static void
test_connect_write(void **state)
{
	struct url t = target("https://STS.example.com/v1/token");
	struct url t6 = target("https://[2001:db8::1]:8443/");
	char buf[PROXY_CONNECT_MAX];
	struct proxy p;
	struct err err;
	size_t len;

	select_ok(&p, "https://sts.example.com/", "proxy:3128");
	assert_int_equal(proxy_connect_write(&p, &t, "tokenbridge-sidecar/1",
	                     buf, sizeof buf, &len, &err),
	    0);
	assert_int_equal(len, strlen(buf));
	assert_string_equal(buf,
	    "CONNECT sts.example.com:443 HTTP/1.1\r\n"
	    "Host: sts.example.com:443\r\n"
	    "User-Agent: tokenbridge-sidecar/1\r\n\r\n");
	select_ok(&p, "https://sts.example.com/",
	    "http://Aladdin:open%20sesame@proxy:3128");
	assert_int_equal(proxy_connect_write(&p, &t6, "ua", buf, sizeof buf,
	                     &len, &err),
	    0);
	assert_string_equal(buf,
	    "CONNECT [2001:db8::1]:8443 HTTP/1.1\r\n"
	    "Host: [2001:db8::1]:8443\r\n"
	    "User-Agent: ua\r\n"
	    "Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n");
	/* Too small: refused, and nothing of the credentials is left. */
	assert_int_equal(proxy_connect_write(&p, &t6, "ua", buf, 100, &len,
	                     &err),
	    -1);
	assert_err(&err, ERR_SYSTEM, "larger than");
	for (size_t i = 0; i < 100; i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(proxy_connect_write(&p, &t, "ua\r\nX: y", buf,
	                     sizeof buf, &len, &err),
	    -1);
}

/* ---- the CONNECT answer ---- */

struct answer {
	enum proxy_step step;
	struct err err;
	int status;
	size_t extra;
};

/* Feed `in` in pieces of `piece` bytes (0: whole), then end of stream. */
static struct answer
feed(const struct proxy *p, const char *in, size_t n, size_t piece)
{
	static char buf[PROXY_HEAD_MAX];
	struct proxy_reader r;
	struct answer a = { PROXY_MORE, { 0 }, 0, 0 };
	size_t off = 0, avail, k;
	char *space;

	proxy_reader_init(&r, p, buf, sizeof buf);
	while (a.step == PROXY_MORE) {
		space = proxy_reader_space(&r, &avail);
		assert_true(avail > 0);
		k = piece == 0 || piece > n - off ? n - off : piece;
		if (k > avail)
			k = avail;
		memcpy(space, in + off, k);
		off += k;
		a.step = proxy_reader_commit(&r, k, &a.err);
	}
	a.status = r.status;
	if (a.step == PROXY_DONE)
		(void)proxy_reader_extra(&r, &a.extra);
	return a;
}

/* The same answer whole, byte by byte and in 7-byte pieces. */
static struct answer
feed_all(const struct proxy *p, const char *in, size_t n)
{
	struct answer whole = feed(p, in, n, 0), a;
	static const size_t pieces[] = { 1, 7 };

	for (size_t i = 0; i < ARRAY_LEN(pieces); i++) {
		a = feed(p, in, n, pieces[i]);
		assert_int_equal(a.step, whole.step);
		assert_int_equal(a.status, whole.status);
		assert_string_equal(a.err.msg, whole.err.msg);
		/* Pieces stop at the head's end; a whole read may hold more. */
		if (pieces[i] == 1)
			assert_int_equal(a.extra, 0);
	}
	return whole;
}

static void
test_answer_ok(void **state)
{
	static const char *const ok[] = {
		"HTTP/1.1 200 Connection established\r\n\r\n",
		"HTTP/1.0 200 Connection established\r\n"
		"Proxy-agent: tinyproxy/1.11.1\r\n\r\n",
		"HTTP/1.1 200\r\n\r\n",
		"HTTP/1.1 200 \r\n\r\n",
		/* LF-only lines, as Go's textproto reads them. */
		"HTTP/1.1 200 OK\nVia: 1.1 squid\n\n",
		"HTTP/1.1 200 OK\r\nVia: 1.1 squid\n\r\n",
		/* Framing headers mean nothing on a 200 to CONNECT. */
		"HTTP/1.1 200 OK\r\nContent-Length: 99999\r\n"
		"Transfer-Encoding: gzip\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX-Empty:\r\nX-Tab: a\tb\r\n\r\n",
	};
	struct proxy p;
	struct answer a;

	select_ok(&p, "https://sts.example.com/", "proxy:3128");
	for (size_t i = 0; i < ARRAY_LEN(ok); i++) {
		a = feed_all(&p, ok[i], strlen(ok[i]));
		if (a.step != PROXY_DONE)
			fail_msg("\"%s\": %s", ok[i], a.err.msg);
		assert_int_equal(a.status, 200);
		assert_int_equal(a.extra, 0);
	}
}

static void
test_answer_extra(void **state)
{
	static const char in[] =
	    "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03";
	static char buf[PROXY_HEAD_MAX];
	struct proxy_reader r;
	struct proxy p;
	struct err err;
	const char *extra;
	size_t avail, n;
	char *space;

	select_ok(&p, "https://sts.example.com/", "proxy:3128");
	proxy_reader_init(&r, &p, buf, sizeof buf);
	space = proxy_reader_space(&r, &avail);
	memcpy(space, in, sizeof in - 1);
	assert_int_equal(proxy_reader_commit(&r, sizeof in - 1, &err),
	    PROXY_DONE);
	extra = proxy_reader_extra(&r, &n);
	assert_int_equal(n, 3);
	assert_memory_equal(extra, "\x16\x03\x03", 3);
	assert_int_equal(r.head_len, sizeof in - 4);
}

static void
expect_answer(const struct proxy *p, const char *in, size_t n,
    enum err_kind kind, const char *what)
{
	struct answer a = feed_all(p, in, n);

	if (a.step != PROXY_FAIL)
		fail_msg("\"%s\" accepted", in);
	assert_err(&a.err, kind, what);
	assert_printable(a.err.msg);
}

static void
test_answer_refused(void **state)
{
	static const char auth407[] =
	    "HTTP/1.1 407 Proxy Authentication Required\r\n"
	    "Proxy-Authenticate: Basic realm=\"squid\"\r\n"
	    "Content-Length: 5\r\n\r\nhello";
	struct proxy p;

	select_ok(&p, "https://sts.example.com/", "proxy:3128");
	expect_answer(&p, LIT(auth407), ERR_CONNECT, "credentials are missing");
	expect_answer(&p, LIT(auth407), ERR_CONNECT, "http://proxy:3128");
	expect_answer(&p, LIT(auth407), ERR_CONNECT, "HTTPS_PROXY");
	select_ok(&p, "https://sts.example.com/", "u:wrong@proxy:3128");
	expect_answer(&p, LIT(auth407), ERR_CONNECT,
	    "credentials in the "
	    "variable are wrong");
	expect_answer(&p, LIT("HTTP/1.0 401 Unauthorized\r\n\r\n"), ERR_CONNECT,
	    "answered 401: the credentials in the variable are "
	    "wrong");
	expect_answer(&p, LIT("HTTP/1.1 403 For\tbid\tden\r\n\r\n"),
	    ERR_CONNECT, "status 403 For bid den");
	expect_answer(&p, LIT("HTTP/1.1 403 Forbidden\r\n\r\n"), ERR_CONNECT,
	    "status 403 Forbidden");
	expect_answer(&p, LIT("HTTP/1.0 503 Service Unavailable\r\n\r\n"),
	    ERR_CONNECT, "status 503 Service Unavailable");
	expect_answer(&p, LIT("HTTP/1.1 502\r\n\r\n"), ERR_CONNECT,
	    "status 502");
	/* Go reads one answer to CONNECT: an interim 1xx is a refusal. */
	expect_answer(&p,
	    LIT("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"),
	    ERR_CONNECT, "status 100 Continue");
	expect_answer(&p, LIT("HTTP/1.1 204 No Content\r\n\r\n"), ERR_CONNECT,
	    "status 204");
	/* The reason phrase is cut, never the whole line. */
	{
		char longer[400] = "HTTP/1.1 403 ";

		memset(longer + 13, 'x', 300);
		memcpy(longer + 313, "\r\n\r\n", 5);
		expect_answer(&p, longer, strlen(longer), ERR_CONNECT,
		    "status 403 xxxx");
	}
}

static void
test_answer_malformed(void **state)
{
	static char big[PROXY_HEAD_MAX + 100];
	struct proxy p;

	select_ok(&p, "https://sts.example.com/", "proxy:3128");
	expect_answer(&p, LIT("SSH-2.0-OpenSSH_9.2\r\n"), ERR_HTTP,
	    "did not answer the CONNECT with HTTP");
	expect_answer(&p, LIT("\x15\x03\x03\x00\x02\x02\x46"), ERR_HTTP,
	    "speaks TLS");
	expect_answer(&p, LIT("http/1.1 200 OK\r\n\r\n"), ERR_HTTP,
	    "with HTTP");
	expect_answer(&p, LIT("HTTP/2 200\r\n\r\n"), ERR_HTTP, "with HTTP");
	expect_answer(&p, LIT("HTTP/1.1 20 OK\r\n\r\n"), ERR_HTTP, "with HTTP");
	expect_answer(&p, LIT("HTTP/1.1 200OK\r\n\r\n"), ERR_HTTP, "with HTTP");
	expect_answer(&p, LIT("HTTP/1.1 600 OK\r\n\r\n"), ERR_HTTP,
	    "with HTTP");
	expect_answer(&p, LIT("HTTP/1.1 200 O\x01K\r\n\r\n"), ERR_HTTP,
	    "with HTTP");
	expect_answer(&p, LIT("HTTP/1.1 200 OK\r\nNo colon\r\n\r\n"), ERR_HTTP,
	    "malformed header");
	expect_answer(&p, LIT("HTTP/1.1 200 OK\r\n: empty\r\n\r\n"), ERR_HTTP,
	    "malformed header");
	expect_answer(&p, LIT("HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n"),
	    ERR_HTTP, "malformed header");
	expect_answer(&p, LIT("HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n"), ERR_HTTP,
	    "malformed header");
	expect_answer(&p, LIT("HTTP/1.1 200 OK\r\nA: \0\r\n\r\n"), ERR_HTTP,
	    "NUL");
	expect_answer(&p, LIT(""), ERR_HTTP, "without answering");
	expect_answer(&p, LIT("HTTP/1.1 200 OK\r\n"), ERR_HTTP,
	    "in the middle");
	expect_answer(&p, LIT("HTT"), ERR_HTTP, "in the middle");
	memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
	memset(big + 20, 'a', sizeof big - 20);
	expect_answer(&p, big, sizeof big, ERR_HTTP, "over 8192 bytes");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_go_proxy_for_url),
		cmocka_unit_test(test_go_use_proxy),
		cmocka_unit_test(test_go_all_no_proxy),
		cmocka_unit_test(test_go_invalid_no_proxy),
		cmocka_unit_test(test_go_from_environment),
		cmocka_unit_test(test_no_proxy_forms),
		cmocka_unit_test(test_reasons),
		cmocka_unit_test(test_credentials),
		cmocka_unit_test(test_bad_proxy_values),
		cmocka_unit_test(test_long_credentials),
		cmocka_unit_test(test_shown_forms),
		cmocka_unit_test(test_base64_encode),
		cmocka_unit_test(test_connect_write),
		cmocka_unit_test(test_answer_ok),
		cmocka_unit_test(test_answer_extra),
		cmocka_unit_test(test_answer_refused),
		cmocka_unit_test(test_answer_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
