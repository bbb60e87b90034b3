/*
 * fuzz_trust.c: trust_load_mem on arbitrary bundles, and a second load over
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
		if (t.store.count == 0 || t.store.anchors == NULL)
			abort();
		/* Every anchor is usable on its own: touch all its bytes. */
		for (size_t i = 0; i < t.store.count; i++) {
			const struct x509_anchor *a = &t.store.anchors[i];
			volatile unsigned char sink = 0;

			for (size_t j = 0; j < a->dn.n; j++)
				sink ^= a->dn.p[j];
			(void)sink;
		}
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
