/*
 * fuzz_url.c: url_parse on arbitrary text. What it accepts must be safe to
 * put in a request line and a Host header.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* No byte that could end or split a request line or header. */
static int
safe(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct url u;
	struct err err;
	char *text = malloc(size + 1);

	if (text == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	if (url_parse(&u, text, &err) == 0) {
		if (memchr(u.host, '\0', sizeof u.host) == NULL ||
		    memchr(u.authority, '\0', sizeof u.authority) == NULL ||
		    memchr(u.target, '\0', sizeof u.target) == NULL)
			abort();
		if (u.host[0] == '\0' || u.port == 0 || u.target[0] != '/' ||
		    !safe(u.host) || !safe(u.authority) || !safe(u.target))
			abort();
	} else if (err.kind != ERR_CONFIG || err.msg[0] == '\0') {
		abort();
	}
	free(text);
	return 0;
}
