/*
 * base64.h: base64 and base64url decoding.
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

#endif
