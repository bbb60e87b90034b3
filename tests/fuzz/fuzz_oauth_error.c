/*
 * fuzz_oauth_error.c: the log text of an error response from arbitrary
 * bodies and headers (the first bytes choose the Content-Encoding and the
 * Content-Type). Must never crash, and the text must be NUL-terminated,
 * printable and never a JWT.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oauth_error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
b64url(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* "eyJ", at least seven more base64url characters, then a dot. */
static int
has_jwt(const char *s)
{
	const char *p = s, *q;

	while ((p = strstr(p, "eyJ")) != NULL) {
		for (q = p + 3; b64url(*q); q++)
			;
		if (*q == '.' && q - p >= 10)
			return 1;
		p += 3;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const enc[] = { "", "identity", "gzip", "br" };
	char text[OAUTH_ERROR_TEXT_MAX], ctype[32];
	size_t i, n;

	if (size < 2)
		return 0;
	n = data[1] % sizeof ctype;
	if (n > size - 2)
		n = size - 2;
	memcpy(ctype, data + 2, n);
	ctype[n] = '\0';
	oauth_error_text(text, sizeof text, ctype, enc[data[0] % 4],
	    (const char *)data + 2 + n, size - 2 - n);
	if (memchr(text, '\0', sizeof text) == NULL)
		abort();
	for (i = 0; text[i] != '\0'; i++)
		if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
			abort();
	if (has_jwt(text))
		abort();
	return 0;
}
