/*
 * fuzz_dirent.c: tokenfile_dirent_next over arbitrary bytes as a
 * getdents64 buffer. Every name it gives lies in the buffer, ends with a
 * NUL inside its record, and the walk ends within as many steps as the
 * buffer has records of the smallest size.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tokenfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of its own size, so that ASan sees any read past it. */
	unsigned char *buf = malloc(size + 1);
	const char *name;
	size_t off = 0, last = 0, steps = 0;

	if (buf == NULL)
		abort();
	memcpy(buf, data, size);
	while ((name = tokenfile_dirent_next(buf, size, &off)) != NULL) {
		if ((const unsigned char *)name != buf + last + 19 ||
		    off <= last || off > size ||
		    memchr(name, '\0', off - last - 19) == NULL ||
		    ++steps > size / 20)
			abort();
		last = off;
	}
	if (off != size)
		abort();
	free(buf);
	return 0;
}
