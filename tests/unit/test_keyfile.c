/*
 * test_keyfile.c: PEM private keys and certificate chains, good and bad,
 * from memory and from files.
 */
#include "unit.h"

#include <unistd.h>

#include "base64.h"
#include "keyfile.h"
#include "keys.h"

static struct keyfile_key key;
static struct keyfile_chain chain;

static void
parses(const char *pem, int type)
{
	struct err err = { 0 };

	if (keyfile_key_parse(&key, pem, strlen(pem), "TEST", &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(key.type, type);
}

static void
refused(const char *pem, enum err_kind kind, const char *why)
{
	struct err err = { 0 };

	assert_int_equal(keyfile_key_parse(&key, pem, strlen(pem),
	                     "TLS_CLIENT_KEY_PATH /k", &err),
	    -1);
	assert_err(&err, kind, why);
	assert_contains(err.msg, "TLS_CLIENT_KEY_PATH /k: ");
	assert_printable(err.msg);
}

/* KEY_EC256_TRAD's DER with 600 more bytes in the same block: they reach
 * BearSSL's decoder in later pushes, after it has finished or failed. */
static const char *
key_then_bytes(void)
{
	static char pem[2048];
	unsigned char der[1024];
	const char *body = strchr(KEY_EC256_TRAD, '\n') + 1;
	long n = base64_decode(der, (const unsigned char *)body,
	    (size_t)(strstr(body, "-----END") - body), BASE64_STD);
	int head;

	assert_true(n > 0);
	memset(der + n, 5, 600);
	head = snprintf(pem, sizeof pem, "-----BEGIN EC PRIVATE KEY-----\n");
	n = base64_encode(pem + head, sizeof pem - 64, der, (size_t)n + 600,
	    BASE64_STD, 1);
	assert_true(n > 0);
	(void)snprintf(pem + head + n, sizeof pem - (size_t)(head + n),
	    "\n-----END EC PRIVATE KEY-----\n");
	return pem;
}

static void
test_good_keys(void **state)
{
	parses(KEY_EC256_TRAD, BR_KEYTYPE_EC);
	assert_int_equal(key.ec.curve, BR_EC_secp256r1);
	assert_int_equal(key.ec.xlen, 32);
	parses(KEY_EC256_P8, BR_KEYTYPE_EC);
	assert_int_equal(key.ec.curve, BR_EC_secp256r1);
	parses(KEY_EC256_PARAMS, BR_KEYTYPE_EC);
	parses(KEY_EC384, BR_KEYTYPE_EC);
	assert_int_equal(key.ec.curve, BR_EC_secp384r1);
	parses(KEY_RSA_P8, BR_KEYTYPE_RSA);
	assert_int_equal(key.rsa.n_bitlen, 2048);
	parses(KEY_RSA_TRAD, BR_KEYTYPE_RSA);
	/* The key's bytes are ours, not the decoder's. */
	assert_ptr_equal(key.rsa.p, key.buf);
	/* A key after other text and a certificate block. */
	parses("comment line\n" EC256_CERT KEY_EC256_P8, BR_KEYTYPE_EC);
}

static void
test_crlf(void **state)
{
	char crlf[4096];
	const char *p;
	size_t o = 0;

	for (p = KEY_RSA_P8; *p; p++) {
		if (*p == '\n')
			crlf[o++] = '\r';
		crlf[o++] = *p;
	}
	crlf[o] = '\0';
	parses(crlf, BR_KEYTYPE_RSA);
}

static void
test_bad_keys(void **state)
{
	refused(KEY_EC521, ERR_CONFIG,
	    "P-521 is not supported: use P-256, P-384 or RSA");
	refused(KEY_ED25519, ERR_CONFIG, "neither RSA nor EC");
	refused(KEY_ENC_P8, ERR_CONFIG, "encrypted keys are not supported");
	refused(KEY_ENC_TRAD, ERR_CONFIG, "encrypted keys are not supported");
	refused(KEY_RSA1024, ERR_CONFIG, "1024 bits: use 2048 to 4096 bits");
	refused("hello\n", ERR_CONFIG, "not a PEM private key");
	refused("", ERR_CONFIG, "not a PEM private key");
	refused(EC256_CERT, ERR_CONFIG, "not a PEM private key");
	refused("-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMG\n", ERR_CONFIG,
	    "truncated");
	refused(KEY_EC256_P8 KEY_RSA_P8, ERR_CONFIG, "more than one");
	/* Bytes after a whole key: BearSSL's decoder must not be pushed
	 * them (it crashed, found by fuzz_keyfile). */
	refused(key_then_bytes(), ERR_CONFIG, "the private key block");
	refused(
	    "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
	    ERR_CONFIG, "not a valid RSA or EC key");
}

/* A refused key leaves the loaded one in service. */
static void
test_failure_keeps_key(void **state)
{
	struct keyfile_key before;
	struct err err = { 0 };

	parses(KEY_EC256_P8, BR_KEYTYPE_EC);
	before = key;
	assert_int_equal(keyfile_key_parse(&key, LIT(KEY_EC521), "K", &err),
	    -1);
	assert_memory_equal(&before, &key, sizeof key);
	keyfile_key_wipe(&key);
	assert_int_equal(key.type, 0);
	for (size_t i = 0; i < sizeof key.buf; i++)
		assert_int_equal(key.buf[i], 0);
}

static void
test_files(void **state)
{
	char dir[] = "/tmp/tb-keyfile-XXXXXX", path[64];
	struct err err = { 0 };

	assert_non_null(mkdtemp(dir));
	(void)snprintf(path, sizeof path, "%s/key.pem", dir);
	write_file(path, LIT(KEY_EC384));
	assert_int_equal(keyfile_key_read(&key, "CLIENT_KEY_PATH", path, &err),
	    0);
	assert_int_equal(key.ec.curve, BR_EC_secp384r1);
	write_file(path, LIT("not a key\n"));
	assert_int_equal(keyfile_key_read(&key, "CLIENT_KEY_PATH", path, &err),
	    -1);
	assert_err(&err, ERR_CONFIG, "CLIENT_KEY_PATH /tmp/tb-keyfile-");
	assert_contains(err.msg, "key.pem: not a PEM private key");
	assert_int_equal(key.ec.curve, BR_EC_secp384r1);
	assert_int_equal(keyfile_key_read(&key, "CLIENT_KEY_PATH", dir, &err),
	    -1);
	assert_err(&err, ERR_FILE, "not a regular file");
	assert_int_equal(unlink(path), 0);
	assert_int_equal(keyfile_key_read(&key, "CLIENT_KEY_PATH", path, &err),
	    -1);
	assert_err(&err, ERR_FILE, "cannot open: No such file");
	write_file(path, LIT(EC256_CERT RSA_CERT));
	assert_int_equal(keyfile_chain_read(&chain, "TLS_CLIENT_CERT_PATH",
	                     path, &err),
	    0);
	assert_int_equal(chain.count, 2);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void
test_chain(void **state)
{
	struct err err = { 0 };

	assert_int_equal(keyfile_chain_parse(&chain,
	                     LIT(EC256_CERT "junk\n" RSA_CERT), "C", &err),
	    0);
	assert_int_equal(chain.count, 2);
	assert_ptr_equal(chain.cert[0].data, chain.buf);
	assert_int_equal(chain.cert[0].data[0], 0x30);
	assert_ptr_equal(chain.cert[1].data,
	    chain.buf + chain.cert[0].data_len);
	assert_int_equal(keyfile_chain_parse(&chain, LIT(KEY_EC256_P8), "C",
	                     &err),
	    -1);
	assert_err(&err, ERR_CONFIG, "C: not a PEM certificate");
	assert_int_equal(chain.count, 2);
	assert_int_equal(keyfile_chain_parse(&chain,
	                     LIT("-----BEGIN CERTIFICATE-----\nMAMCAQA=\n"
	                         "-----END CERTIFICATE-----\n"),
	                     "C", &err),
	    -1);
	assert_err(&err, ERR_CONFIG, "certificate 1 is not a valid X.509");
}

static void
test_pair(void **state)
{
	struct err err = { 0 };

	assert_int_equal(keyfile_chain_parse(&chain, LIT(EC256_CERT), "C",
	                     &err),
	    0);
	parses(KEY_EC256_TRAD, BR_KEYTYPE_EC);
	assert_int_equal(keyfile_pair_check(&chain, &key, "PAIR", &err), 0);
	parses(KEY_EC256_PARAMS, BR_KEYTYPE_EC);
	assert_int_equal(keyfile_pair_check(&chain, &key, "PAIR", &err), -1);
	assert_err(&err, ERR_CONFIG, "PAIR: the private key does not belong");
	parses(KEY_RSA_TRAD, BR_KEYTYPE_RSA);
	assert_int_equal(keyfile_pair_check(&chain, &key, "PAIR", &err), -1);
	assert_int_equal(keyfile_chain_parse(&chain, LIT(RSA_CERT), "C", &err),
	    0);
	assert_int_equal(keyfile_pair_check(&chain, &key, "PAIR", &err), 0);
	parses(KEY_EC256_TRAD, BR_KEYTYPE_EC);
	assert_int_equal(keyfile_pair_check(&chain, &key, "PAIR", &err), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_keys),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_bad_keys),
		cmocka_unit_test(test_failure_keeps_key),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_chain),
		cmocka_unit_test(test_pair),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
