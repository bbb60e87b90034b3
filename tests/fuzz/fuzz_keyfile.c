/*
 * fuzz_keyfile.c: PEM private keys and certificate chains from arbitrary
 * bytes. Must never crash; a key that loads must sign a client assertion
 * that BearSSL verifies, and a chain that loads holds certificates inside
 * its buffer; the pair check must never crash either.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jwt.h"
#include "keyfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_chain(const struct keyfile_chain *c)
{
	size_t i;

	if (c->count > KEYFILE_CHAIN_CERTS || c->used > sizeof c->buf)
		abort();
	for (i = 0; i < c->count; i++)
		if (c->cert[i].data < c->buf ||
		    c->cert[i].data + c->cert[i].data_len > c->buf + c->used)
			abort();
}

static void
check_key(const struct keyfile_key *k)
{
	static char out[JWT_ASSERTION_MAX];
	struct jwt_claims c;
	struct err err;
	size_t len;

	if (k->type != BR_KEYTYPE_EC && k->type != BR_KEYTYPE_RSA)
		abort();
	memset(&c, 0, sizeof c);
	c.client_id = "fuzz";
	c.audience = "https://127.0.0.1/token";
	c.iat = 1700000000;
	c.lifetime = 60;
	/* A key BearSSL decoded but cannot sign with is refused, not a
	 * crash; a signature, when made, has three segments. */
	if (jwt_sign(k, &c, out, sizeof out, &len, &err) == 0 &&
	    (strchr(out, '.') == NULL || strlen(out) != len))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct keyfile_key key;
	static struct keyfile_chain chain;
	struct err err;
	int have_key, have_chain;

	keyfile_key_wipe(&key);
	memset(&chain, 0, sizeof chain);
	have_key = keyfile_key_parse(&key, (const char *)data, size, "FUZZ",
	               &err) == 0;
	have_chain = keyfile_chain_parse(&chain, (const char *)data, size,
	                 "FUZZ", &err) == 0;
	if (have_key)
		check_key(&key);
	if (have_chain)
		check_chain(&chain);
	if (have_key && have_chain)
		(void)keyfile_pair_check(&chain, &key, "FUZZ", &err);
	return 0;
}
