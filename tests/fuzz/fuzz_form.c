/*
 * fuzz_form.c: form_append, checked by decoding what it wrote.
 *
 * Input: a byte choosing the buffer size, a byte splitting the rest into
 * two values, then the values (any bytes, NULs included). Both pairs are
 * appended; the body must decode back to them, use only Go's
 * url.QueryEscape alphabet, and a pair that does not fit must leave the
 * buffer as it was.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const keys[] = { "subject_token", "audience" };

static int
hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
kept(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	    c == '~';
}

/*
 * Decode buf[*pos..len) as "key=value" up to '&' or the end into out.
 * Returns the value length, or aborts on anything QueryEscape would not
 * have written.
 */
static size_t
decode_pair(const char *buf, size_t len, size_t *pos, const char *key,
    unsigned char *out)
{
	size_t klen = strlen(key), i = *pos, n = 0;

	if (len - i < klen + 1 || memcmp(buf + i, key, klen) != 0 ||
	    buf[i + klen] != '=')
		abort();
	for (i += klen + 1; i < len && buf[i] != '&'; i++) {
		unsigned char c = (unsigned char)buf[i];
		int hi, lo;

		if (c == '+') {
			out[n++] = ' ';
		} else if (c == '%') {
			if (len - i < 3 || (hi = hex(buf[i + 1])) < 0 ||
			    (lo = hex(buf[i + 2])) < 0)
				abort();
			out[n] = (unsigned char)(hi << 4 | lo);
			/* Escaped only when it had to be. */
			if (kept(out[n]) || out[n] == ' ')
				abort();
			n++;
			i += 2;
		} else if (kept(c)) {
			out[n++] = c;
		} else {
			abort();
		}
	}
	*pos = i < len ? i + 1 : i;
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *value[2];
	size_t vlen[2], cap, len = 0, pos = 0, n, k;
	char *buf, *before;
	unsigned char *out;
	int fits[2];

	if (size < 2)
		return 0;
	cap = (size_t)data[0] * 16;
	k = data[1] % (size - 1);
	value[0] = (const char *)data + 2;
	vlen[0] = k;
	value[1] = (const char *)data + 2 + k;
	vlen[1] = size - 2 - k;

	buf = malloc(cap + 1);
	before = malloc(cap + 1);
	out = malloc(size + 1);
	if (buf == NULL || before == NULL || out == NULL)
		abort();
	memset(buf, '#', cap + 1);
	for (int i = 0; i < 2; i++) {
		size_t old = len;

		memcpy(before, buf, cap + 1);
		fits[i] = form_append(buf, cap, &len, keys[i], value[i],
		              vlen[i]) == 0;
		if (!fits[i] && (len != old || memcmp(buf, before, cap + 1)))
			abort();
		if (len > cap || buf[cap] != '#')
			abort();
	}
	for (int i = 0; i < 2; i++) {
		if (!fits[i])
			continue;
		n = decode_pair(buf, len, &pos, keys[i], out);
		if (n != vlen[i] || memcmp(out, value[i], n) != 0)
			abort();
	}
	if (pos != len)
		abort();
	free(buf);
	free(before);
	free(out);
	return 0;
}
