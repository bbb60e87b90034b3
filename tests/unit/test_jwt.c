/*
 * test_jwt.c: client assertions signed with P-256, P-384 and RSA keys,
 * read back and verified with BearSSL, and verified again independently
 * by Python's cryptography (tests/unit/verify_jwt.py).
 */
#include "unit.h"

#include <unistd.h>

#include "base64.h"
#include "json.h"
#include "jwt.h"
#include "keys.h"

static struct keyfile_key key;
static char token[JWT_ASSERTION_MAX];
static size_t token_len;

static void
load(const char *pem)
{
	struct err err = { 0 };

	if (keyfile_key_parse(&key, pem, strlen(pem), "K", &err) != 0)
		fail_msg("%s", err.msg);
}

static void
sign_ok(const struct jwt_claims *c)
{
	struct err err = { 0 };

	if (jwt_sign(&key, c, token, sizeof token, &token_len, &err) != 0)
		fail_msg("jwt_sign: %s", err.msg);
	assert_int_equal(strlen(token), token_len);
}

static struct jwt_claims
claims(void)
{
	struct jwt_claims c;
	struct err err = { 0 };

	memset(&c, 0, sizeof c);
	c.client_id = "client-\"1\"";
	c.audience = "https://127.0.0.1:8443/token";
	assert_int_equal(jwt_stamp(&c, 1700000000, &err), 0);
	return c;
}

/* Segment i (0..2) of the token, base64url-decoded into out. */
static size_t
segment(int i, unsigned char *out)
{
	const char *p = token, *end;
	long n;

	while (i-- > 0)
		p = strchr(p, '.') + 1;
	end = strchr(p, '.');
	if (end == NULL)
		end = token + token_len;
	n = base64_decode(out, (const unsigned char *)p, (size_t)(end - p),
	    BASE64_URL);
	assert_true(n >= 0);
	out[n] = '\0';
	return (size_t)n;
}

static void
member_is(const char *json, const char *k, const char *want)
{
	jsmntok_t tok[64];
	struct json_doc d;
	struct err err = { 0 };
	char v[256];
	size_t n;
	int t;

	assert_int_equal(json_parse(&d, json, strlen(json), tok, 64, &err), 0);
	t = json_member(&d, k);
	assert_true(t >= 0);
	assert_int_equal(json_string(&d, t, v, sizeof v, &n), 0);
	assert_string_equal(v, want);
}

/* The signature over "header.claims", checked with BearSSL. */
static void
bearssl_verifies(void)
{
	unsigned char sig[600], hash[64], out[64], q[BR_EC_KBUF_PUB_MAX_SIZE];
	unsigned char n[512], e[3] = { 1, 0, 1 };
	const br_hash_class *hc = &br_sha256_vtable;
	br_hash_compat_context h;
	br_ec_public_key ec;
	br_rsa_public_key rsa;
	size_t slen = segment(2, sig), signed_len;

	signed_len = (size_t)(strrchr(token, '.') - token);
	if (key.type == BR_KEYTYPE_EC && key.ec.curve == BR_EC_secp384r1)
		hc = &br_sha384_vtable;
	hc->init(&h.vtable);
	hc->update(&h.vtable, token, signed_len);
	hc->out(&h.vtable, hash);
	if (key.type == BR_KEYTYPE_EC) {
		assert_true(br_ec_compute_pub(br_ec_get_default(), &ec, q,
		                &key.ec) != 0);
		assert_int_equal(slen,
		    key.ec.curve == BR_EC_secp384r1 ? 96 : 64);
		assert_int_equal(
		    br_ecdsa_vrfy_raw_get_default()(br_ec_get_default(), hash,
		        (hc->desc >> BR_HASHDESC_OUT_OFF) &
		            BR_HASHDESC_OUT_MASK,
		        &ec, sig, slen),
		    1);
		/* One bit off and it fails. */
		sig[0] ^= 1;
		assert_int_equal(
		    br_ecdsa_vrfy_raw_get_default()(br_ec_get_default(), hash,
		        32, &ec, sig, slen),
		    0);
		return;
	}
	rsa.n = n;
	rsa.nlen = br_rsa_compute_modulus_get_default()(n, &key.rsa);
	rsa.e = e;
	rsa.elen = sizeof e;
	assert_int_equal(slen, rsa.nlen);
	assert_int_equal(br_rsa_pkcs1_vrfy_get_default()(sig, slen,
	                     BR_HASH_OID_SHA256, 32, &rsa, out),
	    1);
	assert_memory_equal(out, hash, 32);
}

/* Python's cryptography verifies it too, and reads the same claims. */
static void
python_verifies(const char *pem, const char *want)
{
	char dir[] = "/tmp/tb-jwt-XXXXXX", kpath[64], tpath[64], cmd[512];
	char out[1024] = "";
	FILE *p;

	assert_non_null(mkdtemp(dir));
	(void)snprintf(kpath, sizeof kpath, "%s/key.pem", dir);
	(void)snprintf(tpath, sizeof tpath, "%s/token", dir);
	write_file(kpath, pem, strlen(pem));
	write_file(tpath, token, token_len);
	(void)snprintf(cmd, sizeof cmd,
	    "/usr/bin/python3 %s/tests/unit/verify_jwt.py %s %s", TB_SOURCE_DIR,
	    kpath, tpath);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(out, sizeof out, p));
	assert_int_equal(pclose(p), 0);
	assert_contains(out, want);
	assert_int_equal(unlink(kpath), 0);
	assert_int_equal(unlink(tpath), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void
check_alg(const char *pem, const char *alg)
{
	struct jwt_claims c = claims();
	unsigned char part[1024];
	char want[64];

	load(pem);
	sign_ok(&c);
	segment(0, part);
	member_is((char *)part, "alg", alg);
	member_is((char *)part, "typ", "JWT");
	assert_not_contains((char *)part, "kid");
	segment(1, part);
	/* The claims in order, the id's quotes escaped. */
	assert_contains((char *)part,
	    "{\"iss\":\"client-\\\"1\\\"\",\"sub\":\"client-\\\"1\\\"\","
	    "\"aud\":\"https://127.0.0.1:8443/token\",\"jti\":\"");
	assert_contains((char *)part,
	    "\",\"iat\":1700000000,\"nbf\":1700000000,\"exp\":1700000060}");
	bearssl_verifies();
	(void)snprintf(want, sizeof want, "\"alg\": \"%s\"", alg);
	python_verifies(pem, want);
}

static void
test_es256(void **state)
{
	check_alg(KEY_EC256_P8, "ES256");
}

static void
test_es384(void **state)
{
	check_alg(KEY_EC384, "ES384");
}

static void
test_rs256(void **state)
{
	check_alg(KEY_RSA_TRAD, "RS256");
}

static void
test_claims(void **state)
{
	struct jwt_claims c = claims(), d = claims();
	unsigned char part[1024];
	jsmntok_t tok[64];
	struct json_doc doc;
	struct err err = { 0 };
	uint64_t v;

	load(KEY_EC256_TRAD);
	/* Two stamps, two different 128-bit jti. */
	assert_memory_not_equal(c.jti, d.jti, sizeof c.jti);
	c.kid = "key-1";
	sign_ok(&c);
	segment(0, part);
	assert_string_equal((char *)part,
	    "{\"alg\":\"ES256\",\"typ\":\"JWT\",\"kid\":\"key-1\"}");
	segment(1, part);
	assert_int_equal(json_parse(&doc, (char *)part, strlen((char *)part),
	                     tok, 64, &err),
	    0);
	assert_int_equal(json_uint(&doc, json_member(&doc, "iat"), ~0ull, &v),
	    0);
	assert_int_equal(v, 1700000000);
	assert_int_equal(json_uint(&doc, json_member(&doc, "nbf"), ~0ull, &v),
	    0);
	assert_int_equal(v, 1700000000);
	assert_int_equal(json_uint(&doc, json_member(&doc, "exp"), ~0ull, &v),
	    0);
	assert_int_equal(v, 1700000000 + JWT_LIFETIME);
	member_is((char *)part, "aud", "https://127.0.0.1:8443/token");
	/* 16 bytes as unpadded base64url: 22 characters. */
	assert_int_equal(json_member(&doc, "jti") >= 0, 1);
	assert_int_equal(doc.tok[json_member(&doc, "jti")].end -
	        doc.tok[json_member(&doc, "jti")].start,
	    22);
	python_verifies(KEY_EC256_TRAD, "\"kid\": \"key-1\"");
}

static void
test_refusals(void **state)
{
	struct jwt_claims c = claims();
	struct keyfile_key empty;
	struct err err = { 0 };
	char small[64];
	size_t len;

	memset(&empty, 0, sizeof empty);
	assert_int_equal(jwt_sign(&empty, &c, token, sizeof token, &len, &err),
	    -1);
	assert_err(&err, ERR_CONFIG, "no private key");
	load(KEY_EC256_P8);
	assert_int_equal(jwt_sign(&key, &c, small, sizeof small, &len, &err),
	    -1);
	assert_err(&err, ERR_SYSTEM, "longer than 64 bytes");
	c.client_id = "a\nb";
	assert_int_equal(jwt_sign(&key, &c, token, sizeof token, &len, &err),
	    -1);
	assert_err(&err, ERR_CONFIG, "client id holds a control character");
	c.client_id = "";
	assert_int_equal(jwt_sign(&key, &c, token, sizeof token, &len, &err),
	    -1);
	assert_err(&err, ERR_CONFIG, "client id is empty");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_es256),
		cmocka_unit_test(test_es384),
		cmocka_unit_test(test_rs256),
		cmocka_unit_test(test_claims),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
