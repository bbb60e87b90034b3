/*
 * fuzz_duration.c: duration_parse on arbitrary text. An accepted value,
 * written back in nanoseconds, must parse to itself.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err err;
	uint64_t ns, again;
	char canon[32];
	char *text = malloc(size + 1);

	if (text == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	if (duration_parse(text, "D", &ns, &err) == 0) {
		if (ns > INT64_MAX)
			abort();
		snprintf(canon, sizeof canon, "%" PRIu64 "ns", ns);
		if (duration_parse(canon, "D", &again, &err) != 0 ||
		    again != ns)
			abort();
	} else if (err.kind != ERR_CONFIG || strstr(err.msg, "D") == NULL) {
		abort();
	}
	free(text);
	return 0;
}
