/*
 * unit.h: what every unit test program includes.
 *
 * cmocka needs these system headers before its own. The helpers are static
 * inline so that a test program that does not use one gets no warning.
 */
#ifndef TB_UNIT_H
#define TB_UNIT_H

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "err.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof(a)[0])

/* A string literal as (pointer, length), so that embedded NULs count. */
#define LIT(s) (s), (sizeof(s) - 1)

#define assert_contains(hay, needle) \
	tb_assert_contains((hay), (needle), 1, __FILE__, __LINE__)
#define assert_not_contains(hay, needle) \
	tb_assert_contains((hay), (needle), 0, __FILE__, __LINE__)

static inline void
tb_assert_contains(const char *hay, const char *needle, int want,
    const char *file, int line)
{
	if ((strstr(hay, needle) != NULL) == want)
		return;
	print_error("%s:%d: \"%s\" %s \"%s\"\n", file, line, hay,
	    want ? "does not contain" : "contains", needle);
	_fail(file, line);
}

/* Create or replace the file at path with data[0..len). */
static inline void
write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/*
 * Rewrite the file at path in place (same inode) with data[0..len),
 * keeping its times: only the bytes tell the change, as when a rewrite
 * falls within the file system's timestamp granularity.
 */
static inline void
rewrite_in_place(const char *path, const void *data, size_t len)
{
	struct stat st;
	struct timespec times[2];
	int fd;

	assert_int_equal(stat(path, &st), 0);
	write_file(path, data, len);
	times[0] = st.st_atim;
	times[1] = st.st_mtim;
	assert_true((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0);
	assert_int_equal(futimens(fd, times), 0);
	assert_int_equal(close(fd), 0);
}

/* The error is of `kind` and its message names `what`. */
#define assert_err(e, k, what) \
	do { \
		assert_int_equal((e)->kind, (k)); \
		assert_contains((e)->msg, (what)); \
	} while (0)

/* Every byte of the message is printable: nothing that could forge a log
 * line or a terminal escape. */
#define assert_printable(s) \
	do { \
		for (const unsigned char *p_ = (const unsigned char *)(s); \
		     *p_; p_++) \
			if (*p_ < 0x20 || *p_ == 0x7f) \
				fail_msg("control byte 0x%02x in \"%s\"", *p_, \
				    (s)); \
	} while (0)

#endif
