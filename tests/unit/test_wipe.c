/*
 * test_wipe.c: wipe() leaves zeros, touches nothing outside its range,
 * and gives the whole pages inside back to the kernel (mincore says they
 * are no longer resident), in static storage, on the stack and in an
 * anonymous mapping.
 */
#include "unit.h"

#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "wipe.h"

#define PAGES 8

static unsigned char area[PAGES * 4096 * 2];

static size_t
page(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

/* Resident pages wholly inside p[0..n). */
static size_t
resident(const unsigned char *p, size_t n)
{
	size_t pg = page(), count = 0, i;
	uintptr_t lo = ((uintptr_t)p + pg - 1) & ~(uintptr_t)(pg - 1);
	uintptr_t hi = ((uintptr_t)p + n) & ~(uintptr_t)(pg - 1);
	unsigned char vec[64];

	if (hi <= lo)
		return 0;
	assert_true((hi - lo) / pg <= sizeof vec);
	assert_int_equal(mincore((void *)lo, hi - lo, vec), 0);
	for (i = 0; i < (hi - lo) / pg; i++)
		count += vec[i] & 1;
	return count;
}

static void
all_zero(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			fail_msg("byte %zu is %#x after wipe", i, p[i]);
}

/* Fill buf, wipe [off, off + n), check zeros inside and the fill around. */
static void
wipe_range(unsigned char *buf, size_t cap, size_t off, size_t n)
{
	size_t i;

	memset(buf, 0xa5, cap);
	wipe(buf + off, n);
	all_zero(buf + off, n);
	for (i = 0; i < off; i++)
		assert_int_equal(buf[i], 0xa5);
	for (i = off + n; i < cap; i++)
		assert_int_equal(buf[i], 0xa5);
}

static void
test_edges(void **state)
{
	size_t pg = page();
	static const size_t offs[] = { 0, 1, 7, 4095, 4096, 4097 };
	static const size_t lens[] = { 0, 1, 100, 4095, 4096, 4097, 8191,
		3 * 4096 + 5 };
	size_t i, j;

	for (i = 0; i < sizeof offs / sizeof offs[0]; i++)
		for (j = 0; j < sizeof lens / sizeof lens[0]; j++)
			wipe_range(area, sizeof area, offs[i] % pg, lens[j]);
}

static void
test_static_pages_released(void **state)
{
	size_t pg = page();
	unsigned char *p = area + 100; /* not page aligned */
	size_t n = PAGES * pg;

	memset(p, 0x5a, n);
	assert_true(resident(p, n) >= PAGES - 1);
	wipe(p, n);
	assert_int_equal(resident(p, n), 0);
	all_zero(p, n);
	/* Reading the zeros back faults nothing in but the zero page;
	 * writing makes the page resident again, as any buffer. */
	p[pg] = 1;
	assert_true(resident(p, n) >= 1);
}

static void
test_stack(void **state)
{
	unsigned char buf[4 * 4096 + 17];

	wipe_range(buf, sizeof buf, 3, sizeof buf - 6);
}

static void
test_mapping(void **state)
{
	size_t pg = page(), n = PAGES * pg;
	unsigned char *p = mmap(NULL, n, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	memset(p, 0x77, n);
	wipe(p, n);
	assert_int_equal(resident(p, n), 0);
	all_zero(p, n);
	assert_int_equal(munmap(p, n), 0);
}

/* A deep frame full of a pattern; returns where it lay. */
static __attribute__((noinline)) uintptr_t
deep(int depth)
{
	volatile unsigned char frame[8192];
	size_t i;

	for (i = 0; i < sizeof frame; i++)
		frame[i] = 0xc3;
	if (depth > 0)
		return deep(depth - 1);
	return (uintptr_t)frame;
}

static __attribute__((noinline)) void
release_here(void)
{
	wipe_stack();
}

static void
test_stack_below_released(void **state)
{
	size_t pg = page();
	uintptr_t low = deep(6) & ~(uintptr_t)(pg - 1);
	unsigned char vec[8];
	size_t i, resident_before = 0, resident_after = 0;

	/* The 8 lowest of the 14 pages deep()'s frames filled: dead, and
	 * well below release_here(), which runs at about deep()'s top. */
	assert_int_equal(mincore((void *)low, 8 * pg, vec), 0);
	for (i = 0; i < 8; i++)
		resident_before += vec[i] & 1;
	release_here();
	assert_int_equal(mincore((void *)low, 8 * pg, vec), 0);
	for (i = 0; i < 8; i++)
		resident_after += vec[i] & 1;
	assert_int_equal(resident_before, 8);
	assert_int_equal(resident_after, 0);
	/* The pattern is gone: the pages read back as zeros. */
	for (i = 0; i < 8 * pg; i++)
		if (((volatile unsigned char *)low)[i] != 0)
			fail_msg("stack byte %zu below the frame survived", i);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_static_pages_released),
		cmocka_unit_test(test_stack),
		cmocka_unit_test(test_mapping),
		cmocka_unit_test(test_stack_below_released),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
