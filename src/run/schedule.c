/*
 * schedule.c: when to refresh next.
 */
#include "schedule.h"

/* Uniform in [lo, hi] from a 32-bit random value. */
static uint64_t
between(uint64_t lo, uint64_t hi, uint32_t rnd)
{
	if (hi <= lo)
		return lo;
	return lo + (uint64_t)(((unsigned __int128)(hi - lo) * rnd) >> 32);
}

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t
max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint64_t
at_least_min(uint64_t ms)
{
	return ms < SCHEDULE_MIN_MS ? SCHEDULE_MIN_MS : ms;
}

/*
 * Uniform in [lo, hi]. For the first refresh after start, where a fleet
 * started in the same second would all be in step, the point the fleet's
 * steady state would give: the usual delay, then a uniform point before it
 * (from half the width of [lo, hi] on, so that no pod refreshes right after
 * its first exchange). Each pod's refreshes are then evenly spread over the
 * period from the first one on, instead of bunched in a window a tenth as
 * wide that only slowly widens.
 */
static uint64_t
spread(uint64_t lo, uint64_t hi, bool first, uint32_t rnd)
{
	uint64_t usual = between(lo, hi, rnd);

	/* A second draw from the same value: an odd multiplier permutes the
	 * 32-bit values, so it is uniform too. */
	return first ? between((hi - lo) / 2, usual, rnd * 2654435761u) : usual;
}

/* The interval, early by up to a tenth of it so that pods spread out. */
static uint64_t
jittered_interval(uint64_t interval_ms, bool first, uint32_t rnd)
{
	return spread(interval_ms - interval_ms / 10, interval_ms, first, rnd);
}

uint64_t
schedule_after_success(bool first, bool has_lifetime, uint64_t lifetime_ms,
    uint64_t interval_ms, uint32_t rnd)
{
	uint64_t target;

	if (!has_lifetime)
		return at_least_min(jittered_interval(interval_ms, first, rnd));
	if (lifetime_ms < SCHEDULE_SHORT_LIFETIME_MS)
		/* Too short for a fixed margin: half, jittered by a tenth. */
		target = between(lifetime_ms / 2 - lifetime_ms / 10,
		    lifetime_ms / 2, rnd);
	else
		/* Between 65% and 75% of the lifetime. */
		target = spread(lifetime_ms / 100 * 65, lifetime_ms / 4 * 3,
		    first, rnd);
	if (target > interval_ms)
		target = jittered_interval(interval_ms, first, rnd);
	return at_least_min(target);
}

uint64_t
schedule_after_failure(uint32_t attempt, uint64_t retry_after_ms,
    bool has_remaining, uint64_t remaining_ms, uint64_t interval_ms,
    uint32_t rnd)
{
	uint64_t ceiling = SCHEDULE_BACKOFF_CAP_MS, delay;
	uint32_t shift = attempt > 0 ? attempt - 1 : 0;

	if (shift < 16)
		ceiling = min_u64(ceiling,
		    (uint64_t)SCHEDULE_BACKOFF_BASE_MS << shift);
	/* Full jitter, from the floor up: spreads a fleet's retries. */
	delay = between(SCHEDULE_MIN_MS, ceiling, rnd);
	if (retry_after_ms > 0) {
		/* A floor, not a target: a fleet told the same number must
		 * not come back in the same second. */
		retry_after_ms = min_u64(retry_after_ms,
		    SCHEDULE_RETRY_AFTER_MAX_MS);
		delay = between(retry_after_ms,
		    retry_after_ms + retry_after_ms / 2, rnd);
	}
	/*
	 * While the token is valid nothing is lost by waiting, and a fleet
	 * that meets an outage multiplies every early retry: between a
	 * quarter and three quarters of what is left, so that each try still
	 * leaves a quarter of it for the next. Once expired there is nothing
	 * left to save: plain backoff.
	 */
	if (has_remaining && remaining_ms > 0)
		delay = min_u64(max_u64(delay,
		                    between(remaining_ms / 4,
		                        remaining_ms / 4 * 3, rnd)),
		    remaining_ms / 4 * 3);
	return at_least_min(min_u64(delay, interval_ms));
}

uint64_t
schedule_wait_left(int64_t now_boot, int64_t due_boot, int64_t now_wall,
    int64_t due_wall, bool has_expiry, int64_t expiry_wall)
{
	int64_t left;

	if (has_expiry && now_wall >= expiry_wall)
		return 0;
	left = due_boot - now_boot;
	if (due_wall - now_wall < left)
		left = due_wall - now_wall;
	return left > 0 ? (uint64_t)left : 0;
}
