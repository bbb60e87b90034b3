/*
 * metrics.c: what the sidecar has done, in Prometheus' text format.
 */
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include "fmt.h"
#include "metrics.h"

#define PREFIX "tokenbridge_"

static const uint64_t bounds_ms[METRICS_BUCKETS] = { 5, 10, 25, 50, 100, 250,
	500, 1000, 2500, 5000, 10000, 30000 };

/* Failure kinds an exchange can end with, as label values. */
static const enum err_kind kinds[] = { ERR_FILE, ERR_DNS, ERR_CONNECT,
	ERR_TIMEOUT, ERR_TLS, ERR_HTTP, ERR_STATUS, ERR_RESPONSE, ERR_SYSTEM,
	ERR_CONFIG };

void
metrics_exchange(struct metrics *m, uint64_t ms, int status, enum err_kind kind)
{
	size_t i;

	m->attempts++;
	if (kind != ERR_NONE && (unsigned)kind <= ERR_SYSTEM)
		m->failures[kind]++;
	if (status >= 100 && status <= 599)
		m->responses[status / 100]++;
	for (i = 0; i < METRICS_BUCKETS && ms > bounds_ms[i]; i++)
		;
	if (i < METRICS_BUCKETS)
		m->buckets[i]++;
	m->duration_count++;
	m->duration_sum_ms += ms;
}

struct out {
	char *buf;
	size_t cap;
	size_t len;
	int full;
};

static void put(struct out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = fmt_vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len)
		o->full = 1;
	else
		o->len += (size_t)n;
}

static void
head(struct out *o, const char *name, const char *type, const char *help)
{
	put(o, "# HELP " PREFIX "%s %s\n# TYPE " PREFIX "%s %s\n", name, help,
	    name, type);
}

/*
 * The start of one sample, up to its value: the name, then the token's
 * label and `label` (NULL: none) inside braces, if any.
 */
static void
series(struct out *o, const struct metrics *m, const char *name,
    const char *label)
{
	if (m->name == NULL && label == NULL)
		put(o, PREFIX "%s ", name);
	else if (m->name == NULL)
		put(o, PREFIX "%s{%s} ", name, label);
	else
		put(o, PREFIX "%s{token=\"%s\"%s%s} ", name, m->name,
		    label != NULL ? "," : "", label != NULL ? label : "");
}

static void
count(struct out *o, const struct metrics *m, const char *name,
    const char *label, unsigned long long v)
{
	series(o, m, name, label);
	put(o, "%llu\n", v);
}

static void
durations(struct out *o, const struct metrics *m)
{
	uint64_t sum = 0;
	char le[32];
	size_t i;

	for (i = 0; i < METRICS_BUCKETS; i++) {
		sum += m->buckets[i];
		(void)fmt_snprintf(le, sizeof le, "le=\"%llu.%03llu\"",
		    (unsigned long long)(bounds_ms[i] / 1000),
		    (unsigned long long)(bounds_ms[i] % 1000));
		count(o, m, "exchange_duration_seconds_bucket", le, sum);
	}
	count(o, m, "exchange_duration_seconds_bucket", "le=\"+Inf\"",
	    m->duration_count);
	series(o, m, "exchange_duration_seconds_sum", NULL);
	put(o, "%llu.%03llu\n", (unsigned long long)(m->duration_sum_ms / 1000),
	    (unsigned long long)(m->duration_sum_ms % 1000));
	count(o, m, "exchange_duration_seconds_count", NULL, m->duration_count);
}

static void
failures(struct out *o, const struct metrics *m)
{
	char label[32];
	size_t i;

	for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		(void)fmt_snprintf(label, sizeof label, "kind=\"%s\"",
		    err_kind_name(kinds[i]));
		count(o, m, "exchange_failures_total", label,
		    m->failures[kinds[i]]);
	}
}

static void
responses(struct out *o, const struct metrics *m)
{
	char label[16];
	size_t i;

	for (i = 1; i <= 5; i++) {
		(void)fmt_snprintf(label, sizeof label, "code=\"%zuxx\"", i);
		count(o, m, "exchange_responses_total", label, m->responses[i]);
	}
}

/* What a family shows of one token. */
enum shape {
	TIMESTAMP, /* an int64_t of struct metrics, no sample while 0 */
	COUNT,     /* a uint64_t of struct metrics */
	FAILURES,
	RESPONSES,
	DURATIONS
};

#define AT(field) offsetof(struct metrics, field)

static const struct family {
	const char *name;
	const char *type;
	const char *help;
	enum shape shape;
	size_t at; /* TIMESTAMP and COUNT: the field's offset */
} families[] = {
	{ "token_expiry_timestamp_seconds", "gauge",
	    "When the token on disk expires, as the token service said.",
	    TIMESTAMP, AT(token_expiry) },
	{ "token_last_success_timestamp_seconds", "gauge",
	    "When a token was last written.", TIMESTAMP, AT(last_success) },
	{ "token_next_refresh_timestamp_seconds", "gauge",
	    "When the next exchange is due.", TIMESTAMP, AT(next_refresh) },
	{ "exchange_attempts_total", "counter", "Token exchanges started.",
	    COUNT, AT(attempts) },
	{ "exchange_failures_total", "counter",
	    "Token exchanges that failed, by the kind of failure.", FAILURES,
	    0 },
	{ "exchange_responses_total", "counter",
	    "HTTP answers from the token service, by status class.", RESPONSES,
	    0 },
	{ "exchange_duration_seconds", "histogram",
	    "Time from the start of an exchange to its end, DNS to answer.",
	    DURATIONS, 0 },
	{ "trust_anchors", "gauge", "Trust anchors loaded from the CA bundle.",
	    COUNT, AT(trust_anchors) },
	{ "ca_bundle_load_timestamp_seconds", "gauge",
	    "When the CA bundle was last loaded successfully.", TIMESTAMP,
	    AT(bundle_loaded) },
	{ "ca_bundle_reload_failures_total", "counter",
	    "CA bundle reloads refused (the previous bundle stays in use).",
	    COUNT, AT(bundle_reload_failures) },
};

static void
sample(struct out *o, const struct family *f, const struct metrics *m)
{
	const char *field = (const char *)m + f->at;
	uint64_t u;
	int64_t t;

	switch (f->shape) {
	case TIMESTAMP:
		memcpy(&t, field, sizeof t);
		/* Left without a sample while unknown. */
		if (t > 0)
			count(o, m, f->name, NULL, (unsigned long long)t);
		break;
	case COUNT:
		memcpy(&u, field, sizeof u);
		count(o, m, f->name, NULL, u);
		break;
	case FAILURES:
		failures(o, m);
		break;
	case RESPONSES:
		responses(o, m);
		break;
	case DURATIONS:
		durations(o, m);
		break;
	}
}

size_t
metrics_render(const struct metrics *m, size_t n, char *buf, size_t cap)
{
	struct out o = { buf, cap, 0, 0 };
	size_t f, i;

	head(&o, "build_info", "gauge",
	    "The sidecar's version, as a label; always 1.");
	put(&o, PREFIX "build_info{version=\"%s\"} 1\n", TB_VERSION);
	for (f = 0; f < sizeof families / sizeof families[0]; f++) {
		head(&o, families[f].name, families[f].type, families[f].help);
		for (i = 0; i < n; i++)
			sample(&o, &families[f], &m[i]);
	}
	return o.full ? 0 : o.len;
}
