/*
 * jsonw.h: one flat JSON object written into a bounded buffer.
 *
 * For the few objects the sidecar writes (a JWS header and claims, the
 * OUTPUT_FORMAT=json token file): string members escaped as RFC 8259
 * says ('"', '\' and control characters; other bytes as they are), integer
 * members in decimal. Overflow is remembered and reported once, at the
 * end, so that callers write members without checking each one.
 */
#ifndef TB_JSONW_H
#define TB_JSONW_H

#include <stddef.h>
#include <stdint.h>

struct jsonw {
	char *buf;
	size_t cap;
	size_t len;
	int full;    /* something did not fit */
	int members; /* written so far */
};

/* Start an object in buf[0..cap): writes "{". */
void jsonw_begin(struct jsonw *w, char *buf, size_t cap);

/* Append "key":"value" with value v[0..n), escaped. */
void jsonw_string(struct jsonw *w, const char *key, const char *v, size_t n);

/* Append "key":v. */
void jsonw_int(struct jsonw *w, const char *key, int64_t v);

/*
 * Close the object ("}") and NUL-terminate it when there is room. Returns
 * 0 with the length (without the NUL) in *len, or -1 when it did not fit.
 */
int jsonw_end(struct jsonw *w, size_t *len);

#endif
