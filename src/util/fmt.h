/*
 * fmt.h: the program's own string formatting.
 *
 * The C library's snprintf drags its whole vfprintf (floating point, wide
 * characters, positional arguments: 10 KB of the static binary) in for a
 * handful of integer and string conversions. These do those conversions
 * with the C99 contract and nothing more.
 */
#ifndef TB_FMT_H
#define TB_FMT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/*
 * snprintf for the conversions the program uses: %s with an optional
 * precision (%.Ns, %.*s), %d %u %x with the length modifiers l, ll and z,
 * a field width with optional 0 padding (%02d, %04lld), and %%. As C99:
 * writes at most cap bytes, NUL included, always NUL-terminates when
 * cap > 0, and returns the length the whole output would have. Returns -1
 * (after terminating what was written) on a conversion outside that set
 * or an output longer than INT_MAX; gcc checks every call's arguments
 * against its format.
 */
int fmt_snprintf(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* fmt_snprintf with a va_list. */
int fmt_vsnprintf(char *buf, size_t cap, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/*
 * A duration of ms milliseconds in seconds with one decimal and an "s",
 * byte for byte what snprintf's "%.1fs" prints for (double)ms / 1000
 * (ties of the decimal rounded as that double is, so 1.25 s gives "1.2s"
 * and 1.05 s "1.1s"), without floating point. Same return as
 * fmt_snprintf.
 */
int fmt_seconds(char *buf, size_t cap, uint64_t ms);

/* Room for any IPv6 address in text, NUL included (INET6_ADDRSTRLEN). */
#define FMT_ADDR_MAX 46

/*
 * The address at addr (4 bytes for AF_INET, 16 for AF_INET6) in text,
 * byte for byte as musl's inet_ntop writes it: a dotted quad, or lower-case
 * hex groups with the longest run of two or more zero groups as "::" and
 * the IPv4-mapped ::ffff:a.b.c.d form. As musl, and unlike RFC 5952, an
 * inner run beats a leading run as long (0:0:1::2:3:4). Same return as
 * fmt_snprintf; -1 for another family.
 */
int fmt_addr(char *buf, size_t cap, int family, const void *addr);

#endif
