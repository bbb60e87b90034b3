/*
 * metrics.c: what the sidecar has done, in Prometheus' text format.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
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

static void
gauge(struct out *o, const char *name, const char *help, long long v)
{
	head(o, name, "gauge", help);
	put(o, PREFIX "%s %lld\n", name, v);
}

/* A timestamp gauge, left without a sample while unknown. */
static void
timestamp(struct out *o, const char *name, const char *help, int64_t t)
{
	head(o, name, "gauge", help);
	if (t > 0)
		put(o, PREFIX "%s %lld\n", name, (long long)t);
}

static void
durations(struct out *o, const struct metrics *m)
{
	uint64_t sum = 0;
	size_t i;

	head(o, "exchange_duration_seconds", "histogram",
	    "Time from the start of an exchange to its end, DNS to answer.");
	for (i = 0; i < METRICS_BUCKETS; i++) {
		sum += m->buckets[i];
		put(o,
		    PREFIX
		    "exchange_duration_seconds_bucket{le=\"%llu.%03llu\"} "
		    "%llu\n",
		    (unsigned long long)(bounds_ms[i] / 1000),
		    (unsigned long long)(bounds_ms[i] % 1000),
		    (unsigned long long)sum);
	}
	put(o,
	    PREFIX "exchange_duration_seconds_bucket{le=\"+Inf\"} %llu\n" PREFIX
	           "exchange_duration_seconds_sum %llu.%03llu\n" PREFIX
	           "exchange_duration_seconds_count %llu\n",
	    (unsigned long long)m->duration_count,
	    (unsigned long long)(m->duration_sum_ms / 1000),
	    (unsigned long long)(m->duration_sum_ms % 1000),
	    (unsigned long long)m->duration_count);
}

static void
exchanges(struct out *o, const struct metrics *m)
{
	size_t i;

	head(o, "exchange_attempts_total", "counter",
	    "Token exchanges started.");
	put(o, PREFIX "exchange_attempts_total %llu\n",
	    (unsigned long long)m->attempts);
	head(o, "exchange_failures_total", "counter",
	    "Token exchanges that failed, by the kind of failure.");
	for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		put(o, PREFIX "exchange_failures_total{kind=\"%s\"} %llu\n",
		    err_kind_name(kinds[i]),
		    (unsigned long long)m->failures[kinds[i]]);
	head(o, "exchange_responses_total", "counter",
	    "HTTP answers from the token service, by status class.");
	for (i = 1; i <= 5; i++)
		put(o, PREFIX "exchange_responses_total{code=\"%zuxx\"} %llu\n",
		    i, (unsigned long long)m->responses[i]);
	durations(o, m);
}

size_t
metrics_render(const struct metrics *m, char *buf, size_t cap)
{
	struct out o = { buf, cap, 0, 0 };

	head(&o, "build_info", "gauge",
	    "The sidecar's version, as a label; always 1.");
	put(&o, PREFIX "build_info{version=\"%s\"} 1\n", TB_VERSION);
	timestamp(&o, "token_expiry_timestamp_seconds",
	    "When the token on disk expires, as the token service said.",
	    m->token_expiry);
	timestamp(&o, "token_last_success_timestamp_seconds",
	    "When a token was last written.", m->last_success);
	timestamp(&o, "token_next_refresh_timestamp_seconds",
	    "When the next exchange is due.", m->next_refresh);
	exchanges(&o, m);
	gauge(&o, "trust_anchors", "Trust anchors loaded from the CA bundle.",
	    (long long)m->trust_anchors);
	timestamp(&o, "ca_bundle_load_timestamp_seconds",
	    "When the CA bundle was last loaded successfully.",
	    m->bundle_loaded);
	head(&o, "ca_bundle_reload_failures_total", "counter",
	    "CA bundle reloads refused (the previous bundle stays in use).");
	put(&o, PREFIX "ca_bundle_reload_failures_total %llu\n",
	    (unsigned long long)m->bundle_reload_failures);
	return o.full ? 0 : o.len;
}
