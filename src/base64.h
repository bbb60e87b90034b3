/*
 * base64.h: base64 and base64url decoding; base64 encoding.
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

/*
 * Encode in[0..n) as padded standard base64 into out[0..cap), NUL
 * terminated. Returns the encoded length, or -1 when it and the NUL do not
 * fit (out is then untouched).
 */
long base64_encode(char *out, size_t cap, const unsigned char *in, size_t n);

#endif
