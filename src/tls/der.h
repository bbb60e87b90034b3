/*
 * der.h: just enough DER to read X.509 certificates: a cursor over
 * tag-length-value elements (x509.c reads the fields). Nothing is copied:
 * every result points into the caller's bytes.
 */
#ifndef TB_DER_H
#define TB_DER_H

#include <stddef.h>

struct der {
	const unsigned char *p;
	size_t n;
};

#define DER_BOOLEAN 0x01
#define DER_INTEGER 0x02
#define DER_BIT_STRING 0x03
#define DER_OCTET_STRING 0x04
#define DER_OID 0x06
#define DER_SEQUENCE 0x30

/*
 * Take the next element off d: its tag, its content, and the whole
 * element (header included) in *whole when not NULL. Returns 0, or -1
 * when d does not start with a well-formed element (short-form tags,
 * definite lengths of up to 3 bytes in their shortest form only).
 */
int der_take(struct der *d, unsigned *tag, struct der *content,
    struct der *whole);

/* Take the next element, which must carry `want`. Returns 0 or -1. */
int der_expect(struct der *d, unsigned want, struct der *content,
    struct der *whole);

/* Non-zero when d's bytes are exactly bytes[0..n). */
int der_is(const struct der *d, const unsigned char *bytes, size_t n);

#endif
