/*
 * test_config.c: config_load through an injected environment, and Go
 * duration syntax.
 */
#include "unit.h"

#include "config.h"

/* ---- a fake environment ---- */

#define ENV_MAX 24

static struct {
	const char *name;
	const char *value;
} env[ENV_MAX];

static const char *
env_lookup(const char *name)
{
	for (size_t i = 0; i < ENV_MAX && env[i].name; i++)
		if (strcmp(env[i].name, name) == 0)
			return env[i].value;
	return NULL;
}

/* Set or, with value NULL, unset a variable. */
static void
env_set(const char *name, const char *value)
{
	size_t i;

	for (i = 0; i < ENV_MAX && env[i].name; i++)
		if (strcmp(env[i].name, name) == 0)
			break;
	assert_true(i < ENV_MAX);
	/* cppcheck-suppress arrayIndexOutOfBounds ; assert_true stops there */
	env[i].name = name;
	/* cppcheck-suppress arrayIndexOutOfBounds ; assert_true stops there */
	env[i].value = value;
}

/* The smallest valid environment: the three required variables. */
static int
env_reset(void **state)
{
	memset(env, 0, sizeof env);
	env_set("SA_TOKEN_PATH", "/var/run/secrets/tokens/sa-token");
	env_set("OUTPUT_TOKEN_PATH", "/var/run/tokenbridge/token");
	env_set("EXCHANGE_URL", "https://sts.example.com/v1/token");
	return 0;
}

static void
load_ok(struct config *cfg)
{
	struct err err = { 0 };

	memset(cfg, 0xa5, sizeof *cfg);
	if (config_load(cfg, env_lookup, &err) != 0)
		fail_msg("config_load failed: %s", err.msg);
}

/* Loading fails with a config error whose message names `var`. */
static void
load_fails(const char *var)
{
	struct config cfg;
	struct err err = { 0 };

	assert_int_equal(config_load(&cfg, env_lookup, &err), -1);
	assert_err(&err, ERR_CONFIG, var);
}

/* ---- config_load ---- */

static void
test_defaults(void **state)
{
	struct config cfg;

	load_ok(&cfg);
	assert_string_equal(cfg.sa_token_path,
	    "/var/run/secrets/tokens/sa-token");
	assert_string_equal(cfg.output_token_path,
	    "/var/run/tokenbridge/token");
	assert_string_equal(cfg.exchange_url,
	    "https://sts.example.com/v1/token");
	assert_true(cfg.url.tls);
	assert_string_equal(cfg.url.host, "sts.example.com");
	assert_int_equal(cfg.url.port, 443);
	assert_string_equal(cfg.url.target, "/v1/token");
	assert_null(cfg.audience);
	assert_string_equal(cfg.subject_token_type,
	    CONFIG_DEFAULT_SUBJECT_TOKEN_TYPE);
	assert_string_equal(cfg.ca_bundle_path, CONFIG_DEFAULT_CA_BUNDLE);
	assert_int_equal(cfg.refresh_interval_ms, 3600u * 1000);
	assert_int_equal(cfg.exchange_timeout_ms, 30u * 1000);
	assert_int_equal(cfg.token_file_mode, 0600);
	assert_false(cfg.allow_insecure_http);
	assert_int_equal(cfg.log_format, LOG_TEXT);
	assert_int_equal(cfg.log_level, LOG_INFO);
}

static void
test_required(void **state)
{
	static const char *const required[] = {
		"SA_TOKEN_PATH",
		"OUTPUT_TOKEN_PATH",
		"EXCHANGE_URL",
	};

	for (size_t i = 0; i < ARRAY_LEN(required); i++) {
		const char *saved = env_lookup(required[i]);

		env_set(required[i], NULL);
		load_fails(required[i]);
		/* An empty value counts as unset. */
		env_set(required[i], "");
		load_fails(required[i]);
		env_set(required[i], saved);
	}
}

static void
test_optional_strings(void **state)
{
	struct config cfg;

	env_set("AUDIENCE", "api://my-service");
	env_set("SUBJECT_TOKEN_TYPE", "urn:ietf:params:oauth:token-type:jwt");
	load_ok(&cfg);
	assert_string_equal(cfg.audience, "api://my-service");
	assert_string_equal(cfg.subject_token_type,
	    "urn:ietf:params:oauth:token-type:jwt");

	env_set("AUDIENCE", "");
	env_set("SUBJECT_TOKEN_TYPE", "");
	load_ok(&cfg);
	assert_null(cfg.audience);
	assert_string_equal(cfg.subject_token_type,
	    CONFIG_DEFAULT_SUBJECT_TOKEN_TYPE);
}

static void
test_ca_bundle(void **state)
{
	struct config cfg;

	env_set("SSL_CERT_FILE", "/etc/ssl/other.pem");
	load_ok(&cfg);
	assert_string_equal(cfg.ca_bundle_path, "/etc/ssl/other.pem");

	/* CA_BUNDLE_PATH wins over SSL_CERT_FILE. */
	env_set("CA_BUNDLE_PATH", "/config/ca.pem");
	load_ok(&cfg);
	assert_string_equal(cfg.ca_bundle_path, "/config/ca.pem");

	env_set("SSL_CERT_FILE", NULL);
	load_ok(&cfg);
	assert_string_equal(cfg.ca_bundle_path, "/config/ca.pem");
}

static void
test_durations(void **state)
{
	struct config cfg;

	env_set("REFRESH_INTERVAL", "1h30m");
	env_set("EXCHANGE_TIMEOUT", "2.5s");
	load_ok(&cfg);
	assert_int_equal(cfg.refresh_interval_ms, 5400u * 1000);
	assert_int_equal(cfg.exchange_timeout_ms, 2500);

	env_set("REFRESH_INTERVAL", "90s");
	env_set("EXCHANGE_TIMEOUT", "1500ms");
	load_ok(&cfg);
	assert_int_equal(cfg.refresh_interval_ms, 90u * 1000);
	assert_int_equal(cfg.exchange_timeout_ms, 1500);
}

static void
test_bad_durations(void **state)
{
	static const char *const vars[] = {
		"REFRESH_INTERVAL",
		"EXCHANGE_TIMEOUT",
	};
	/* "0" is a valid Go duration, but neither interval may be zero. */
	static const char *const bad[] = {
		"0",
		"0s",
		"10",
		"-1m",
		"1d",
		"soon",
		"9999999999h",
	};

	for (size_t v = 0; v < ARRAY_LEN(vars); v++) {
		for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
			env_set(vars[v], bad[i]);
			load_fails(vars[v]);
		}
		env_set(vars[v], NULL);
	}
}

static void
test_token_file_mode(void **state)
{
	static const struct {
		const char *text;
		unsigned mode;
	} good[] = {
		{ "0600", 0600 },
		{ "600", 0600 },
		{ "0640", 0640 },
		{ "0644", 0644 },
		{ "0444", 0444 },
		{ "0400", 0400 },
		{ "0755", 0755 },
	};
	/* Owner must read; group and others must not write; no set-id or
	 * sticky bits; octal only. */
	static const char *const bad[] = {
		"0200",
		"0000",
		"0",
		"0620",
		"0602",
		"0666",
		"0777",
		"01600",
		"04600",
		"2600",
		"10600",
		"0x180",
		"384",
		"0680",
		"rw-r--r--",
		"-0600",
		" 0600",
	};
	struct config cfg;

	for (size_t i = 0; i < ARRAY_LEN(good); i++) {
		env_set("TOKEN_FILE_MODE", good[i].text);
		load_ok(&cfg);
		assert_int_equal(cfg.token_file_mode, good[i].mode);
	}
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		env_set("TOKEN_FILE_MODE", bad[i]);
		load_fails("TOKEN_FILE_MODE");
	}
}

static void
test_plain_http(void **state)
{
	struct config cfg;

	env_set("EXCHANGE_URL", "http://sts.example.com:8080/token");
	load_fails("EXCHANGE_URL");

	env_set("ALLOW_INSECURE_HTTP", "false");
	load_fails("EXCHANGE_URL");

	env_set("ALLOW_INSECURE_HTTP", "true");
	load_ok(&cfg);
	assert_true(cfg.allow_insecure_http);
	assert_false(cfg.url.tls);
	assert_int_equal(cfg.url.port, 8080);
	/* No TLS, so no bundle to load. */
	assert_null(cfg.ca_bundle_path);

	/* Plain http may use an address: there is no name to check. */
	env_set("EXCHANGE_URL", "http://127.0.0.1:8080/token");
	load_ok(&cfg);
	assert_int_equal(cfg.url.host_kind, URL_HOST_IPV4);

	env_set("ALLOW_INSECURE_HTTP", "maybe");
	load_fails("ALLOW_INSECURE_HTTP");
}

static void
test_https_address(void **state)
{
	static const struct {
		const char *url;
		enum url_host_kind kind;
		const char *host;
	} cases[] = {
		{ "https://127.0.0.1/token", URL_HOST_IPV4, "127.0.0.1" },
		{ "https://10.1.2.3:8443/token", URL_HOST_IPV4, "10.1.2.3" },
		{ "https://[::1]/token", URL_HOST_IPV6, "::1" },
		{ "https://[2001:DB8::1]:443/token", URL_HOST_IPV6,
		    "2001:db8::1" },
	};
	struct config cfg;

	/* As in Go: an IP address is checked against iPAddress SANs. */
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		env_set("EXCHANGE_URL", cases[i].url);
		load_ok(&cfg);
		assert_true(cfg.url.tls);
		assert_int_equal(cfg.url.host_kind, cases[i].kind);
		assert_string_equal(cfg.url.host, cases[i].host);
	}
}

static void
test_bad_url(void **state)
{
	static const char *const urls[] = {
		"sts.example.com/token",
		"ftp://sts.example.com/token",
		"https://",
		"https://user:pw@sts.example.com/token",
	};

	for (size_t i = 0; i < ARRAY_LEN(urls); i++) {
		env_set("EXCHANGE_URL", urls[i]);
		load_fails("EXCHANGE_URL");
	}
}

static void
test_logging(void **state)
{
	static const struct {
		const char *text;
		enum log_level level;
	} levels[] = {
		{ "debug", LOG_DEBUG },
		{ "info", LOG_INFO },
		{ "warn", LOG_WARN },
		{ "error", LOG_ERROR },
	};
	struct config cfg;

	env_set("LOG_FORMAT", "json");
	load_ok(&cfg);
	assert_int_equal(cfg.log_format, LOG_JSON);
	env_set("LOG_FORMAT", "text");
	load_ok(&cfg);
	assert_int_equal(cfg.log_format, LOG_TEXT);

	for (size_t i = 0; i < ARRAY_LEN(levels); i++) {
		env_set("LOG_LEVEL", levels[i].text);
		load_ok(&cfg);
		assert_int_equal(cfg.log_level, levels[i].level);
	}

	env_set("LOG_LEVEL", "verbose");
	load_fails("LOG_LEVEL");
	env_set("LOG_LEVEL", NULL);
	env_set("LOG_FORMAT", "xml");
	load_fails("LOG_FORMAT");
}

/* ---- duration_parse ---- */

#define NS 1ull
#define US (1000 * NS)
#define MS (1000 * US)
#define SEC (1000 * MS)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)

static void
test_paths_and_field_sizes(void **state)
{
	static char long_value[CONFIG_FIELD_MAX + 2];
	static char long_path[4100];

	env_set("OUTPUT_TOKEN_PATH", "/var/run/tokenbridge/");
	load_fails("OUTPUT_TOKEN_PATH");
	env_reset(state);
	env_set("SA_TOKEN_PATH", "/var/run/secrets/tokens/");
	load_fails("SA_TOKEN_PATH");
	env_reset(state);
	memset(long_path, 'a', sizeof long_path - 1);
	long_path[0] = '/';
	env_set("OUTPUT_TOKEN_PATH", long_path);
	load_fails("OUTPUT_TOKEN_PATH");
	env_reset(state);
	/* The longest accepted value fits; one byte more is refused. */
	memset(long_value, 'x', CONFIG_FIELD_MAX);
	env_set("AUDIENCE", long_value);
	load_ok(&(struct config){ 0 });
	long_value[CONFIG_FIELD_MAX] = 'x';
	load_fails("AUDIENCE");
	env_reset(state);
	env_set("SUBJECT_TOKEN_TYPE", long_value);
	load_fails("SUBJECT_TOKEN_TYPE");
}

static void
test_duration_valid(void **state)
{
	static const struct {
		const char *text;
		uint64_t ns;
	} cases[] = {
		{ "0", 0 },
		{ "0s", 0 },
		{ "0h", 0 },
		{ "1h", HOUR },
		{ "30m", 30 * MIN },
		{ "1h30m", 90 * MIN },
		{ "1.5h", 90 * MIN },
		{ "90s", 90 * SEC },
		{ "500ms", 500 * MS },
		{ "2us", 2 * US },
		{ "3ns", 3 },
		{ "4\xc2\xb5s", 4 * US }, /* U+00B5 MICRO SIGN */
		{ "5\xce\xbcs", 5 * US }, /* U+03BC GREEK SMALL MU */
		{ "1h1m1s1ms1us1ns", HOUR + MIN + SEC + MS + US + 1 },
		{ "1s1h", HOUR + SEC }, /* any order, as Go */
		{ "1m1m", 2 * MIN },
		{ "1.h", HOUR },
		{ ".5h", 30 * MIN },
		{ "0.5s", 500 * MS },
		{ "1m30.5s", 90 * SEC + 500 * MS },
		{ "1.25m", 75 * SEC },
		{ "000001s", SEC },
		{ "+1s", SEC },
		{ "+0", 0 },
		{ "00000000000000000000000000001s", SEC },
		/* Go keeps whole nanoseconds, truncating the rest. */
		{ "1.5ns", 1 },
		{ "1.0000000001s", SEC },
		{ "0.3333333333s", 333333333 },
		{ "2562047h", 2562047 * HOUR },
		{ "9223372036854775807ns", INT64_MAX },
		{ "2562047h47m16.854775807s", INT64_MAX },
	};

	int bad = 0;

	/* Report every wrong case before failing. */
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct err err = { 0 };
		uint64_t ns = 12345;

		if (duration_parse(cases[i].text, "X", &ns, &err) != 0) {
			print_error("\"%s\" refused: %s\n", cases[i].text,
			    err.msg);
			bad++;
		} else if (ns != cases[i].ns) {
			print_error("\"%s\" gave %llu ns, want %llu\n",
			    cases[i].text, (unsigned long long)ns,
			    (unsigned long long)cases[i].ns);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

static void
test_duration_invalid(void **state)
{
	static const char *const cases[] = {
		"",
		"1",
		"10",
		"1.5",
		"1x",
		"1H",
		"1S",
		"h",
		".h",
		".",
		"..5s",
		"1..5s",
		"1.5.5s",
		"-1s",
		"-0",
		"+",
		"+-1s",
		"++1s",
		" 1h",
		"1h ",
		"1h 30m",
		"1h30",
		"1h-30m",
		"1hh",
		"1sm",
		"ms",
		"1e3s",
		"0x10s",
		"1_000s",
		"\xc2\xb5s",
		"1\xc2s",
		"1\xb5s",
		"9999999999h",
		"2562048h",
		"9223372036854775808ns",
		"18446744073709551616ns",
		"99999999999999999999ns",
		"2562047h47m16.854775808s",
		"9223372036854775807ns1ns",
		"106751d",
	};

	int bad = 0;

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct err err = { 0 };
		uint64_t ns = 0;

		if (duration_parse(cases[i], "REFRESH_INTERVAL", &ns, &err) ==
		    0) {
			print_error("\"%s\" accepted as %llu ns\n", cases[i],
			    (unsigned long long)ns);
			bad++;
			continue;
		}
		assert_err(&err, ERR_CONFIG, "REFRESH_INTERVAL");
	}
	assert_int_equal(bad, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_defaults, env_reset),
		cmocka_unit_test_setup(test_required, env_reset),
		cmocka_unit_test_setup(test_optional_strings, env_reset),
		cmocka_unit_test_setup(test_ca_bundle, env_reset),
		cmocka_unit_test_setup(test_durations, env_reset),
		cmocka_unit_test_setup(test_bad_durations, env_reset),
		cmocka_unit_test_setup(test_token_file_mode, env_reset),
		cmocka_unit_test_setup(test_plain_http, env_reset),
		cmocka_unit_test_setup(test_https_address, env_reset),
		cmocka_unit_test_setup(test_bad_url, env_reset),
		cmocka_unit_test_setup(test_logging, env_reset),
		cmocka_unit_test_setup(test_paths_and_field_sizes, env_reset),
		cmocka_unit_test(test_duration_valid),
		cmocka_unit_test(test_duration_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
