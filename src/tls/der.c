/*
 * der.c: just enough DER to read X.509 certificates.
 */
#include <string.h>

#include "der.h"

int
der_take(struct der *d, unsigned *tag, struct der *content, struct der *whole)
{
	size_t len, hdr = 2, k;

	if (d->n < 2 || (d->p[0] & 0x1f) == 0x1f)
		return -1;
	*tag = d->p[0];
	len = d->p[1];
	if (len & 0x80) {
		k = len & 0x7f;
		/* DER's shortest form only, as Go reads certificates: a
		 * length another parser would read otherwise is refused. */
		if (k == 0 || k > 3 || d->n < 2 + k || d->p[2] == 0)
			return -1;
		for (len = 0; hdr < 2 + k; hdr++)
			len = len << 8 | d->p[hdr];
		if (len < 0x80)
			return -1;
	}
	if (len > d->n - hdr)
		return -1;
	content->p = d->p + hdr;
	content->n = len;
	if (whole != NULL) {
		whole->p = d->p;
		whole->n = hdr + len;
	}
	d->p += hdr + len;
	d->n -= hdr + len;
	return 0;
}

int
der_expect(struct der *d, unsigned want, struct der *content, struct der *whole)
{
	unsigned tag;

	return der_take(d, &tag, content, whole) == 0 && tag == want ? 0 : -1;
}

int
der_is(const struct der *d, const unsigned char *bytes, size_t n)
{
	return d->n == n && memcmp(d->p, bytes, n) == 0;
}
