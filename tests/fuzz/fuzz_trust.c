/*
 * fuzz_trust.c: trust_load_mem on arbitrary bundles, every anchor of them
 * read again (x509_anchor_read) as a verification does, twice (the second
 * from the anchor cache when it was kept there), and a second load over
 * the first, as a reload does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "trust.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trust t;
	struct err err;
	unsigned char *copy = malloc(size ? size : 1);
	size_t count;

	if (copy == NULL)
		abort();
	memcpy(copy, data, size);
	memset(&t, 0, sizeof t);
	if (trust_load_mem(&t, copy, size, "fuzz", &err) == 0) {
		if (t.store.count == 0 || t.store.refs == NULL)
			abort();
		/* Every anchor reads again from the bundle as loaded, and is
		 * usable on its own: touch all its bytes. */
		for (size_t i = 0; i < t.store.count; i++) {
			struct x509_anchor a, b;
			volatile unsigned char sink = 0;

			if (x509_anchor_read(&t.store, &t.store.refs[i],
			        t.store.scratch, t.store.scratch_len,
			        &a) != X509_OK)
				abort();
			for (size_t j = 0; j < a.dn.n; j++)
				sink ^= a.dn.p[j];
			(void)sink;
			/* The first read is in the scratch, a kept copy in
			 * the cache: the same anchor either way. */
			if (x509_anchor_read(&t.store, &t.store.refs[i],
			        t.store.scratch, t.store.scratch_len,
			        &b) != X509_OK ||
			    a.dn.n != b.dn.n ||
			    memcmp(a.dn.p, b.dn.p, a.dn.n) != 0)
				abort();
		}
		if (t.store.cache->count > X509_CACHE_ANCHORS ||
		    t.store.cache->used > X509_CACHE_BYTES)
			abort();
		/* A failed reload keeps what was loaded. */
		count = t.store.count;
		if (trust_load_mem(&t, (const unsigned char *)"", 0, "fuzz",
		        &err) == 0 ||
		    t.store.count != count)
			abort();
	} else if (err.kind != ERR_TRUST || t.store.count != 0) {
		abort();
	}
	trust_free(&t);
	free(copy);
	return 0;
}
