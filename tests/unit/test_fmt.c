/*
 * test_fmt.c: fmt_snprintf against the C library's snprintf, conversion
 * by conversion and at every buffer size, fmt_seconds against "%.1fs" of
 * the double, and fmt_addr against inet_ntop.
 *
 * The host's C library is glibc. Its inet_ntop parts from musl's (the one
 * the binary ships, which tests/musl/addr_diff.c compares with) in two
 * ways, checked here by the text musl writes instead: glibc writes the
 * deprecated IPv4-compatible form (::1.2.3.4), and it prefers a leading
 * run of zero groups over an inner run as long where musl takes the inner
 * one.
 */
#include "unit.h"

#include <arpa/inet.h>
#include <limits.h>

#include "fmt.h"
#include "glibc_ntop.h"

#define CANARY 0x5a

/* Both at buffer size cap: the same return, bytes, and nothing past cap. */
static void
same_at(size_t cap, const char *fmt, va_list ap)
{
	char *want = malloc(cap + 8), *got = malloc(cap + 8);
	va_list a1, a2;
	int w, g;

	assert_non_null(want);
	assert_non_null(got);
	memset(want, CANARY, cap + 8);
	memset(got, CANARY, cap + 8);
	va_copy(a1, ap);
	va_copy(a2, ap);
	w = vsnprintf(want, cap, fmt, a1);
	g = fmt_vsnprintf(got, cap, fmt, a2);
	va_end(a1);
	va_end(a2);
	if (w != g || memcmp(want, got, cap + 8) != 0)
		fail_msg(
		    "\"%s\" at size %zu: want %d \"%.*s\", got %d \"%.*s\"",
		    fmt, cap, w, (int)(cap < 200 ? cap : 200), want, g,
		    (int)(cap < 200 ? cap : 200), got);
	free(want);
	free(got);
}

/*
 * fmt at every buffer size from 0 to past the whole output (sizes near
 * the ends only for long outputs), so that every cut is checked: in a
 * string, in a number, in its padding, on the NUL.
 */
static void __attribute__((format(printf, 1, 2))) same(const char *fmt, ...)
{
	va_list ap, aq;
	size_t cap, n;

	va_start(ap, fmt);
	va_copy(aq, ap);
	n = (size_t)vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	for (cap = 0; cap <= n + 2; cap++) {
		if (cap == 300 && n > 400)
			cap = n - 2;
		same_at(cap, fmt, ap);
	}
	va_end(ap);
}

static void
test_strings(void **state)
{
	same("%s", "");
	same("plain text, no conversion");
	same("%s", "abc");
	same("a%sb%sc", "xyz", "");
	same("%.0s|", "abc");
	same("%.2s|", "abc");
	same("%.3s|", "abc");
	same("%.100s|", "abc");
	same("%.*s|", 2, "abcdef");
	same("%.*s|", 0, "abcdef");
	same("%.*s|", -1, "abcdef"); /* a negative precision is none */
	same("%.*s|", 6, "abcdef");
	same("%8s|", "abc");
	same("%2s|", "abcdef");
	same("%%");
	same("100%% of %s%%", "it");
	same("%s://%s%s%s:%u", "http", "user", "@", "host", 8080U);
}

/* A string precision stops reading at its bound: no NUL needed. */
static void
test_precision_reads_no_further(void **state)
{
	const char unterminated[3] = { 'a', 'b', 'c' };
	char out[8];

	assert_int_equal(fmt_snprintf(out, sizeof out, "%.3s", unterminated),
	    3);
	assert_string_equal(out, "abc");
	assert_int_equal(fmt_snprintf(out, sizeof out, "%.*s", 2, unterminated),
	    2);
	assert_string_equal(out, "ab");
}

static void
test_signed(void **state)
{
	static const long long v[] = { 0, 1, -1, 9, 10, -10, 99, 100, 12345,
		-12345, INT_MAX, INT_MIN, LONG_MAX, LONG_MIN, LLONG_MAX,
		LLONG_MIN };
	size_t i;

	for (i = 0; i < ARRAY_LEN(v); i++) {
		if (v[i] >= INT_MIN && v[i] <= INT_MAX) {
			same("%d", (int)v[i]);
			same("[%02d]", (int)v[i]);
			same("[%5d]", (int)v[i]);
			same("[%012d]", (int)v[i]);
		}
		same("%ld", (long)v[i]);
		same("[%03ld]", (long)v[i]);
		same("%lld", v[i]);
		same("[%04lld]", v[i]);
		same("[%030lld]", v[i]);
		same("[%25lld]", v[i]);
		same("%zd", (ssize_t)v[i]);
	}
}

static void
test_unsigned(void **state)
{
	static const unsigned long long v[] = { 0, 1, 9, 10, 15, 16, 255, 256,
		4095, 4096, 65535, 65536, UINT_MAX, ULONG_MAX, ULLONG_MAX };
	size_t i;

	for (i = 0; i < ARRAY_LEN(v); i++) {
		if (v[i] <= UINT_MAX) {
			same("%u", (unsigned)v[i]);
			same("%x", (unsigned)v[i]);
			same("[%02x]", (unsigned)v[i]);
			same("[%04x]", (unsigned)v[i]);
			same("[%9u]", (unsigned)v[i]);
		}
		same("%lu %lx", (unsigned long)v[i], (unsigned long)v[i]);
		same("%llu", v[i]);
		same("[%03llu]", v[i]);
		same("%llx", v[i]);
		same("%zu", (size_t)v[i]);
		same("[%05zu]", (size_t)v[i]);
	}
}

/* The program's own formats, as they are called. */
static void
test_program_formats(void **state)
{
	same("%04lld-%02d-%02dT%02d:%02d:%02dZ", 2026LL, 12, 1, 9, 5, 0);
	same("%04lld-%02d-%02dT%02d:%02d:%02d.%03ldZ", 12LL, 1, 2, 3, 4, 5, 7L);
	same("le=\"%llu.%03llu\"", 2ULL, 50ULL);
	same("code=\"%zuxx\"", (size_t)4);
	same("\\u%04x", 0x1fU);
	same("%s %.200s", "TOKEN_PATH", "/var/run/secrets/token");
	same("%.*s/.%s.expiry", 4, "/out/token", "token");
}

static void
test_huge_width(void **state)
{
	same("[%1000d]", -5);
	same("[%01000llu]", 7ULL);
	same("[%700s]", "x");
	same("%100000d", 1);
}

/*
 * What the program never uses is refused, not half done. gcc's format
 * check rightly warns about some of these: they are the point.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-overflow"
static void
test_refused(void **state)
{
	char out[16];

	assert_int_equal(fmt_snprintf(out, sizeof out, "ab%c", 'x'), -1);
	assert_string_equal(out, "ab");
	assert_int_equal(fmt_snprintf(out, sizeof out, "%f", 1.5), -1);
	assert_int_equal(fmt_snprintf(out, sizeof out, "%-5d", 1), -1);
	assert_int_equal(fmt_snprintf(out, sizeof out, "%+d", 1), -1);
	assert_int_equal(fmt_snprintf(out, sizeof out, "%.3d", 1), -1);
	assert_int_equal(fmt_snprintf(out, sizeof out, "%p", (void *)out), -1);
	assert_int_equal(fmt_snprintf(out, sizeof out, "%hd", 1), -1);
	assert_int_equal(fmt_snprintf(out, sizeof out, "x%05s", "a"), -1);
	assert_string_equal(out, "x");
	/* A width past INT_MAX, as glibc (EOVERFLOW). */
	assert_int_equal(fmt_snprintf(out, sizeof out, "%99999999999d", 1), -1);
}

/* (null) for a NULL string, as both C libraries write it. */
static void
test_null_string(void **state)
{
	char out[16];
	const char *none = NULL;

	assert_int_equal(fmt_snprintf(out, sizeof out, "<%s>", none), 8);
	assert_string_equal(out, "<(null)>");
}
#pragma GCC diagnostic pop

static void
same_seconds(uint64_t ms)
{
	char want[48], got[48];
	int w = snprintf(want, sizeof want, "%.1fs", (double)ms / 1000);
	int g = fmt_seconds(got, sizeof got, ms);

	if (w != g || strcmp(want, got) != 0)
		fail_msg("%llu ms: want %s, got %s", (unsigned long long)ms,
		    want, got);
}

static void
test_seconds(void **state)
{
	uint64_t ms, x = 0x9e3779b97f4a7c15ULL;
	int i;
	char small[4];

	for (ms = 0; ms < 2000000; ms++)
		same_seconds(ms);
	/* Every tie (x.x50) up to a billion, and ties far up. */
	for (ms = 50; ms < 1000000000; ms += 100)
		same_seconds(ms);
	for (i = 0; i < 1000000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		same_seconds(x % ((uint64_t)1 << 53));
		same_seconds((x % ((uint64_t)1 << 46)) * 100 + 50);
	}
	same_seconds(((uint64_t)1 << 53) - 50);
	assert_int_equal(fmt_seconds(small, sizeof small, 123456), 6);
	assert_string_equal(small, "123");
}

static const struct {
	const char *addr, *text; /* the text as musl writes it */
} musl_ntop[] = {
	{ "::", "::" },
	{ "::1", "::1" },
	{ "1::", "1::" },
	{ "2001:db8::1", "2001:db8::1" },
	{ "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1" },
	{ "2001:0:0:1::1", "2001:0:0:1::1" },
	{ "1:0:0:2:0:0:0:3", "1:0:0:2::3" },
	{ "1:0:0:2:0:0:3:4", "1::2:0:0:3:4" },
	{ "::ffff:192.0.2.1", "::ffff:192.0.2.1" },
	{ "::ffff:0.0.0.0", "::ffff:0.0.0.0" },
	{ "fe80::1:2:3:4", "fe80::1:2:3:4" },
	{ "ff02::2", "ff02::2" },
	{ "0:0:1:0:0:2:3:4", "0:0:1::2:3:4" },      /* glibc: ::1:0:0:2:3:4 */
	{ "::102:304", "::102:304" },               /* glibc: ::1.2.3.4 */
	{ "::ffff:0:102:304", "::ffff:0:102:304" }, /* SIIT, no dots */
	{ "0:1:0:1:0:1:0:1", "0:1:0:1:0:1:0:1" },
	{ "1:2:3:4:5:6:0:0", "1:2:3:4:5:6::" },
	{ "1:2:3:4:5:6:7:0", "1:2:3:4:5:6:7:0" },
};

static void
test_addr_table(void **state)
{
	unsigned char a[16];
	char out[FMT_ADDR_MAX];
	size_t i;

	for (i = 0; i < ARRAY_LEN(musl_ntop); i++) {
		assert_int_equal(inet_pton(AF_INET6, musl_ntop[i].addr, a), 1);
		assert_int_equal(fmt_addr(out, sizeof out, AF_INET6, a),
		    (int)strlen(musl_ntop[i].text));
		assert_string_equal(out, musl_ntop[i].text);
	}
	memcpy(a, "\x7f\0\0\x01", 4);
	assert_int_equal(fmt_addr(out, sizeof out, AF_INET, a), 9);
	assert_string_equal(out, "127.0.0.1");
	memcpy(a, "\xff\xff\xff\xff", 4);
	assert_int_equal(fmt_addr(out, sizeof out, AF_INET, a), 15);
	assert_string_equal(out, "255.255.255.255");
	assert_int_equal(fmt_addr(out, 4, AF_INET, a), 15);
	assert_string_equal(out, "255");
	assert_int_equal(fmt_addr(out, sizeof out, AF_UNIX, a), -1);
	assert_string_equal(out, "");
}

/* Addresses of mostly zero and small groups, where the rules matter. */
static void
random_addr(unsigned char a[16], uint64_t *x)
{
	int i;

	for (i = 0; i < 8; i++) {
		*x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
		switch (*x % 4) {
		case 0:
		case 1:
			a[2 * i] = a[2 * i + 1] = 0;
			break;
		case 2:
			a[2 * i] = 0;
			a[2 * i + 1] = (unsigned char)(*x >> 8);
			break;
		default:
			a[2 * i] = (unsigned char)(*x >> 16);
			a[2 * i + 1] = (unsigned char)(*x >> 24);
		}
	}
	if (*x % 16 == 0)
		memcpy(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);
}

static void
test_addr_random(void **state)
{
	unsigned char a[16], back[16];
	char want[FMT_ADDR_MAX], got[FMT_ADDR_MAX];
	uint64_t x = 88172645463325252ULL;
	int i, n;

	for (i = 0; i < 300000; i++) {
		random_addr(a, &x);
		n = fmt_addr(got, sizeof got, AF_INET6, a);
		assert_int_equal(n, (int)strlen(got));
		assert_int_equal(inet_pton(AF_INET6, got, back), 1);
		assert_memory_equal(a, back, 16);
		if (glibc_differs(a))
			continue;
		assert_non_null(inet_ntop(AF_INET6, a, want, sizeof want));
		assert_string_equal(got, want);
		assert_non_null(inet_ntop(AF_INET, a + 12, want, sizeof want));
		n = fmt_addr(got, sizeof got, AF_INET, a + 12);
		assert_int_equal(n, (int)strlen(want));
		assert_string_equal(got, want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_precision_reads_no_further),
		cmocka_unit_test(test_signed),
		cmocka_unit_test(test_unsigned),
		cmocka_unit_test(test_program_formats),
		cmocka_unit_test(test_huge_width),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_null_string),
		cmocka_unit_test(test_seconds),
		cmocka_unit_test(test_addr_table),
		cmocka_unit_test(test_addr_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
