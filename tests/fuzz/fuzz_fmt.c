/*
 * fuzz_fmt.c: fmt_snprintf, fmt_seconds and fmt_addr against glibc's
 * snprintf and inet_ntop on fuzzed values, widths and buffer sizes.
 *
 * The input is read as records: a conversion (one of those fmt_snprintf
 * supports, picked by a byte), the 0 flag, a width, a string precision, a
 * buffer size, an integer and a string, then fmt_seconds of the integer
 * and fmt_addr of 16 bytes. Any difference in return or bytes, or a byte
 * written past the size, aborts.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "../unit/glibc_ntop.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OUT_MAX 600

struct input {
	const uint8_t *p;
	size_t left;
};

/* The next n bytes as a little-endian number, zeros past the end. */
static uint64_t
take(struct input *in, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (in->left > 0) {
			v |= (uint64_t)*in->p++ << (8 * i);
			in->left--;
		}
	return v;
}

static void
compare(const char *fmt, const char *want, int w, const char *got, int g,
    size_t cap)
{
	if (w != g || memcmp(want, got, cap + 1) != 0) {
		fprintf(stderr, "\"%s\" at size %zu: want %d, got %d\n", fmt,
		    cap, w, g);
		abort();
	}
}

/* The integer conversions: length modifier and conversion. */
static const char *const ints[] = { "d", "ld", "lld", "zd", "u", "lu", "llu",
	"zu", "x", "lx", "llx", "zx" };

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
/* Both with v as the type the conversion takes. */
#define BOTH(type) \
	do { \
		w = snprintf(want, cap, fmt, (type)v); \
		g = fmt_snprintf(got, cap, fmt, (type)v); \
	} while (0)

static void
one_int(const char *fmt, size_t cap, unsigned k, uint64_t v)
{
	char want[OUT_MAX + 1], got[OUT_MAX + 1];
	int w, g;

	memset(want, 'X', sizeof want);
	memset(got, 'X', sizeof got);
	switch (k) {
	case 0:
		BOTH(int);
		break;
	case 1:
	case 3:
		BOTH(long);
		break;
	case 2:
		BOTH(long long);
		break;
	case 4:
	case 8:
		BOTH(unsigned);
		break;
	case 5:
	case 9:
		BOTH(unsigned long);
		break;
	case 6:
	case 10:
		BOTH(unsigned long long);
		break;
	default:
		BOTH(size_t);
	}
	compare(fmt, want, w, got, g, cap);
}
#undef BOTH

static void
one_string(const char *fmt, size_t cap, int prec, const char *s)
{
	char want[OUT_MAX + 1], got[OUT_MAX + 1];
	int w, g;

	memset(want, 'X', sizeof want);
	memset(got, 'X', sizeof got);
	w = snprintf(want, cap, fmt, prec, s);
	g = fmt_snprintf(got, cap, fmt, prec, s);
	compare(fmt, want, w, got, g, cap);
}
#pragma GCC diagnostic pop

static void
seconds(uint64_t ms)
{
	char want[48], got[48];
	int w, g;

	ms %= (uint64_t)1 << 53; /* where the double holds ms exactly */
	w = snprintf(want, sizeof want, "%.1fs", (double)ms / 1000);
	g = fmt_seconds(got, sizeof got, ms);
	if (w != g || strcmp(want, got) != 0)
		abort();
}

static void
address(const unsigned char a[16], size_t cap)
{
	char want[FMT_ADDR_MAX], full[FMT_ADDR_MAX], got[FMT_ADDR_MAX + 1];
	unsigned char back[16];
	int n = fmt_addr(full, sizeof full, AF_INET6, a);

	if (inet_pton(AF_INET6, full, back) != 1 || memcmp(a, back, 16) != 0 ||
	    n != (int)strlen(full))
		abort();
	if (inet_ntop(AF_INET6, a, want, sizeof want) == NULL ||
	    (!glibc_differs(a) && strcmp(full, want) != 0))
		abort();
	/* At a smaller size: the same length, a cut and terminated text. */
	memset(got, 'X', sizeof got);
	cap %= FMT_ADDR_MAX + 1;
	if (fmt_addr(got, cap, AF_INET6, a) != n || got[cap] != 'X' ||
	    (cap > 0 &&
	        (strncmp(got, full, cap - 1) != 0 ||
	            got[n < (int)cap ? n : (int)cap - 1] != '\0')))
		abort();
	n = fmt_addr(got, sizeof got, AF_INET, a + 12);
	if (inet_ntop(AF_INET, a + 12, want, sizeof want) == NULL ||
	    n != (int)strlen(want) || strcmp(got, want) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	char fmt[40], s[64];
	unsigned char a[16];
	unsigned k, zero, width;
	size_t cap, i;
	int prec;
	uint64_t v;

	while (in.left > 0) {
		k = (unsigned)take(&in, 1);
		zero = k & 0x80;
		width = (unsigned)take(&in, 2) % 520;
		prec = (int)(int8_t)take(&in, 1);
		cap = (size_t)take(&in, 2) % (OUT_MAX - 1);
		v = take(&in, 8);
		for (i = 0; i < sizeof s - 1 && in.left > 0 && *in.p != 0; i++)
			s[i] = (char)take(&in, 1);
		s[i] = '\0';
		(void)take(&in, 1); /* the string's end */
		if ((k & 0x7f) < 2 * sizeof ints / sizeof ints[0]) {
			(void)snprintf(fmt, sizeof fmt, "<%%%s%u%s>",
			    zero ? "0" : "", width, ints[(k & 0x7f) / 2]);
			one_int(fmt, cap, (k & 0x7f) / 2, v);
		} else {
			/* No width 0: that would be the 0 flag. */
			(void)snprintf(fmt, sizeof fmt, "<%%%u.*s|%%%%>",
			    width % 80 + 1);
			one_string(fmt, cap, prec, s);
		}
		seconds(v);
		for (i = 0; i < sizeof a; i++)
			a[i] = (unsigned char)take(&in, 1);
		address(a, cap);
	}
	return 0;
}
