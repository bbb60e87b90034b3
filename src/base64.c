/*
 * base64.c: base64 and base64url decoding and encoding.
 *
 * Table driven with a four-digit fast path: a CA bundle is ~200 KB of
 * base64, and this loop is most of the cost of loading it.
 */
#include <string.h>

#include "base64.h"

/* Digit values; every other class has bit 6 set. */
enum { B64_SKIP = 64, B64_STOP = 65, B64_BAD = 66 };

static unsigned char tables[2][256];

static const char digits[2][65] = {
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
};

static const unsigned char *
table(enum base64_alphabet alphabet)
{
	const char *std = digits[BASE64_STD];
	static int ready;
	unsigned char *t;
	int a, i;

	if (!ready) {
		for (a = 0; a < 2; a++) {
			t = tables[a];
			memset(t, B64_BAD, 256);
			for (i = 0; i < 64; i++)
				t[(unsigned char)std[i]] = (unsigned char)i;
			t[' '] = t['\t'] = t['\r'] = t['\n'] = B64_SKIP;
			t['='] = B64_STOP;
		}
		tables[BASE64_URL]['+'] = tables[BASE64_URL]['/'] = B64_BAD;
		tables[BASE64_URL]['-'] = 62;
		tables[BASE64_URL]['_'] = 63;
		ready = 1;
	}
	return tables[alphabet];
}

/* Four digits as 24 bits, or ~0u when any of them is not a digit. */
static unsigned
quad(const unsigned char *t, const unsigned char *p)
{
	unsigned a = t[p[0]], b = t[p[1]], c = t[p[2]], d = t[p[3]];

	if ((a | b | c | d) & 64)
		return ~0u;
	return a << 18 | b << 12 | c << 6 | d;
}

long
base64_decode(unsigned char *out, const unsigned char *in, size_t n,
    enum base64_alphabet alphabet)
{
	const unsigned char *t = table(alphabet);
	unsigned acc = 0, v;
	size_t i = 0, o = 0;
	int bits = 0;

	while (i < n) {
		if (bits == 0 && n - i >= 4 && (v = quad(t, in + i)) != ~0u) {
			out[o++] = (unsigned char)(v >> 16);
			out[o++] = (unsigned char)(v >> 8);
			out[o++] = (unsigned char)v;
			i += 4;
			continue;
		}
		v = t[in[i++]];
		if (v == B64_SKIP)
			continue;
		if (v == B64_STOP)
			break;
		if (v == B64_BAD)
			return -1;
		acc = acc << 6 | v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	return (long)o;
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
