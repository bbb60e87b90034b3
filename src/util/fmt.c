/*
 * fmt.c: snprintf for the conversions the program uses, a "%.1fs" of
 * milliseconds without floating point, and inet_ntop's text of an address.
 *
 * Output goes through struct out, which counts every byte the whole
 * output would have and stores those that fit before the NUL.
 */
#include <sys/socket.h>

#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include "fmt.h"

struct out {
	char *buf;
	size_t cap;
	size_t len; /* the would-be length, saturating */
};

/* Append n bytes of s, or of the byte c when s is NULL. */
static void
put(struct out *o, const char *s, int c, size_t n)
{
	size_t room = 0;

	if (o->cap > 0 && o->len < o->cap - 1)
		room = o->cap - 1 - o->len;
	if (room > n)
		room = n;
	if (room > 0 && s != NULL)
		memcpy(o->buf + o->len, s, room);
	else if (room > 0)
		memset(o->buf + o->len, c, room);
	o->len = n > SIZE_MAX - o->len ? SIZE_MAX : o->len + n;
}

/* Terminate the output; return its length, or -1 when failed. */
static int
finish(struct out *o, bool failed)
{
	if (o->cap > 0)
		o->buf[o->len < o->cap ? o->len : o->cap - 1] = '\0';
	return failed || o->len > INT_MAX ? -1 : (int)o->len;
}

/* One conversion's flags, as parsed. */
struct spec {
	bool zero;    /* the 0 flag */
	size_t width; /* 0 when none */
	int prec;     /* -1 when none */
	int length;   /* 0, 'l', 'L' for ll, 'z' */
};

/* The digits of v in base 10 or 16, right-aligned in d; their count. */
static size_t
digits(char d[24], unsigned long long v, unsigned base)
{
	size_t n = 0;

	do {
		d[23 - n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v != 0);
	return n;
}

static void
put_number(struct out *o, const struct spec *sp, unsigned long long v,
    bool negative, unsigned base)
{
	char d[24];
	size_t n = digits(d, v, base), used = n + negative;
	size_t pad = sp->width > used ? sp->width - used : 0;

	if (!sp->zero)
		put(o, NULL, ' ', pad);
	if (negative)
		put(o, "-", 0, 1);
	if (sp->zero)
		put(o, NULL, '0', pad);
	put(o, d + 24 - n, 0, n);
}

static void
put_string(struct out *o, const struct spec *sp, const char *s)
{
	size_t n;

	if (s == NULL)
		s = "(null)";
	n = sp->prec >= 0 ? strnlen(s, (size_t)sp->prec) : strlen(s);
	if (sp->width > n)
		put(o, NULL, ' ', sp->width - n);
	put(o, s, 0, n);
}

/*
 * Parse the flags, width, precision and length of the conversion at *f
 * (just past its '%'). Returns false for what the program never uses.
 */
static bool
parse_spec(const char **f, struct spec *sp, va_list *ap)
{
	const char *p = *f;

	sp->zero = *p == '0';
	p += sp->zero;
	for (sp->width = 0; *p >= '0' && *p <= '9'; p++)
		if ((sp->width = sp->width * 10 + (size_t)(*p - '0')) > INT_MAX)
			return false;
	sp->prec = -1;
	if (*p == '.' && *++p == '*') {
		if ((sp->prec = va_arg(*ap, int)) < 0)
			sp->prec = -1; /* as C: a negative precision is none */
		p++;
	} else if (p[-1] == '.') { /* p is past the '%' at least */
		for (sp->prec = 0; *p >= '0' && *p <= '9'; p++) {
			if (sp->prec > (INT_MAX - 9) / 10)
				return false;
			sp->prec = sp->prec * 10 + (*p - '0');
		}
	}
	sp->length = 0;
	if (*p == 'z' || *p == 'l')
		sp->length = (unsigned char)*p++;
	if (sp->length == 'l' && *p == 'l') {
		sp->length = 'L';
		p++;
	}
	*f = p;
	return true;
}

/* The signed argument of length sp->length (ssize_t is a long). */
static long long
signed_arg(const struct spec *sp, va_list *ap)
{
	if (sp->length == 'L')
		return va_arg(*ap, long long);
	if (sp->length != 0)
		return va_arg(*ap, long);
	return va_arg(*ap, int);
}

static unsigned long long
unsigned_arg(const struct spec *sp, va_list *ap)
{
	if (sp->length == 'L')
		return va_arg(*ap, unsigned long long);
	if (sp->length == 'l')
		return va_arg(*ap, unsigned long);
	if (sp->length == 'z')
		return va_arg(*ap, size_t);
	return va_arg(*ap, unsigned);
}

/* One conversion at *f, just past its '%'; false when unsupported. */
static bool
convert(struct out *o, const char **f, va_list *ap)
{
	struct spec sp;
	bool negative = false;
	unsigned long long v;
	long long s;
	char c;

	if (!parse_spec(f, &sp, ap))
		return false;
	c = *(*f)++;
	if (c == '%' && !sp.zero && sp.width == 0 && sp.prec == -1 &&
	    sp.length == 0) {
		put(o, "%", 0, 1);
		return true;
	}
	if (c == 's' && !sp.zero && sp.length == 0) {
		put_string(o, &sp, va_arg(*ap, const char *));
		return true;
	}
	if ((c != 'd' && c != 'u' && c != 'x') || sp.prec != -1)
		return false;
	if (c == 'd') {
		s = signed_arg(&sp, ap);
		negative = s < 0;
		v = negative ? 0 - (unsigned long long)s :
		               (unsigned long long)s;
	} else {
		v = unsigned_arg(&sp, ap);
	}
	put_number(o, &sp, v, negative, c == 'x' ? 16 : 10);
	return true;
}

int
fmt_vsnprintf(char *buf, size_t cap, const char *fmt, va_list ap)
{
	struct out o = { buf, cap, 0 };
	const char *f = fmt, *pct;
	va_list aq;
	bool ok = true;

	va_copy(aq, ap);
	while (ok && *f != '\0') {
		if ((pct = strchr(f, '%')) == NULL)
			pct = f + strlen(f);
		put(&o, f, 0, (size_t)(pct - f));
		f = pct;
		if (*f == '%') {
			f++;
			ok = convert(&o, &f, &aq);
		}
	}
	va_end(aq);
	return finish(&o, !ok);
}

int
fmt_snprintf(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
	return n;
}

/*
 * Whether the double nearest to u / 1000 lies above u / 1000 (1), on it
 * (0) or below it (-1), for 0 < u < 2^53 (where u itself is exact as a
 * double). u / 1000 = (N / 1000) * 2^-k with N = u * 2^k scaled until the
 * quotient has 53 bits: the quotient is the double's mantissa and the
 * remainder decides its rounding (to nearest, ties to even).
 */
static int
double_side(uint64_t u)
{
	const uint64_t limit = (uint64_t)1000 << 53;
	uint64_t n = u, m, rem;

	while (n < limit / 2)
		n <<= 1;
	m = n / 1000;
	rem = n % 1000;
	if (rem == 0)
		return 0;
	return rem > 500 || (rem == 500 && (m & 1) != 0) ? 1 : -1;
}

int
fmt_seconds(char *buf, size_t cap, uint64_t ms)
{
	uint64_t tenths = ms / 100, r = ms % 100;
	int side;

	/*
	 * printf rounds the double's exact value to one decimal. Only a tie
	 * of the milliseconds (r == 50) can come out either way: the double
	 * then decides, or, when it is exact, rounding to the even tenth.
	 * From 2^53 on the double cannot even hold ms: ties round up.
	 */
	if (r == 50 && ms < (uint64_t)1 << 53) {
		side = double_side(ms);
		tenths += side > 0 || (side == 0 && (tenths & 1) != 0);
	} else {
		tenths += r > 50 || r == 50;
	}
	return fmt_snprintf(buf, cap, "%llu.%llus",
	    (unsigned long long)(tenths / 10),
	    (unsigned long long)(tenths % 10));
}

/*
 * musl's rule for "::", applied to the groups' text: the first longest
 * stretch of ":0" characters starting at the start or at a ':' and longer
 * than 3 becomes "::". Being text, it prefers an inner run (":0:0:", one
 * byte longer) over a leading run of as many groups, as musl does.
 */
static void
compress_zeros(char *t)
{
	size_t i, j, best = 0, max = 2, len = strlen(t);

	for (i = 0; i < len; i++) {
		if (i != 0 && t[i] != ':')
			continue;
		for (j = 0; t[i + j] == ':' || t[i + j] == '0'; j++)
			; /* strspn(t + i, ":0"), without linking it */
		if (j > max) {
			best = i;
			max = j;
		}
	}
	if (max > 3) {
		t[best] = t[best + 1] = ':';
		memmove(t + best + 2, t + best + max, len - best - max + 1);
	}
}

int
fmt_addr(char *buf, size_t cap, int family, const void *addr)
{
	static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };
	const unsigned char *a = addr, *g;
	char t[FMT_ADDR_MAX];
	size_t n = 0;
	int i, groups = 8;

	if (family == AF_INET)
		return fmt_snprintf(buf, cap, "%u.%u.%u.%u", a[0], a[1], a[2],
		    a[3]);
	if (family != AF_INET6)
		return finish(&(struct out){ buf, cap, 0 }, true);
	if (memcmp(a, mapped, sizeof mapped) == 0)
		groups = 6;
	for (i = 0, g = a; i < groups; i++, g += 2)
		n += (size_t)fmt_snprintf(t + n, sizeof t - n, "%s%x",
		    i == 0 ? "" : ":", (unsigned)(g[0] << 8 | g[1]));
	if (groups == 6) /* g is at the IPv4 address */
		(void)fmt_snprintf(t + n, sizeof t - n, ":%u.%u.%u.%u", g[0],
		    g[1], g[2], g[3]);
	compress_zeros(t);
	return fmt_snprintf(buf, cap, "%s", t);
}
