/*
 * fleet.c: what the refresh schedule does to the token service when a
 * whole fleet runs it. 10 000 sidecars start in the same second with one
 * hour tokens and REFRESH_INTERVAL=1h; each is driven through the real
 * schedule functions (schedule.c) exactly as refresh.c drives them, on a
 * simulated clock, with a seeded random generator: no network, no time,
 * the same figures on every run.
 *
 * Scenarios: a normal run, and a 10-minute outage during which the
 * service answers 503 with Retry-After: 60, placed at several points of
 * the six hours. For each, the requests per second the service sees over
 * the first six hours: the mean, and the peak over windows of 1, 10 and 60
 * seconds. The first minute is left out of both: it holds the 10 000 first
 * exchanges (a pod has no token before its first one, so nothing can
 * spread those) and nothing else (the first refresh comes at 5% of the
 * lifetime at the soonest).
 *
 * Asserted: in the normal run, the peak over one-minute windows at most
 * twice the mean (the target); with an outage, at most OUTAGE_LIMIT times
 * the mean, and no token lapses. The target of twice the mean is not met
 * with an outage, and cannot reliably be by any schedule refreshing at
 * 65-75% of the lifetime: the sidecars due during the outage (about a
 * quarter of the fleet, arriving at the normal rate) must all come back
 * after it and before their tokens lapse, 15-21 minutes after their first
 * try; spread over that time they add about the normal rate again on top
 * of it, and the noise of a few requests a second does the rest. The
 * "oracle" rows show the bound: sidecars that knew when the outage ends
 * and retried once, evenly between then and their token's expiry, would
 * still reach 1.8-2.2 times the mean (printed, not asserted). Over
 * single seconds the mean is only a few requests, and Poisson noise alone
 * puts the busiest second of six hours near three times it however evenly
 * the fleet is spread; the one-second figure is printed for the record.
 *
 * Exit status 0 when every scenario meets its limit, 1 otherwise.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schedule.h"

#define FLEET 10000
#define LIFETIME_MS 3600000ull /* expires_in: 3600 */
#define INTERVAL_MS 3600000ull /* REFRESH_INTERVAL=1h */
#define HORIZON_S (6 * 3600)
#define SKIP_S 60 /* the first exchanges */
#define OUTAGE_MS (10 * 60 * 1000ull)
#define RETRY_AFTER_MS 60000ull
#define TARGET 2.0       /* normal run */
#define OUTAGE_LIMIT 2.6 /* measured 2.1-2.5: a guard */
#define SEED 0x5eed2026u

struct sidecar {
	uint64_t due;    /* simulated ms of its next exchange */
	uint64_t expiry; /* of the token it holds */
	uint32_t attempt;
	bool has_token;
};

struct fleet {
	struct sidecar s[FLEET];
	uint32_t heap[FLEET]; /* indices into s, earliest due first */
	uint32_t count[HORIZON_S];
	uint64_t rng;
};

struct scenario {
	const char *name;
	uint64_t outage_from; /* ms; 0 with outage_to 0: none */
	uint64_t outage_to;
	bool oracle; /* the reference policy, not the schedule */
};

struct figures {
	double mean, peak1, peak10, peak60;
	uint32_t failed; /* requests answered 503 */
	uint32_t lapsed; /* exchanges made after the token expired */
};

/* splitmix64: small, seeded, and the same on every machine. */
static uint32_t
random32(struct fleet *f)
{
	uint64_t z = (f->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (uint32_t)((z ^ (z >> 31)) >> 32);
}

static bool
earlier(const struct fleet *f, uint32_t a, uint32_t b)
{
	return f->s[f->heap[a]].due < f->s[f->heap[b]].due;
}

static void
swap(struct fleet *f, uint32_t a, uint32_t b)
{
	uint32_t t = f->heap[a];

	f->heap[a] = f->heap[b];
	f->heap[b] = t;
}

/* The root's due time grew: move it down to its place. */
static void
sift_down(struct fleet *f)
{
	uint32_t i = 0, c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= FLEET)
			return;
		if (c + 1 < FLEET && earlier(f, c + 1, c))
			c++;
		if (!earlier(f, c, i))
			return;
		swap(f, i, c);
		i = c;
	}
}

static int
by_due(const void *a, const void *b, void *arg)
{
	const struct fleet *f = arg;
	uint64_t x = f->s[*(const uint32_t *)a].due;
	uint64_t y = f->s[*(const uint32_t *)b].due;

	return x < y ? -1 : x > y;
}

/* Every sidecar starts within the same second; a sorted array is a heap. */
static void
start(struct fleet *f)
{
	uint32_t i;

	memset(f, 0, sizeof *f);
	f->rng = SEED;
	for (i = 0; i < FLEET; i++) {
		f->s[i].due = random32(f) % 1000;
		f->heap[i] = i;
	}
	qsort_r(f->heap, FLEET, sizeof f->heap[0], by_due, f);
}

/*
 * The reference no schedule can beat: a sidecar that knew when the outage
 * ends, retrying once at a uniform point between then and its token's
 * expiry (never failing again, never letting the token lapse).
 */
static uint64_t
oracle_retry(struct fleet *f, const struct scenario *sc, uint64_t now,
    uint64_t remaining)
{
	uint64_t wait = sc->outage_to - now;

	if (remaining <= wait)
		return wait;
	return wait +
	    (uint64_t)(((unsigned __int128)(remaining - wait) * random32(f)) >>
	        32);
}

/* One exchange at s->due, and the next due time, as refresh.c sets it. */
static void
exchange(struct fleet *f, struct sidecar *s, const struct scenario *sc,
    struct figures *fig)
{
	uint64_t now = s->due, remaining = 0, delay;
	bool first = !s->has_token;

	if (s->has_token && s->expiry <= now)
		fig->lapsed++;
	if (now >= sc->outage_from && now < sc->outage_to) {
		fig->failed++;
		if (s->attempt < UINT32_MAX)
			s->attempt++;
		if (s->has_token && s->expiry > now)
			remaining = s->expiry - now;
		delay = sc->oracle ?
		    oracle_retry(f, sc, now, remaining) :
		    schedule_after_failure(s->attempt, RETRY_AFTER_MS,
		        s->has_token, remaining, INTERVAL_MS, random32(f));
	} else {
		s->attempt = 0;
		s->has_token = true;
		s->expiry = now + LIFETIME_MS;
		delay = schedule_after_success(first, true, LIFETIME_MS,
		    INTERVAL_MS, random32(f));
	}
	s->due = now + delay;
}

static double
peak(const uint32_t *count, uint32_t window)
{
	uint32_t i, sum = 0, best = 0;

	for (i = SKIP_S; i < HORIZON_S; i++) {
		sum += count[i];
		if (i >= SKIP_S + window)
			sum -= count[i - window];
		if (i + 1 >= SKIP_S + window && sum > best)
			best = sum;
	}
	return (double)best / window;
}

static void
simulate(struct fleet *f, const struct scenario *sc, struct figures *fig)
{
	struct sidecar *s;
	uint64_t total = 0;
	uint32_t i;

	memset(fig, 0, sizeof *fig);
	start(f);
	while ((s = &f->s[f->heap[0]])->due < HORIZON_S * 1000ull) {
		f->count[s->due / 1000]++;
		exchange(f, s, sc, fig);
		sift_down(f);
	}
	for (i = SKIP_S; i < HORIZON_S; i++)
		total += f->count[i];
	fig->mean = (double)total / (HORIZON_S - SKIP_S);
	fig->peak1 = peak(f->count, 1);
	fig->peak10 = peak(f->count, 10);
	fig->peak60 = peak(f->count, 60);
}

int
main(void)
{
	static const struct scenario scenarios[] = {
		{ "normal", 0, 0, false },
		{ "outage at 0:30", 1800000, 1800000 + OUTAGE_MS, false },
		{ "outage at 0:50", 3000000, 3000000 + OUTAGE_MS, false },
		{ "outage at 2:00", 7200000, 7200000 + OUTAGE_MS, false },
		{ "outage at 4:30", 16200000, 16200000 + OUTAGE_MS, false },
		{ "outage at 0:30, oracle", 1800000, 1800000 + OUTAGE_MS,
		    true },
		{ "outage at 0:50, oracle", 3000000, 3000000 + OUTAGE_MS,
		    true },
		{ "outage at 2:00, oracle", 7200000, 7200000 + OUTAGE_MS,
		    true },
		{ "outage at 4:30, oracle", 16200000, 16200000 + OUTAGE_MS,
		    true },
	};
	static struct fleet f;
	struct figures fig;
	double limit;
	size_t i;
	int failed = 0;

	printf("fleet: %d sidecars started in one second, 1 h tokens, "
	       "REFRESH_INTERVAL=1h;\n10-minute outages answer 503 with "
	       "Retry-After: 60. Requests per second\nat the token service, "
	       "%d s to 6 h (the first %d s hold the %d first exchanges).\n\n",
	    FLEET, SKIP_S, SKIP_S, FLEET);
	printf("| scenario | mean | peak 1 s | peak 10 s | peak 60 s | "
	       "peak 60 s / mean | answered 503 | lapsed tokens |\n");
	printf("|---|---|---|---|---|---|---|---|\n");
	for (i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
		simulate(&f, &scenarios[i], &fig);
		limit = scenarios[i].outage_to > 0 ? OUTAGE_LIMIT : TARGET;
		printf("| %s | %.2f | %.0f | %.1f | %.2f | %.2f | %u | %u |\n",
		    scenarios[i].name, fig.mean, fig.peak1, fig.peak10,
		    fig.peak60, fig.peak60 / fig.mean, fig.failed, fig.lapsed);
		if (!scenarios[i].oracle &&
		    (fig.peak60 > limit * fig.mean || fig.lapsed > 0)) {
			fprintf(stderr,
			    "fleet: %s: the busiest minute has "
			    "%.2f requests/s, the limit is %.1fx the mean of "
			    "%.2f; %u exchanges after the token lapsed\n",
			    scenarios[i].name, fig.peak60, limit, fig.mean,
			    fig.lapsed);
			failed = 1;
		}
	}
	return failed;
}
