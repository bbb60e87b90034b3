/*
 * test_grant.c: the token request's form and Authorization header for
 * every grant shape and client authentication, field by field, including
 * Google STS's and Entra ID's published request shapes.
 *
 * Google STS (the v1 token method, GoogleIdentityStsV1ExchangeTokenRequest):
 * grant_type urn:ietf:params:oauth:grant-type:token-exchange (required),
 * requested_token_type urn:ietf:params:oauth:token-type:access_token
 * (required), subject_token and subject_token_type (required; ...:jwt for
 * an OIDC token), scope (space-delimited), audience "//iam.googleapis.com/
 * projects/N/locations/global/workloadIdentityPools/P/providers/R".
 *
 * Entra ID (v2 client credentials grant, "access token request with a
 * federated credential"): client_id, scope (".default"), client_assertion_type
 * urn:ietf:params:oauth:client-assertion-type:jwt-bearer, client_assertion
 * (the other issuer's token), grant_type client_credentials.
 */
#include "unit.h"

#include "base64.h"
#include "grant.h"

#define SA "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzYSJ9.c2ln"
#define TE "urn:ietf:params:oauth:grant-type:token-exchange"
#define ID_TOKEN "urn:ietf:params:oauth:token-type:id_token"

static char form[GRANT_FORM_MAX];
static char authz[GRANT_AUTHORIZATION_MAX];
static size_t form_len;

static struct grant
base(enum grant_type type, enum grant_auth auth)
{
	struct grant g;

	memset(&g, 0, sizeof g);
	g.type = type;
	g.auth = auth;
	g.subject = SA;
	g.subject_len = strlen(SA);
	g.subject_token_type = ID_TOKEN;
	return g;
}

static void
build_ok(const struct grant *g)
{
	struct err err = { 0 };

	memset(form, 0, sizeof form);
	if (grant_form(g, form, sizeof form, &form_len, authz, sizeof authz,
	        &err) != 0)
		fail_msg("grant_form: %s", err.msg);
	assert_int_equal(strlen(form), form_len);
}

static void
build_fails(const struct grant *g, const char *why)
{
	struct err err = { 0 };

	assert_int_equal(grant_form(g, form, sizeof form, &form_len, authz,
	                     sizeof authz, &err),
	    -1);
	assert_err(&err, ERR_CONFIG, why);
}

/* The form's keys are strictly increasing (Go's sorted order, no key
 * twice), and `want` is the form. */
static void
form_is(const char *want)
{
	char prev[64] = "", key[64];
	const char *p = form;
	size_t n;

	assert_string_equal(form, want);
	while (*p) {
		n = strcspn(p, "=");
		assert_true(n < sizeof key);
		memcpy(key, p, n);
		key[n] = '\0';
		if (prev[0] != '\0' && strcmp(prev, key) >= 0)
			fail_msg("key %s after %s", key, prev);
		memcpy(prev, key, n + 1);
		p += strcspn(p, "&");
		p += *p == '&';
	}
}

/* Byte for byte what build_form in exchange.c (and the Go original)
 * sends with no new variable set. */
static void
test_default_is_todays_form(void **state)
{
	struct grant g = base(GRANT_TOKEN_EXCHANGE, GRANT_AUTH_NONE);

	build_ok(&g);
	form_is("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-"
	        "exchange&subject_token=" SA "&subject_token_type=urn%3Aietf%3A"
	        "params%3Aoauth%3Atoken-type%3Aid_token");
	assert_string_equal(authz, "");
	g.audience = "tokenbridge";
	build_ok(&g);
	form_is("audience=tokenbridge&grant_type=urn%3Aietf%3Aparams%3Aoauth"
	        "%3Agrant-type%3Atoken-exchange&subject_token=" SA
	        "&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type"
	        "%3Aid_token");
}

static void
test_token_exchange_options(void **state)
{
	struct grant g = base(GRANT_TOKEN_EXCHANGE, GRANT_AUTH_NONE);

	g.audience = "a";
	g.scope = "read write";
	g.resource = "https://api.example/";
	g.requested_token_type = "urn:x:rt";
	g.actor = "ACTOR";
	g.actor_len = 5;
	g.actor_token_type = "urn:x:at";
	g.subject_token_type = "urn:x:st";
	build_ok(&g);
	form_is("actor_token=ACTOR&actor_token_type=urn%3Ax%3Aat&audience=a&"
	        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-"
	        "exchange&requested_token_type=urn%3Ax%3Art&resource=https%3A"
	        "%2F%2Fapi.example%2F&scope=read+write&subject_token=" SA
	        "&subject_token_type=urn%3Ax%3Ast");
	g.actor_token_type = NULL;
	build_fails(&g, "actor_token_type");
	g.actor = NULL;
	g.actor_token_type = "urn:x:at";
	build_fails(&g, "set both or neither");
	g.actor_token_type = NULL;
	g.subject_token_type = NULL;
	build_fails(&g, "subject_token_type");
}

static void
test_google_sts(void **state)
{
	struct grant g = base(GRANT_TOKEN_EXCHANGE, GRANT_AUTH_NONE);

	g.subject_token_type = "urn:ietf:params:oauth:token-type:jwt";
	g.requested_token_type =
	    "urn:ietf:params:oauth:token-type:access_token";
	g.scope = "https://www.googleapis.com/auth/cloud-platform";
	g.audience = "//iam.googleapis.com/projects/123/locations/global/"
	             "workloadIdentityPools/pool/providers/k8s";
	build_ok(&g);
	form_is(
	    "audience=%2F%2Fiam.googleapis.com%2Fprojects%2F123%2Flocations"
	    "%2Fglobal%2FworkloadIdentityPools%2Fpool%2Fproviders%2Fk8s&"
	    "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-"
	    "exchange&requested_token_type=urn%3Aietf%3Aparams%3Aoauth%3A"
	    "token-type%3Aaccess_token&scope=https%3A%2F%2Fwww.googleapis."
	    "com%2Fauth%2Fcloud-platform&subject_token=" SA
	    "&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3A"
	    "jwt");
	assert_string_equal(authz, "");
}

static void
test_entra_client_assertion(void **state)
{
	struct grant g = base(GRANT_CLIENT_ASSERTION, GRANT_AUTH_NONE);

	g.subject_token_type = NULL;
	g.client_id = "11111111-2222-3333-4444-555555555555";
	g.scope = "https://graph.microsoft.com/.default";
	build_ok(&g);
	form_is(
	    "client_assertion=" SA "&client_assertion_type=urn%3Aietf%3A"
	    "params%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_id="
	    "11111111-2222-3333-4444-555555555555&grant_type=client_"
	    "credentials&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default");
	/* Two client authentications at once are refused. */
	g.auth = GRANT_AUTH_SECRET_POST;
	g.secret = "s";
	g.secret_len = 1;
	build_fails(&g, "CLIENT_AUTH=none");
	g.auth = GRANT_AUTH_PRIVATE_KEY_JWT;
	build_fails(&g, "CLIENT_AUTH=none");
	/* mTLS beside the assertion is allowed. */
	g.auth = GRANT_AUTH_TLS;
	g.scope = NULL;
	build_ok(&g);
	form_is("client_assertion=" SA "&client_assertion_type=urn%3Aietf%3A"
	        "params%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_id="
	        "11111111-2222-3333-4444-555555555555&grant_type=client_"
	        "credentials");
}

static void
test_jwt_bearer(void **state)
{
	struct grant g = base(GRANT_JWT_BEARER, GRANT_AUTH_NONE);

	g.scope = "s";
	build_ok(&g);
	form_is("assertion=" SA "&grant_type=urn%3Aietf%3Aparams%3Aoauth%3A"
	        "grant-type%3Ajwt-bearer&scope=s");
	g.auth = GRANT_AUTH_SECRET_POST;
	g.client_id = "c";
	g.secret = "p";
	g.secret_len = 1;
	build_ok(&g);
	form_is("assertion=" SA "&client_id=c&client_secret=p&grant_type=urn%3A"
	        "ietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&scope=s");
}

/* RFC 6749 2.3.1: id and secret form-urlencoded, then Basic. */
static void
test_client_secret_basic(void **state)
{
	struct grant g = base(GRANT_TOKEN_EXCHANGE, GRANT_AUTH_SECRET_BASIC);
	unsigned char raw[256];
	long n;

	g.client_id = "my client:1";
	g.secret = "p@ss w/rd+";
	g.secret_len = strlen(g.secret);
	build_ok(&g);
	assert_not_contains(form, "client_");
	assert_not_contains(form, "p%40ss");
	assert_true(strncmp(authz, "Basic ", 6) == 0);
	n = base64_decode(raw, (const unsigned char *)authz + 6,
	    strlen(authz) - 6, BASE64_STD);
	assert_true(n > 0);
	raw[n] = '\0';
	assert_string_equal((char *)raw, "my+client%3A1:p%40ss+w%2Frd%2B");
	/* RFC 7617's example, its space form-encoded as '+'. */
	g.client_id = "Aladdin";
	g.secret = "open sesame";
	g.secret_len = strlen(g.secret);
	build_ok(&g);
	assert_string_equal(authz, "Basic QWxhZGRpbjpvcGVuK3Nlc2FtZQ==");
	g.secret = NULL;
	build_fails(&g, "CLIENT_SECRET_PATH");
	g.secret = "x";
	g.client_id = NULL;
	build_fails(&g, "CLIENT_ID");
}

static void
test_client_secret_post(void **state)
{
	struct grant g = base(GRANT_TOKEN_EXCHANGE, GRANT_AUTH_SECRET_POST);

	g.client_id = "c";
	g.secret = "s&=";
	g.secret_len = 3;
	build_ok(&g);
	form_is(
	    "client_id=c&client_secret=s%26%3D&grant_type=urn%3Aietf%3A"
	    "params%3Aoauth%3Agrant-type%3Atoken-exchange&subject_token=" SA
	    "&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3A"
	    "id_token");
	assert_string_equal(authz, "");
}

static void
test_private_key_jwt(void **state)
{
	struct grant g = base(GRANT_JWT_BEARER, GRANT_AUTH_PRIVATE_KEY_JWT);

	g.client_id = "c";
	build_fails(&g, "signed client assertion");
	g.assertion = "h.p.s";
	g.assertion_len = 5;
	build_ok(&g);
	form_is("assertion=" SA "&client_assertion=h.p.s&client_assertion_type="
	        "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-"
	        "bearer&client_id=c&grant_type=urn%3Aietf%3Aparams%3Aoauth%3A"
	        "grant-type%3Ajwt-bearer");
}

static void
test_tls_and_none(void **state)
{
	struct grant g = base(GRANT_TOKEN_EXCHANGE, GRANT_AUTH_TLS);

	build_fails(&g, "CLIENT_ID");
	g.client_id = "c";
	build_ok(&g);
	form_is("client_id=c&grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-"
	        "type%3Atoken-exchange&subject_token=" SA "&subject_token_type="
	        "urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aid_token");
	g.auth = GRANT_AUTH_NONE;
	build_ok(&g);
	assert_contains(form, "client_id=c&");
	assert_string_equal(authz, "");
}

static void
test_limits(void **state)
{
	struct grant g = base(GRANT_TOKEN_EXCHANGE, GRANT_AUTH_SECRET_BASIC);
	static char big[GRANT_SECRET_MAX + 2];
	struct err err = { 0 };
	char small[16];
	size_t len;

	memset(big, 'x', sizeof big - 1);
	g.client_id = "c";
	g.secret = big;
	g.secret_len = GRANT_SECRET_MAX;
	build_ok(&g);
	g.secret_len = GRANT_SECRET_MAX + 1;
	build_fails(&g, "do not fit");
	g.auth = GRANT_AUTH_NONE;
	assert_int_equal(grant_form(&g, small, sizeof small, &len, authz,
	                     sizeof authz, &err),
	    -1);
	assert_err(&err, ERR_CONFIG, "larger than 16 bytes");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_is_todays_form),
		cmocka_unit_test(test_token_exchange_options),
		cmocka_unit_test(test_google_sts),
		cmocka_unit_test(test_entra_client_assertion),
		cmocka_unit_test(test_jwt_bearer),
		cmocka_unit_test(test_client_secret_basic),
		cmocka_unit_test(test_client_secret_post),
		cmocka_unit_test(test_private_key_jwt),
		cmocka_unit_test(test_tls_and_none),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
