/*
 * addr_diff.c: fmt_addr against musl's own inet_ntop, the one the release
 * binary linked before fmt_addr replaced it. Built with musl-gcc and run
 * by `make unit` (the cmocka tests run on the host's glibc, whose
 * inet_ntop writes some addresses otherwise).
 *
 * Every address whose eight groups are each 0, 1, 0x100 or 0xffff (the
 * values that decide the "::" run, the IPv4-mapped and -compatible
 * prefixes and the text's lengths), then random addresses of mostly zero
 * groups, then random IPv4 addresses, each at every buffer size. Prints
 * the first difference and exits 1; prints the count and exits 0.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fmt.h"

static int
check(int family, const unsigned char *a)
{
	char want[FMT_ADDR_MAX], got[FMT_ADDR_MAX + 1];
	size_t cap, len;
	int n;

	if (inet_ntop(family, a, want, sizeof want) == NULL) {
		perror("inet_ntop");
		return -1;
	}
	len = strlen(want);
	for (cap = 0; cap <= len + 1; cap++) {
		memset(got, 'X', sizeof got);
		n = fmt_addr(got, cap, family, a);
		if (n != (int)len ||
		    (cap > 0 &&
		        (strncmp(got, want, cap - 1) != 0 ||
		            got[cap - 1 < len ? cap - 1 : len] != '\0')) ||
		    got[cap] != 'X') {
			fprintf(stderr,
			    "size %zu: musl writes %s, fmt_addr "
			    "%d \"%.*s\"\n",
			    cap, want, n, (int)cap, got);
			return -1;
		}
	}
	return 0;
}

static uint64_t
next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

int
main(void)
{
	static const unsigned values[] = { 0, 1, 0x100, 0xffff };
	unsigned char a[16];
	uint64_t x = 0x2545f4914f6cdd1dULL;
	long count = 0;
	unsigned k, i;

	for (k = 0; k < 1u << 16; k++, count++) {
		for (i = 0; i < 8; i++) {
			unsigned v = values[k >> (2 * i) & 3];

			a[2 * i] = (unsigned char)(v >> 8);
			a[2 * i + 1] = (unsigned char)v;
		}
		if (check(AF_INET6, a) == -1)
			return 1;
	}
	for (k = 0; k < 200000; k++, count += 2) {
		for (i = 0; i < 16; i += 2) {
			uint64_t r = next(&x);

			a[i] = r % 3 == 0 ? (unsigned char)(r >> 8) : 0;
			a[i + 1] = r % 3 != 2 ? (unsigned char)(r >> 16) : 0;
		}
		if (next(&x) % 8 == 0)
			memcpy(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);
		if (check(AF_INET6, a) == -1 || check(AF_INET, a + 12) == -1)
			return 1;
	}
	printf("fmt_addr is musl's inet_ntop for %ld addresses\n", count);
	return 0;
}
