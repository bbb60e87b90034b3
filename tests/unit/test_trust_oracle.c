/*
 * test_trust_oracle.c: the bundle loader's own DER walk against BearSSL's
 * br_x509_decoder, certificate by certificate, over the system CA bundle.
 * The loader skips the decoder for speed; this proves it reads the same
 * subject, key and CA flag.
 */
#include "unit.h"

#include <bearssl.h>

#include "trust.h"

#define SYSTEM_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

struct dn_buf {
	unsigned char data[4096];
	size_t len;
};

static void
append_dn(void *ctx, const void *buf, size_t len)
{
	struct dn_buf *dn = ctx;

	assert_true(dn->len + len <= sizeof dn->data);
	memcpy(dn->data + dn->len, buf, len);
	dn->len += len;
}

static size_t
b64(unsigned char *out, const char *in)
{
	static const char digits[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned acc = 0;
	size_t o = 0;
	int bits = 0;
	const char *d;

	for (; *in && *in != '='; in++) {
		if ((d = strchr(digits, *in)) == NULL)
			continue;
		acc = acc << 6 | (unsigned)(d - digits);
		if ((bits += 6) >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	return o;
}

/* Decode one certificate with BearSSL and compare with anchor `ta`. */
static void
compare(const unsigned char *der, size_t len, const struct x509_anchor *ta)
{
	static struct dn_buf dn;
	br_x509_decoder_context dc;
	const br_x509_pkey *pk;

	dn.len = 0;
	br_x509_decoder_init(&dc, append_dn, &dn);
	br_x509_decoder_push(&dc, der, len);
	pk = br_x509_decoder_get_pkey(&dc);
	assert_non_null(pk);
	assert_int_equal(dn.len, ta->dn.n);
	assert_memory_equal(dn.data, ta->dn.p, dn.len);
	assert_int_equal(br_x509_decoder_isCA(&dc) ? X509_ANCHOR_CA : 0,
	    ta->flags);
	assert_int_equal(pk->key_type, ta->pkey.key_type);
	if (pk->key_type == BR_KEYTYPE_RSA) {
		assert_int_equal(pk->key.rsa.nlen, ta->pkey.key.rsa.nlen);
		assert_memory_equal(pk->key.rsa.n, ta->pkey.key.rsa.n,
		    pk->key.rsa.nlen);
		assert_int_equal(pk->key.rsa.elen, ta->pkey.key.rsa.elen);
		assert_memory_equal(pk->key.rsa.e, ta->pkey.key.rsa.e,
		    pk->key.rsa.elen);
	} else {
		assert_int_equal(pk->key.ec.curve, ta->pkey.key.ec.curve);
		assert_int_equal(pk->key.ec.qlen, ta->pkey.key.ec.qlen);
		assert_memory_equal(pk->key.ec.q, ta->pkey.key.ec.q,
		    pk->key.ec.qlen);
	}
}

static void
test_system_bundle_matches_br_x509_decoder(void **state)
{
	static char text[1 << 20];
	static unsigned char der[16384];
	struct trust t = { 0 };
	struct err err = { 0 };
	struct x509_anchor a;
	char *p, *end;
	size_t n, i = 0;
	FILE *f;

	if (trust_load_file(&t, SYSTEM_BUNDLE, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(t.skipped, 0);
	f = fopen(SYSTEM_BUNDLE, "r");
	assert_non_null(f);
	n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	for (p = text; (p = strstr(p, "-----BEGIN CERTIFICATE-----")) != NULL;
	     p = end) {
		p = strchr(p, '\n') + 1;
		end = strstr(p, "-----END CERTIFICATE-----");
		assert_non_null(end);
		*end++ = '\0';
		assert_true(i < t.store.count);
		assert_int_equal(x509_anchor_read(&t.store, &t.store.refs[i],
		                     t.store.scratch, t.store.scratch_len, &a),
		    X509_OK);
		i++;
		compare(der, b64(der, p), &a);
	}
	assert_int_equal(i, t.store.count);
	assert_true(t.store.count > 100);
	trust_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_system_bundle_matches_br_x509_decoder),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
