/*
 * fuzz_jwt.c: the probe's JWT `exp` reader on arbitrary tokens. It must
 * never crash, and whatever it reports must be a real exp: a JWT with a
 * non-negative integer claim.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned char payload[CHECK_PAYLOAD_MAX];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *token = (const char *)data;
	const char *dot;
	int64_t exp = check_jwt_exp(token, size, payload);

	if (exp == -1)
		return 0;
	/* Exactly three segments. */
	if (exp < 0 || (dot = memchr(token, '.', size)) == NULL ||
	    (dot = memchr(dot + 1, '.', size - (size_t)(dot + 1 - token))) ==
	        NULL ||
	    memchr(dot + 1, '.', size - (size_t)(dot + 1 - token)) != NULL)
		abort();
	return 0;
}
