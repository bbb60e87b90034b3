/*
 * base64.c: base64 and base64url decoding and encoding.
 *
 * Table driven, four digits at a time: a CA bundle is ~200 KB of base64,
 * and this loop is most of the cost of loading it.
 */
#include "base64.h"

/* Digit values; every other class has bit 6 set. */
#define SP 64 /* white space */
#define EQ 65 /* '=' */
#define XX 66 /* outside the alphabet */

/* Row n holds bytes 16n to 16n + 15. */
/* clang-format off */
static const unsigned char std_table[256] = {
	XX, XX, XX, XX, XX, XX, XX, XX, XX, SP, SP, XX, XX, SP, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	SP, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, 62, XX, XX, XX, 63,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, XX, XX, XX, EQ, XX, XX,
	XX,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, XX, XX, XX, XX, XX,
	XX, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX
};

/* The same with '-' and '_' for '+' and '/' (RFC 4648, 5). */
static const unsigned char url_table[256] = {
	XX, XX, XX, XX, XX, XX, XX, XX, XX, SP, SP, XX, XX, SP, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	SP, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, 62, XX, XX,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, XX, XX, XX, EQ, XX, XX,
	XX,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, XX, XX, XX, XX, 63,
	XX, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX
};
/* clang-format on */

static const char digits[2][65] = {
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
};

long
base64_decode(unsigned char *out, const unsigned char *in, size_t n,
    enum base64_alphabet alphabet)
{
	const unsigned char *t = alphabet == BASE64_URL ? url_table : std_table;
	const unsigned char *p = in, *end = in + n;
	unsigned char *o = out;
	unsigned a, b, c, d, acc = 0;
	int bits = 0;

	while (p < end) {
		/* Whole groups of four digits, the bulk of any input: the
		 * output stays behind the input, so `out` may be `in`. */
		while (bits == 0 && end - p >= 4) {
			a = t[p[0]];
			b = t[p[1]];
			c = t[p[2]];
			d = t[p[3]];
			if ((a | b | c | d) & 64)
				break;
			acc = a << 18 | b << 12 | c << 6 | d;
			o[0] = (unsigned char)(acc >> 16);
			o[1] = (unsigned char)(acc >> 8);
			o[2] = (unsigned char)acc;
			o += 3;
			p += 4;
		}
		if (p == end)
			break;
		a = t[*p++];
		if (a == SP)
			continue;
		if (a == EQ)
			break;
		if (a == XX)
			return -1;
		acc = acc << 6 | a;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			*o++ = (unsigned char)(acc >> bits);
		}
	}
	return (long)(o - out);
}

long
base64_encode(char *out, size_t cap, const unsigned char *in, size_t n,
    enum base64_alphabet alphabet, int pad)
{
	const char *d = digits[alphabet];
	size_t i, o = 0;
	unsigned v;

	if (n > ((size_t)-1 - 2) / 4 || BASE64_ENCODED_LEN(n, pad) > cap)
		return -1;
	for (i = 0; i + 3 <= n; i += 3) {
		v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 |
		    in[i + 2];
		out[o++] = d[v >> 18];
		out[o++] = d[v >> 12 & 63];
		out[o++] = d[v >> 6 & 63];
		out[o++] = d[v & 63];
	}
	if (i < n) {
		v = (unsigned)in[i] << 16 |
		    (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0);
		out[o++] = d[v >> 18];
		out[o++] = d[v >> 12 & 63];
		if (i + 1 < n)
			out[o++] = d[v >> 6 & 63];
		else if (pad)
			out[o++] = '=';
		if (pad)
			out[o++] = '=';
	}
	return (long)o;
}
