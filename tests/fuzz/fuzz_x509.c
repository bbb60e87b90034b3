/*
 * fuzz_x509.c: the server's chain through the br_x509_class BearSSL calls
 * (start_chain, start_cert, append in chunks, end_cert, end_chain,
 * get_pkey), against anchors loaded from the same input.
 *
 * Input: one flags byte, then records of a 2-byte big-endian length and
 * that many bytes. The last (flags & 3) records are the CA bundle (DER,
 * back to back); the others are the chain as sent. Flags also pick the
 * host, the append chunk size, and whether start_cert announces a length
 * other than the record's (as a hostile or broken peer's framing would,
 * up to several times the chain buffer).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "trust.h"
#include "x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RECORDS_MAX 24
/* The corpus's certificates are valid at this time (2030-01-01). */
#define FUZZ_NOW 1893456000

struct record {
	const uint8_t *p;
	size_t n;
};

static size_t
split(const uint8_t *data, size_t size, struct record *r)
{
	size_t count = 0, len;

	while (size >= 2 && count < RECORDS_MAX) {
		len = (size_t)data[0] << 8 | data[1];
		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		r[count].p = data;
		r[count].n = len;
		count++;
		data += len;
		size -= len;
	}
	return count;
}

static void
feed(struct x509_ctx *x, const struct record *r, size_t count, uint8_t flags)
{
	static const size_t chunks[] = { 256, 1, 7, 64, 255, 3, 100, 256 };
	const br_x509_class **vt = &x->vtable;
	size_t i, off, n, chunk = chunks[(flags >> 4) & 7];
	uint32_t declared;
	unsigned usages;
	const br_x509_pkey *pk;

	x509_class.start_chain(vt, "localhost");
	for (i = 0; i < count; i++) {
		declared = (uint32_t)r[i].n;
		if (flags & 0x80)
			declared += (uint32_t)(r[i].n ? r[i].p[0] : 1) * 4096u;
		x509_class.start_cert(vt, declared);
		for (off = 0; off < r[i].n; off += n) {
			n = r[i].n - off < chunk ? r[i].n - off : chunk;
			x509_class.append(vt, r[i].p + off, n);
		}
		x509_class.end_cert(vt);
	}
	if (x509_class.end_chain(vt) == BR_ERR_OK) {
		if ((pk = x509_class.get_pkey((const br_x509_class *const *)vt,
		         &usages)) == NULL ||
		    (usages & BR_KEYTYPE_SIGN) == 0)
			abort();
	} else if (x509_class.get_pkey((const br_x509_class *const *)vt,
	               NULL) != NULL ||
	    x->fail.code == X509_OK) {
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const hosts[] = { "localhost", "127.0.0.1", "::1",
		"a.example.test." };
	static struct x509_ctx x;
	struct record r[RECORDS_MAX];
	struct x509_name name;
	struct trust t;
	struct err err;
	unsigned char *bundle;
	size_t count, nb, i, len = 0;
	uint8_t flags;

	if (size < 1)
		return 0;
	flags = data[0];
	count = split(data + 1, size - 1, r);
	nb = (size_t)(flags & 3) < count ? (size_t)(flags & 3) : count;
	if ((bundle = malloc(size)) == NULL)
		abort();
	for (i = count - nb; i < count; i++) {
		memcpy(bundle + len, r[i].p, r[i].n);
		len += r[i].n;
	}
	memset(&t, 0, sizeof t);
	if (trust_load_mem(&t, bundle, len, "fuzz", &err) == -1)
		memset(&t, 0, sizeof t);
	if (x509_name_set(&name, hosts[(flags >> 2) & 3]) == -1)
		abort();
	x509_ctx_init(&x, &t.store, &name, FUZZ_NOW);
	feed(&x, r, count - nb, flags);
	x509_ctx_clear(&x);
	trust_free(&t);
	free(bundle);
	return 0;
}
