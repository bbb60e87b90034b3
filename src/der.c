/*
 * der.c: just enough DER to read X.509 certificates.
 */
#include <string.h>

#include "der.h"

#define TAG_VERSION 0xa0     /* [0] EXPLICIT */
#define TAG_EXTENSIONS 0xa3  /* [3] EXPLICIT */

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
		if (k == 0 || k > 3 || d->n < 2 + k)
			return -1;
		for (len = 0; hdr < 2 + k; hdr++)
			len = len << 8 | d->p[hdr];
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
der_expect(struct der *d, unsigned want, struct der *content,
    struct der *whole)
{
	unsigned tag;

	return der_take(d, &tag, content, whole) == 0 && tag == want ? 0 : -1;
}

int
der_is(const struct der *d, const unsigned char *bytes, size_t n)
{
	return d->n == n && memcmp(d->p, bytes, n) == 0;
}

int
der_cert_fields(const unsigned char *der, size_t len, struct der_cert *cert)
{
	struct der all = { der, len }, c, tbs, el, exts;
	unsigned tag;
	int i;

	memset(cert, 0, sizeof *cert);
	if (der_expect(&all, DER_SEQUENCE, &c, NULL) == -1 ||
	    der_expect(&c, DER_SEQUENCE, &tbs, NULL) == -1)
		return -1;
	if (tbs.n > 0 && tbs.p[0] == TAG_VERSION &&
	    der_take(&tbs, &tag, &el, NULL) == -1)
		return -1;
	/* serialNumber, signature, issuer, validity, then subject. */
	for (i = 0; i < 4; i++)
		if (der_take(&tbs, &tag, &el, NULL) == -1)
			return -1;
	if (der_expect(&tbs, DER_SEQUENCE, &el, &cert->subject) == -1 ||
	    der_expect(&tbs, DER_SEQUENCE, &cert->spki, NULL) == -1)
		return -1;
	/* Then issuerUniqueID [1] and subjectUniqueID [2], if any. */
	while (der_take(&tbs, &tag, &el, NULL) == 0)
		if (tag == TAG_EXTENSIONS) {
			exts = el;
			if (der_expect(&exts, DER_SEQUENCE, &cert->extensions,
			    NULL) == -1)
				return -1;
		}
	return 0;
}

int
der_extension(struct der extensions, const unsigned char *oid,
    size_t oid_len, struct der *value)
{
	struct der ext, id;
	unsigned tag;

	while (extensions.n > 0) {
		if (der_expect(&extensions, DER_SEQUENCE, &ext, NULL) == -1 ||
		    der_expect(&ext, DER_OID, &id, NULL) == -1)
			return -1;
		if (!der_is(&id, oid, oid_len))
			continue;
		/* The optional `critical` BOOLEAN comes before the value. */
		if (der_take(&ext, &tag, value, NULL) == -1 ||
		    (tag == DER_BOOLEAN &&
		    der_take(&ext, &tag, value, NULL) == -1) ||
		    tag != DER_OCTET_STRING)
			return -1;
		return 1;
	}
	return 0;
}
