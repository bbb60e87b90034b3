/*
 * test_configfile.c: CONFIG_PATH's file: every key, what is refused and
 * why, and the environment's part.
 */
#include "unit.h"

#include <sys/stat.h>
#include <unistd.h>

#include "configfile.h"

#define SEEDS TB_SOURCE_DIR "/tests/fuzz/corpus/configfile/"

/* ---- a fake environment ---- */

static const char *env_name;
static const char *env_value;

static const char *
env(const char *name)
{
	if (strcmp(name, "LOG_LEVEL") == 0)
		return "debug";
	if (env_name != NULL && strcmp(name, env_name) == 0)
		return env_value;
	return NULL;
}

static struct configfile file;

static int
reset(void **state)
{
	env_name = env_value = NULL;
	memset(&file, 0, sizeof file);
	return 0;
}

static int
parse(const char *text, struct err *err)
{
	return configfile_parse(&file, "/etc/tb/tokens.json", text,
	    strlen(text), env, err);
}

/* Parsing text fails with a config error naming each of the words. */
static void
refused(const char *text, const char *word, const char *word2)
{
	struct err err = { 0 };

	assert_int_equal(parse(text, &err), -1);
	assert_err(&err, ERR_CONFIG, word);
	if (word2 != NULL)
		assert_contains(err.msg, word2);
	assert_contains(err.msg, "/etc/tb/tokens.json");
}

/* Token i's configuration fails, naming the words. */
static void
config_refused(const char *text, size_t i, const char *word, const char *word2)
{
	struct config cfg;
	struct err err = { 0 };

	assert_int_equal(parse(text, &err), 0);
	assert_int_equal(configfile_config(&file, i, &cfg, &err), -1);
	assert_err(&err, ERR_CONFIG, word);
	if (word2 != NULL)
		assert_contains(err.msg, word2);
}

#define BASE \
	"\"sa_token_path\": \"/t/a\", \"output_token_path\": \"/o/a\", " \
	"\"exchange_url\": \"https://sts.example.com/token\""

/* ---- every key ---- */

static void
test_every_key(void **state)
{
	struct config a, b, c;
	struct err err = { 0 };

	if (configfile_read(&file, SEEDS "every-key.json", env, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(file.count, 3);
	assert_int_equal(configfile_config(&file, 0, &a, &err), 0);
	assert_string_equal(a.name, "a");
	assert_string_equal(a.sa_token_path, "/t/a");
	assert_string_equal(a.output_token_path, "/o/a");
	assert_string_equal(a.exchange_url, "https://sts.example.com/token");
	assert_string_equal(a.url.host, "sts.example.com");
	assert_string_equal(a.audience, "aud");
	assert_int_equal(a.refresh_interval_ms, 3600u * 1000);
	assert_string_equal(a.subject_token_type,
	    "urn:ietf:params:oauth:token-type:jwt");
	assert_int_equal(a.token_file_mode, 0600);
	assert_int_equal(a.exchange_timeout_ms, 30u * 1000);
	assert_false(a.allow_insecure_http);
	assert_string_equal(a.ca_bundle_path, "/etc/ssl/ca.pem");
	assert_int_equal(a.oauth.grant_type, GRANT_TOKEN_EXCHANGE);
	assert_string_equal(a.oauth.client_id, "c");
	assert_string_equal(a.oauth.client_secret_path, "/s/secret");
	assert_int_equal(a.oauth.client_auth, GRANT_AUTH_SECRET_POST);
	assert_string_equal(a.oauth.tls_client_cert_path, "/s/tls.crt");
	assert_string_equal(a.oauth.tls_client_key_path, "/s/tls.key");
	assert_string_equal(a.oauth.scope, "read write");
	assert_string_equal(a.oauth.resource, "https://api.example.com/");
	assert_string_equal(a.oauth.requested_token_type,
	    "urn:ietf:params:oauth:token-type:access_token");
	assert_string_equal(a.oauth.actor_token_path, "/t/actor");
	assert_string_equal(a.oauth.actor_token_type,
	    "urn:ietf:params:oauth:token-type:jwt");
	assert_int_equal(a.oauth.output_format, OUTPUT_JSON);
	/* Process-wide settings come from the environment. */
	assert_int_equal(a.log_level, LOG_DEBUG);
	assert_int_equal(configfile_config(&file, 1, &b, &err), 0);
	assert_string_equal(b.name, "b");
	assert_int_equal(b.oauth.grant_type, GRANT_CLIENT_ASSERTION);
	assert_int_equal(b.oauth.client_auth, GRANT_AUTH_NONE);
	assert_null(b.audience);
	assert_int_equal(b.refresh_interval_ms, 3600u * 1000);
	assert_int_equal(configfile_config(&file, 2, &c, &err), 0);
	assert_int_equal(c.oauth.grant_type, GRANT_JWT_BEARER);
	assert_int_equal(c.oauth.client_auth, GRANT_AUTH_PRIVATE_KEY_JWT);
	assert_string_equal(c.oauth.client_key_path, "/s/key.pem");
}

static void
test_insecure_http_is_a_boolean(void **state)
{
	struct config cfg;
	struct err err = { 0 };

	assert_int_equal(parse("{\"tokens\": [{\"name\": \"x\", "
	                       "\"sa_token_path\": \"/t\", "
	                       "\"output_token_path\": \"/o\", "
	                       "\"exchange_url\": \"http://127.0.0.1:1/t\", "
	                       "\"allow_insecure_http\": true}]}",
	                     &err),
	    0);
	assert_int_equal(configfile_config(&file, 0, &cfg, &err), 0);
	assert_true(cfg.allow_insecure_http);
	assert_null(cfg.ca_bundle_path);
	/* Without it, the environment's message, in the file's words. */
	config_refused("{\"tokens\": [{\"name\": \"x\", \"sa_token_path\": "
	               "\"/t\", \"output_token_path\": \"/o\", "
	               "\"exchange_url\": \"http://127.0.0.1:1/t\"}]}",
	    0, "allow_insecure_http=true",
	    "token x: exchange_url uses http://");
}

/* ---- refused ---- */

static void
test_unknown_keys(void **state)
{
	refused("{\"tokens\": [{\"name\": \"x\", " BASE ", \"audiense\": "
	        "\"a\"}]}",
	    "unknown key \"audiense\"", "tokens[0]");
	/* The environment's spelling is not a key. */
	refused("{\"tokens\": [{\"name\": \"x\", \"SA_TOKEN_PATH\": \"/t\"}]}",
	    "unknown key \"SA_TOKEN_PATH\"", NULL);
	/* Process-wide settings stay in the environment. */
	refused("{\"tokens\": [{\"name\": \"x\", \"health_addr\": \":1\"}]}",
	    "unknown key \"health_addr\"", NULL);
	refused("{\"tokens\": [{\"name\": \"x\", \"client_secret\": \"s\"}]}",
	    "unknown key \"client_secret\"", NULL);
	refused("{\"tokens\": [], \"version\": 1}", "unknown key \"version\"",
	    "only \"tokens\"");
	/* A control character in a key is not echoed. */
	refused("{\"tokens\": [{\"name\": \"x\", \"a\\u001bb\": \"1\"}]}",
	    "unknown key \"a?b\"", NULL);
}

static void
test_wrong_types(void **state)
{
	refused("{\"tokens\": [{\"name\": \"x\", \"audience\": 7}]}",
	    "audience: not a string", NULL);
	refused("{\"tokens\": [{\"name\": \"x\", \"refresh_interval\": 3600}]}",
	    "refresh_interval: not a string", "\"1h\"");
	refused("{\"tokens\": [{\"name\": \"x\", \"token_file_mode\": 640}]}",
	    "token_file_mode: not a string", "\"0640\"");
	refused("{\"tokens\": [{\"name\": \"x\", \"scope\": null}]}",
	    "scope: not a string", NULL);
	refused("{\"tokens\": [{\"name\": \"x\", \"scope\": [\"a\"]}]}",
	    "scope: not a string", NULL);
	refused("{\"tokens\": [{\"name\": \"x\", \"allow_insecure_http\": "
	        "\"true\"}]}",
	    "allow_insecure_http: not a boolean", NULL);
	refused("{\"tokens\": [{\"name\": \"x\", \"allow_insecure_http\": 1}]}",
	    "allow_insecure_http: not a boolean", NULL);
	refused("{\"tokens\": [{\"name\": 1}]}", "name: not a name", NULL);
	/* Not cut at the NUL into "a". */
	refused("{\"tokens\": [{\"name\": \"a\\u0000b\"}]}", "name: not a name",
	    NULL);
	refused("{\"tokens\": [\"x\"]}", "tokens[0]: not an object", NULL);
	refused("{\"tokens\": {\"name\": \"x\"}}", "no \"tokens\" list", NULL);
	refused("{\"tokens\": []}", "no \"tokens\" list", NULL);
	refused("{}", "no \"tokens\" list", NULL);
	refused("[]", "is not a JSON object", NULL);
	refused("{\"tokens\": [{\"name\": \"x\",}]}", "not valid JSON", NULL);
	refused("", "not valid JSON", NULL);
}

static void
test_names(void **state)
{
	static const char *const bad[] = { "\"\"", "\"App\"", "\"a_b\"",
		"\"a b\"", "\"a\\u00e9\"",
		"\"0123456789012345678901234567890123456789012345678901234567"
		"890123\"" };
	char text[256];

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		(void)snprintf(text, sizeof text,
		    "{\"tokens\": [{\"name\": %s}]}", bad[i]);
		refused(text, "name: not a name of 1 to 63", NULL);
	}
	refused("{\"tokens\": [{" BASE "}]}", "tokens[0]: no name", NULL);
	refused("{\"tokens\": [{\"name\": \"a\"}, {\"name\": \"b\"}, "
	        "{\"name\": \"a\"}]}",
	    "tokens[2]: name: another token has this name", NULL);
}

static void
test_duplicates(void **state)
{
	refused("{\"tokens\": [{\"name\": \"x\", \"audience\": \"a\", "
	        "\"audience\": \"b\"}]}",
	    "audience: the key appears twice", NULL);
	refused("{\"tokens\": [{\"name\": \"x\", \"name\": \"y\"}]}",
	    "name: the key appears twice", NULL);
	refused("{\"tokens\": [{\"name\": \"x\"}], \"tokens\": []}",
	    "\"tokens\" appears twice", NULL);
}

static void
test_too_many_tokens(void **state)
{
	struct err err = { 0 };

	assert_int_equal(configfile_read(&file, SEEDS "nine-tokens.json", env,
	                     &err),
	    -1);
	assert_err(&err, ERR_CONFIG, "lists 9 tokens");
	assert_contains(err.msg, "at most 8");
}

static void
test_too_large(void **state)
{
	static char big[CONFIGFILE_MAX + 2];
	struct err err = { 0 };

	memset(big, ' ', sizeof big - 1);
	assert_int_equal(configfile_parse(&file, "/big.json", big,
	                     sizeof big - 1, env, &err),
	    -1);
	assert_err(&err, ERR_CONFIG, "is over 65536 bytes");
}

/* config.c's checks, named in the file's words. */
static void
test_shared_checks(void **state)
{
	config_refused("{\"tokens\": [{\"name\": \"app-a\"}]}", 0,
	    "CONFIG_PATH=/etc/tb/tokens.json: token app-a: sa_token_path is "
	    "not set",
	    NULL);
	config_refused("{\"tokens\": [{\"name\": \"x\", " BASE
	               ", \"refresh_interval\": \"1 hour\"}]}",
	    0, "refresh_interval=\"1 hour\" is not a valid duration", NULL);
	config_refused("{\"tokens\": [{\"name\": \"x\", " BASE
	               ", \"token_file_mode\": \"0666\"}]}",
	    0, "token_file_mode=0666 lets the group or others write", NULL);
	config_refused("{\"tokens\": [{\"name\": \"x\", " BASE
	               ", \"tls_client_cert_path\": \"/c\"}]}",
	    0, "tls_client_cert_path and tls_client_key_path go together",
	    NULL);
	config_refused("{\"tokens\": [{\"name\": \"a\", " BASE
	               "}, {\"name\": \"b\", " BASE
	               ", \"grant_type\": \"password\"}]}",
	    1, "token b: grant_type=\"password\" is not known", NULL);
}

static void
test_environment_overlap(void **state)
{
	env_name = "AUDIENCE";
	env_value = "aud";
	refused("{\"tokens\": [{\"name\": \"x\", " BASE "}]}",
	    "and AUDIENCE are both set, and neither wins", "\"audience\"");
	/* Empty counts as unset, as everywhere. */
	env_value = "";
	assert_int_equal(parse("{\"tokens\": [{\"name\": \"x\", " BASE "}]}",
	                     &(struct err){ 0 }),
	    0);
	/* Process-wide settings are the environment's alone. */
	env_name = "SSL_CERT_FILE";
	env_value = "/etc/ca.pem";
	assert_int_equal(parse("{\"tokens\": [{\"name\": \"x\", " BASE "}]}",
	                     &(struct err){ 0 }),
	    0);
}

/* A FIFO nobody writes is refused at once, not waited on for ever. */
static void
test_fifo(void)
{
	struct err err = { 0 };
	char path[64];

	(void)snprintf(path, sizeof path, "/tmp/test-configfile-%d",
	    (int)getpid());
	(void)unlink(path);
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(5);
	assert_int_equal(configfile_read(&file, path, env, &err), -1);
	alarm(0);
	assert_err(&err, ERR_CONFIG, "is not a regular file");
	assert_int_equal(unlink(path), 0);
}

static void
test_unreadable(void **state)
{
	struct err err = { 0 };

	assert_int_equal(configfile_read(&file, "/nonexistent/tokens.json", env,
	                     &err),
	    -1);
	assert_err(&err, ERR_CONFIG, "/nonexistent/tokens.json cannot be");
	assert_contains(err.msg, "No such file");
	assert_int_equal(configfile_read(&file, "/tmp", env, &err), -1);
	assert_err(&err, ERR_CONFIG, "is not a regular file");
	test_fifo();
}

/* Without CONFIG_PATH nothing changes: one token, without a name. */
static void
test_environment_only(void **state)
{
	struct config cfg;
	struct err err = { 0 };

	env_name = "SA_TOKEN_PATH";
	env_value = "/t";
	assert_int_equal(config_load(&cfg, env, &err), -1);
	assert_err(&err, ERR_CONFIG, "OUTPUT_TOKEN_PATH is not set");
	assert_not_contains(err.msg, "CONFIG_PATH");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_every_key, reset),
		cmocka_unit_test_setup(test_insecure_http_is_a_boolean, reset),
		cmocka_unit_test_setup(test_unknown_keys, reset),
		cmocka_unit_test_setup(test_wrong_types, reset),
		cmocka_unit_test_setup(test_names, reset),
		cmocka_unit_test_setup(test_duplicates, reset),
		cmocka_unit_test_setup(test_too_many_tokens, reset),
		cmocka_unit_test_setup(test_too_large, reset),
		cmocka_unit_test_setup(test_shared_checks, reset),
		cmocka_unit_test_setup(test_environment_overlap, reset),
		cmocka_unit_test_setup(test_unreadable, reset),
		cmocka_unit_test_setup(test_environment_only, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
