/*
 * base64.h: base64 and base64url decoding and encoding.
 */
#ifndef TB_BASE64_H
#define TB_BASE64_H

#include <stddef.h>

enum base64_alphabet { BASE64_STD, BASE64_URL };

/*
 * Decode in[0..n) into out, which may be `in` itself: the output never
 * overtakes the input. White space is skipped (PEM bodies are wrapped);
 * decoding stops at '=' or at the end, padding optional. Returns the
 * decoded length, or -1 on a byte outside the alphabet.
 */
long base64_decode(unsigned char *out, const unsigned char *in, size_t n,
    enum base64_alphabet alphabet);

/* Bytes base64_encode writes for n input bytes, padded or not. */
#define BASE64_ENCODED_LEN(n, pad) \
	((pad) ? ((n) + 2) / 3 * 4 : (n) / 3 * 4 + ((n) % 3 * 4 + 2) / 3)

/*
 * Encode in[0..n) into out[0..cap): BASE64_STD padded with '=' (HTTP
 * Basic) or BASE64_URL without padding (JWS, RFC 7515 section 2), as
 * `pad` says. No NUL is written. Returns the encoded length, or -1 when
 * it would not fit in cap (out is then untouched).
 */
long base64_encode(char *out, size_t cap, const unsigned char *in, size_t n,
    enum base64_alphabet alphabet, int pad);

#endif
