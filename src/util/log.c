/*
 * log.c: one structured line per event on stderr.
 *
 * A line is built whole in a buffer and written with one write(2), so that
 * lines from a restarting process never interleave. Every byte outside
 * printable ASCII is escaped: log lines stay one line and valid JSON
 * whatever a server sent.
 */
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "date.h"
#include "fmt.h"
#include "log.h"

#define LINE_MAX_BYTES 2048
#define VALUE_MAX_BYTES 600 /* escaped; longer values end in "..." */
#define REDACTED "[REDACTED]"
#define LOG_SECRET_PIECE 8 /* shorter runs match by chance */

static enum log_format fmt = LOG_TEXT;
static enum log_level min_level = LOG_INFO;

/* Every job's secrets, redacted from every record. */
static struct {
	const char *ptr;
	size_t len;
} secrets[LOG_JOBS][LOG_SECRETS];

/* The job records are about: its secrets' row, and its name. */
static size_t job;
static const char *job_name;

struct line {
	char buf[LINE_MAX_BYTES];
	size_t len;
	int full;
};

void
log_setup(enum log_format format, enum log_level level)
{
	fmt = format;
	min_level = level;
}

void
log_secret(enum log_secret_slot slot, const char *secret, size_t len)
{
	if ((unsigned)slot >= LOG_SECRETS)
		return;
	secrets[job][slot].ptr = secret;
	secrets[job][slot].len = len;
}

void
log_job(size_t index, const char *name)
{
	job = index < LOG_JOBS ? index : 0;
	job_name = name;
}

/*
 * Append all of s or nothing, keeping room for the closing "}\n": an
 * escape sequence is never cut in half.
 */
static void
put(struct line *l, const char *s, size_t n)
{
	if (l->full || n > sizeof l->buf - 2 - l->len) {
		l->full = 1;
		return;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

static void
puts_l(struct line *l, const char *s)
{
	put(l, s, strlen(s));
}

/*
 * Length of the longest run at s that is a piece of a registered secret
 * (at least LOG_SECRET_PIECE bytes, or the whole of a shorter secret), or
 * 0. Pieces count because servers quote the start of a token they reject.
 */
static size_t
secret_at(const char *s, size_t left)
{
	size_t i, k, best = 0, len;
	const char *p;

	for (i = 0; i < (size_t)LOG_JOBS * LOG_SECRETS; i++) {
		p = secrets[i / LOG_SECRETS][i % LOG_SECRETS].ptr;
		len = secrets[i / LOG_SECRETS][i % LOG_SECRETS].len;
		if (len == 0)
			continue;
		if (len < LOG_SECRET_PIECE) {
			if (len <= left && memcmp(s, p, len) == 0 && len > best)
				best = len;
			continue;
		}
		if (left < LOG_SECRET_PIECE ||
		    memmem(p, len, s, LOG_SECRET_PIECE) == NULL)
			continue;
		for (k = LOG_SECRET_PIECE;
		     k < left && memmem(p, len, s, k + 1) != NULL; k++)
			;
		if (k > best)
			best = k;
	}
	return best;
}

static int
needs_quotes(const char *v)
{
	if (*v == '\0')
		return 1;
	for (; *v; v++)
		if (*v <= ' ' || *v == '"' || *v == '=' || *v == '\\' ||
		    (unsigned char)*v >= 0x7f)
			return 1;
	return 0;
}

static void
put_escaped(struct line *l, const char *v)
{
	size_t n = strlen(v), i, s, start = l->len;
	unsigned char c;
	char esc[8];

	for (i = 0; i < n && !l->full; i++) {
		if (l->len - start > VALUE_MAX_BYTES) {
			puts_l(l, "...");
			break;
		}
		if ((s = secret_at(v + i, n - i)) > 0) {
			puts_l(l, REDACTED);
			i += s - 1;
			continue;
		}
		c = (unsigned char)v[i];
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(l, esc, 2);
		} else if (c == '\n') {
			puts_l(l, "\\n");
		} else if (c == '\t') {
			puts_l(l, "\\t");
		} else if (c < 0x20 || c >= 0x7f) {
			(void)fmt_snprintf(esc, sizeof esc,
			    fmt == LOG_JSON ? "\\u%04x" : "\\x%02x", c);
			puts_l(l, esc);
		} else {
			put(l, (const char *)&c, 1);
		}
	}
}

static void
put_value(struct line *l, const char *v)
{
	if (fmt == LOG_JSON || needs_quotes(v)) {
		puts_l(l, "\"");
		put_escaped(l, v);
		puts_l(l, "\"");
	} else {
		put_escaped(l, v);
	}
}

/* A pair that does not fit in the line is left out whole. */
static void
put_pair(struct line *l, const char *key, const char *value)
{
	size_t saved = l->len;

	if (fmt == LOG_JSON) {
		puts_l(l, l->len > 1 ? ",\"" : "\"");
		puts_l(l, key);
		puts_l(l, "\":");
	} else {
		if (l->len > 0)
			puts_l(l, " ");
		puts_l(l, key);
		puts_l(l, "=");
	}
	put_value(l, value ? value : "");
	if (l->full)
		l->len = saved;
}

int
log_write_all(int fd, const char *buf, size_t len)
{
	size_t off;
	ssize_t w;

	for (off = 0; off < len; off += (size_t)w)
		if ((w = write(fd, buf + off, len - off)) <= 0)
			return -1;
	return 0;
}

void
log_format_time(char *out, size_t cap, int64_t t)
{
	struct date d;

	date_from_unix(t, &d);
	(void)fmt_snprintf(out, cap, "%04lld-%02d-%02dT%02d:%02d:%02dZ",
	    (long long)d.year, d.month, d.day, d.hour, d.minute, d.second);
}

static void
put_time(struct line *l)
{
	struct timespec ts;
	struct date d;
	char t[40];

	clock_gettime(CLOCK_REALTIME, &ts);
	date_from_unix(ts.tv_sec, &d);
	(void)fmt_snprintf(t, sizeof t,
	    "%04lld-%02d-%02dT%02d:%02d:%02d.%03ldZ", (long long)d.year,
	    d.month, d.day, d.hour, d.minute, d.second, ts.tv_nsec / 1000000);
	put_pair(l, "time", t);
}

void
log_event(enum log_level level, const char *msg, ...)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };
	struct line l;
	const char *key, *value;
	va_list ap;

	if (level < min_level)
		return;
	l.len = 0;
	l.full = 0;
	if (fmt == LOG_JSON)
		puts_l(&l, "{");
	put_time(&l);
	put_pair(&l, "level", names[level]);
	put_pair(&l, "msg", msg);
	if (job_name != NULL)
		put_pair(&l, "token", job_name);
	va_start(ap, msg);
	while ((key = va_arg(ap, const char *)) != NULL) {
		value = va_arg(ap, const char *);
		put_pair(&l, key, value);
	}
	va_end(ap);
	if (fmt == LOG_JSON)
		l.buf[l.len++] = '}';
	l.buf[l.len++] = '\n';
	(void)log_write_all(STDERR_FILENO, l.buf, l.len); /* nowhere to say */
}
