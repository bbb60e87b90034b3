/*
 * test_config.c: config_load through an injected environment, and Go
 * duration syntax.
 */
#include "unit.h"

#include "config.h"

/* ---- a fake environment ---- */

#define ENV_MAX 40

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

/* ---- client authentication and grant shapes ---- */

static void
test_oauth_defaults(void **state)
{
	struct config cfg;

	load_ok(&cfg);
	assert_int_equal(cfg.oauth.grant_type, GRANT_TOKEN_EXCHANGE);
	assert_int_equal(cfg.oauth.client_auth, GRANT_AUTH_NONE);
	assert_int_equal(cfg.oauth.output_format, OUTPUT_TOKEN);
	assert_null(cfg.oauth.client_id);
	assert_null(cfg.oauth.client_secret_path);
	assert_null(cfg.oauth.client_key_path);
	assert_null(cfg.oauth.tls_client_cert_path);
	assert_null(cfg.oauth.tls_client_key_path);
	assert_null(cfg.oauth.scope);
	assert_null(cfg.oauth.resource);
	assert_null(cfg.oauth.requested_token_type);
	assert_null(cfg.oauth.actor_token_path);
	assert_null(cfg.oauth.actor_token_type);
	/* A secret alone makes client_secret_basic the method. */
	env_set("CLIENT_ID", "c");
	env_set("CLIENT_SECRET_PATH", "/var/run/secrets/oauth/secret");
	load_ok(&cfg);
	assert_int_equal(cfg.oauth.client_auth, GRANT_AUTH_SECRET_BASIC);
	assert_string_equal(cfg.oauth.client_secret_path,
	    "/var/run/secrets/oauth/secret");
}

static void
test_oauth_values(void **state)
{
	static const char *const grants[] = { "token-exchange",
		"client-assertion", "jwt-bearer" };
	struct config cfg;

	for (size_t i = 0; i < ARRAY_LEN(grants); i++) {
		env_set("GRANT_TYPE", grants[i]);
		load_ok(&cfg);
		assert_int_equal(cfg.oauth.grant_type, i);
	}
	env_set("GRANT_TYPE", "token-exchange");
	env_set("CLIENT_ID", "c");
	env_set("CLIENT_AUTH", "client_secret_post");
	env_set("CLIENT_SECRET_PATH", "/s/secret");
	env_set("SCOPE", "a b");
	env_set("RESOURCE", "https://api.example/");
	env_set("REQUESTED_TOKEN_TYPE", "urn:x");
	env_set("ACTOR_TOKEN_PATH", "/a/token");
	env_set("ACTOR_TOKEN_TYPE", "urn:y");
	env_set("OUTPUT_FORMAT", "json");
	load_ok(&cfg);
	assert_int_equal(cfg.oauth.client_auth, GRANT_AUTH_SECRET_POST);
	assert_string_equal(cfg.oauth.scope, "a b");
	assert_string_equal(cfg.oauth.resource, "https://api.example/");
	assert_string_equal(cfg.oauth.requested_token_type, "urn:x");
	assert_string_equal(cfg.oauth.actor_token_path, "/a/token");
	assert_string_equal(cfg.oauth.actor_token_type, "urn:y");
	assert_int_equal(cfg.oauth.output_format, OUTPUT_JSON);
	env_set("CLIENT_SECRET_PATH", NULL);
	env_set("CLIENT_AUTH", "private_key_jwt");
	env_set("CLIENT_KEY_PATH", "/k/key.pem");
	load_ok(&cfg);
	assert_int_equal(cfg.oauth.client_auth, GRANT_AUTH_PRIVATE_KEY_JWT);
	env_set("CLIENT_KEY_PATH", NULL);
	env_set("CLIENT_AUTH", "tls_client_auth");
	env_set("TLS_CLIENT_CERT_PATH", "/t/tls.crt");
	env_set("TLS_CLIENT_KEY_PATH", "/t/tls.key");
	load_ok(&cfg);
	assert_int_equal(cfg.oauth.client_auth, GRANT_AUTH_TLS);
	assert_string_equal(cfg.oauth.tls_client_cert_path, "/t/tls.crt");
	/* mTLS at the transport with no client authentication. */
	env_set("CLIENT_AUTH", "none");
	load_ok(&cfg);
	assert_int_equal(cfg.oauth.client_auth, GRANT_AUTH_NONE);
}

/* One sentence naming the variable and what it accepts. */
static void
bad(const char *name, const char *value, const char *says)
{
	struct config cfg;
	struct err err = { 0 };

	env_set(name, value);
	assert_int_equal(config_load(&cfg, env_lookup, &err), -1);
	assert_err(&err, ERR_CONFIG, says);
	assert_printable(err.msg);
	env_set(name, NULL);
}

static void
test_oauth_bad_values(void **state)
{
	bad("GRANT_TYPE", "password",
	    "GRANT_TYPE=\"password\" is not known: use token-exchange, "
	    "client-assertion or jwt-bearer");
	bad("CLIENT_AUTH", "client_secret_jwt",
	    "CLIENT_AUTH=\"client_secret_jwt\" is not known: use none, "
	    "client_secret_basic, client_secret_post, private_key_jwt or "
	    "tls_client_auth");
	bad("OUTPUT_FORMAT", "yaml",
	    "OUTPUT_FORMAT=\"yaml\" is not known: use token or json");
	bad("CLIENT_SECRET_PATH", "/s/", "client_secret_basic needs CLIENT_ID");
	env_set("CLIENT_ID", "c");
	bad("CLIENT_SECRET_PATH", "/s/", "names a directory");
	bad("ACTOR_TOKEN_PATH", "/a/", "ACTOR_TOKEN_PATH");
}

static void
test_oauth_sizes(void **state)
{
	static char big[CONFIG_FIELD_MAX + 2];

	memset(big, 'a', sizeof big - 1);
	bad("CLIENT_ID", big, "CLIENT_ID is longer than 2048 bytes");
	bad("SCOPE", big, "SCOPE is longer than 2048 bytes");
	bad("RESOURCE", big, "RESOURCE is longer than 2048 bytes");
}

static void
test_oauth_combinations(void **state)
{
	/* CLIENT_SECRET in the environment is refused, whatever else. */
	bad("CLIENT_SECRET", "hunter2",
	    "CLIENT_SECRET is set in the environment, where process listings "
	    "and crash reports show it: mount the secret as a file and set "
	    "CLIENT_SECRET_PATH instead");
	env_set("CLIENT_AUTH", "private_key_jwt");
	bad("CLIENT_KEY_PATH", "/k.pem",
	    "CLIENT_AUTH=private_key_jwt needs CLIENT_ID: set it");
	env_set("CLIENT_ID", "c");
	bad("CLIENT_AUTH", "private_key_jwt",
	    "CLIENT_AUTH=private_key_jwt needs CLIENT_KEY_PATH: set it");
	bad("CLIENT_AUTH", "tls_client_auth",
	    "CLIENT_AUTH=tls_client_auth needs TLS_CLIENT_CERT_PATH and "
	    "TLS_CLIENT_KEY_PATH: set it");
	bad("CLIENT_AUTH", "client_secret_basic",
	    "CLIENT_AUTH=client_secret_basic needs CLIENT_SECRET_PATH");
	bad("CLIENT_AUTH", "client_secret_post",
	    "CLIENT_AUTH=client_secret_post needs CLIENT_SECRET_PATH");
	bad("TLS_CLIENT_CERT_PATH", "/t.crt",
	    "TLS_CLIENT_CERT_PATH and TLS_CLIENT_KEY_PATH go together");
	bad("TLS_CLIENT_KEY_PATH", "/t.key",
	    "TLS_CLIENT_CERT_PATH and TLS_CLIENT_KEY_PATH go together");
	/* A key or secret that the method would not use. */
	env_set("CLIENT_AUTH", "none");
	bad("CLIENT_KEY_PATH", "/k.pem",
	    "CLIENT_KEY_PATH is set but CLIENT_AUTH is not private_key_jwt");
	bad("CLIENT_SECRET_PATH", "/s",
	    "CLIENT_SECRET_PATH is set but CLIENT_AUTH is neither "
	    "client_secret_basic nor client_secret_post");
	bad("ACTOR_TOKEN_PATH", "/a", "ACTOR_TOKEN_PATH and ACTOR_TOKEN_TYPE");
	bad("ACTOR_TOKEN_TYPE", "urn:a",
	    "ACTOR_TOKEN_PATH and ACTOR_TOKEN_TYPE");
}

static void
test_oauth_shapes(void **state)
{
	env_set("GRANT_TYPE", "client-assertion");
	env_set("CLIENT_ID", "c");
	bad("AUDIENCE", "a",
	    "AUDIENCE is set but only GRANT_TYPE=token-exchange sends it");
	bad("SUBJECT_TOKEN_TYPE", "urn:x", "SUBJECT_TOKEN_TYPE is set but");
	bad("REQUESTED_TOKEN_TYPE", "urn:x", "REQUESTED_TOKEN_TYPE is set");
	bad("ACTOR_TOKEN_PATH", "/a", "ACTOR_TOKEN_PATH is set but");
	env_set("CLIENT_SECRET_PATH", "/s");
	bad("CLIENT_AUTH", "client_secret_post",
	    "GRANT_TYPE=client-assertion authenticates the client with the "
	    "ServiceAccount token itself: CLIENT_AUTH=client_secret_post "
	    "would send a second client authentication; use CLIENT_AUTH=none");
	/* The default, client_secret_basic from the secret, too. */
	bad("GRANT_TYPE", "client-assertion", "use CLIENT_AUTH=none");
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
		cmocka_unit_test_setup(test_oauth_defaults, env_reset),
		cmocka_unit_test_setup(test_oauth_values, env_reset),
		cmocka_unit_test_setup(test_oauth_bad_values, env_reset),
		cmocka_unit_test_setup(test_oauth_sizes, env_reset),
		cmocka_unit_test_setup(test_oauth_combinations, env_reset),
		cmocka_unit_test_setup(test_oauth_shapes, env_reset),
		cmocka_unit_test(test_duration_valid),
		cmocka_unit_test(test_duration_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
