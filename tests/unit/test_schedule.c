/*
 * test_schedule.c: the refresh schedule and the retry backoff, driven with
 * chosen lifetimes, attempts and random inputs.
 */
#include "unit.h"

#include "schedule.h"

#define S 1000ull
#define HOUR (3600 * S)
#define RND_MIN 0u
#define RND_MAX UINT32_MAX

static void
test_long_lifetime_refreshes_between_65_and_75_percent(void **state)
{
	uint64_t lo = schedule_after_success(false, true, HOUR, 24 * HOUR,
	    RND_MIN);
	uint64_t hi = schedule_after_success(false, true, HOUR, 24 * HOUR,
	    RND_MAX);
	uint64_t mid = schedule_after_success(false, true, HOUR, 24 * HOUR,
	    RND_MAX / 2);

	assert_int_equal(lo, HOUR * 65 / 100);
	assert_true(hi <= HOUR * 3 / 4 && hi > HOUR * 3 / 4 - S);
	assert_true(mid > lo && mid < hi);
}

static void
test_interval_caps_the_lifetime(void **state)
{
	/* A 1h token with REFRESH_INTERVAL=10m: at most 10m, jittered. */
	uint64_t lo = schedule_after_success(false, true, HOUR, 600 * S,
	    RND_MIN);
	uint64_t hi = schedule_after_success(false, true, HOUR, 600 * S,
	    RND_MAX);

	assert_int_equal(lo, 540 * S);
	assert_true(hi <= 600 * S && hi > 599 * S);
}

static void
test_missing_expires_in_uses_the_interval(void **state)
{
	assert_int_equal(schedule_after_success(false, false, 0, HOUR, RND_MIN),
	    HOUR - HOUR / 10);
	assert_true(schedule_after_success(false, false, 0, HOUR, RND_MAX) <=
	    HOUR);
	/* The lifetime argument is ignored without one. */
	assert_int_equal(schedule_after_success(false, false, 5 * S, HOUR,
	                     RND_MIN),
	    HOUR - HOUR / 10);
}

static void
test_short_lifetime_refreshes_at_about_half(void **state)
{
	uint64_t d;
	uint32_t r;

	for (r = 0; r < 10; r++) {
		d = schedule_after_success(false, true, 10 * S, HOUR,
		    r * (RND_MAX / 9));
		assert_true(d >= 4 * S && d <= 5 * S);
	}
}

static void
test_tiny_lifetimes_never_loop_tightly(void **state)
{
	static const uint64_t lifetimes[] = { 0, 1, 999, S, 2 * S };
	size_t i;

	for (i = 0; i < ARRAY_LEN(lifetimes); i++) {
		assert_int_equal(schedule_after_success(false, true,
		                     lifetimes[i], HOUR, RND_MIN),
		    SCHEDULE_MIN_MS);
		assert_int_equal(schedule_after_success(false, true,
		                     lifetimes[i], HOUR, RND_MAX),
		    SCHEDULE_MIN_MS);
	}
	/* A sub-second interval is floored too. */
	assert_int_equal(schedule_after_success(false, false, 0, 500, RND_MAX),
	    SCHEDULE_MIN_MS);
}

static void
test_huge_lifetime_does_not_overflow(void **state)
{
	uint64_t ten_years = 10ull * 365 * 24 * HOUR;

	assert_int_equal(schedule_after_success(false, true, ten_years, HOUR,
	                     RND_MIN),
	    HOUR - HOUR / 10);
	assert_true(schedule_after_success(false, true, UINT64_MAX, UINT64_MAX,
	                RND_MAX) <= UINT64_MAX / 4 * 3);
}

static void
test_backoff_grows_and_caps(void **state)
{
	uint32_t attempt;
	uint64_t ceiling, d;

	for (attempt = 1; attempt < 12; attempt++) {
		ceiling = S << (attempt - 1);
		if (ceiling > SCHEDULE_BACKOFF_CAP_MS)
			ceiling = SCHEDULE_BACKOFF_CAP_MS;
		if (ceiling < SCHEDULE_MIN_MS)
			ceiling = SCHEDULE_MIN_MS;
		d = schedule_after_failure(attempt, 0, false, 0, HOUR, RND_MAX);
		assert_true(d <= ceiling && d + 1 >= ceiling);
		assert_int_equal(schedule_after_failure(attempt, 0, false, 0,
		                     HOUR, RND_MIN),
		    SCHEDULE_MIN_MS);
	}
}

static void
test_backoff_attempt_counter_extremes(void **state)
{
	/* Attempt 0 is treated as the first; huge counts do not shift out. */
	assert_int_equal(schedule_after_failure(0, 0, false, 0, HOUR, RND_MAX),
	    schedule_after_failure(1, 0, false, 0, HOUR, RND_MAX));
	assert_true(schedule_after_failure(UINT32_MAX, 0, false, 0, HOUR,
	                RND_MAX) <= SCHEDULE_BACKOFF_CAP_MS);
	assert_true(schedule_after_failure(64, 0, false, 0, HOUR, RND_MAX) >=
	    SCHEDULE_BACKOFF_CAP_MS - S);
}

static void
test_backoff_is_uniform_jitter(void **state)
{
	uint64_t seen_low = 0, seen_high = 0, d;
	uint32_t r;

	for (r = 0; r < 1000; r++) {
		d = schedule_after_failure(10, 0, false, 0, HOUR,
		    r * (RND_MAX / 999));
		assert_true(d >= SCHEDULE_MIN_MS &&
		    d <= SCHEDULE_BACKOFF_CAP_MS);
		seen_low += d < SCHEDULE_BACKOFF_CAP_MS / 2;
		seen_high += d >= SCHEDULE_BACKOFF_CAP_MS / 2;
	}
	/* Both halves of the range are used, about equally. */
	assert_true(seen_low > 400 && seen_high > 400);
}

static void
test_retry_after_is_a_floor_with_jitter_above(void **state)
{
	uint64_t d, seen_high = 0;
	uint32_t r;

	assert_int_equal(schedule_after_failure(1, 20 * S, false, 0, HOUR,
	                     RND_MIN),
	    20 * S);
	d = schedule_after_failure(1, 20 * S, false, 0, HOUR, RND_MAX);
	assert_true(d <= 30 * S && d > 30 * S - 10);
	/* A fleet told "Retry-After: 30" does not come back in step: never
	 * sooner than 30 s, spread over the 15 s above it. */
	for (r = 0; r < 1000; r++) {
		d = schedule_after_failure(3, 30 * S, false, 0, HOUR,
		    r * (RND_MAX / 999));
		assert_true(d >= 30 * S && d <= 45 * S);
		seen_high += d >= 37500;
	}
	assert_true(seen_high > 400 && seen_high < 600);
	/* Beyond the cap: capped, jitter above the cap. */
	assert_int_equal(schedule_after_failure(1, 24 * HOUR, false, 0, HOUR,
	                     RND_MIN),
	    SCHEDULE_RETRY_AFTER_MAX_MS);
	assert_true(schedule_after_failure(1, 24 * HOUR, false, 0, HOUR,
	                RND_MAX) <= SCHEDULE_RETRY_AFTER_MAX_MS / 2 * 3);
	/* Zero or tiny: floored, never a tight loop. */
	assert_int_equal(schedule_after_failure(1, 1, false, 0, HOUR, RND_MAX),
	    SCHEDULE_MIN_MS);
}

/* While the token is valid, retries spread over its remaining life, from
 * a quarter to three quarters of it, whatever the backoff or Retry-After
 * say. */
static void
test_valid_token_spreads_retries(void **state)
{
	uint64_t left = 20 * 60 * S, d, seen_high = 0;
	uint32_t r;

	assert_int_equal(schedule_after_failure(1, 0, true, left, 24 * HOUR,
	                     RND_MIN),
	    left / 4);
	d = schedule_after_failure(1, 0, true, left, 24 * HOUR, RND_MAX);
	assert_true(d <= left / 4 * 3 && d > left / 4 * 3 - 10);
	assert_int_equal(schedule_after_failure(1, 60 * S, true, left,
	                     24 * HOUR, RND_MIN),
	    left / 4);
	for (r = 0; r < 1000; r++) {
		d = schedule_after_failure(4, 60 * S, true, left, 24 * HOUR,
		    r * (RND_MAX / 999));
		assert_true(d >= left / 4 && d <= left / 4 * 3);
		seen_high += d >= left / 2;
	}
	assert_true(seen_high > 400 && seen_high < 600);
	/* Never past three quarters of it, nor past REFRESH_INTERVAL. */
	assert_int_equal(schedule_after_failure(1, 300 * S, true, 100 * S, HOUR,
	                     RND_MIN),
	    75 * S);
	assert_int_equal(schedule_after_failure(1, 0, true, left, 60 * S,
	                     RND_MAX),
	    60 * S);
}

static void
test_token_life_limits_the_wait(void **state)
{
	/* 10s of validity left: retry within 7.5s whatever the backoff. */
	assert_int_equal(schedule_after_failure(10, 0, true, 10 * S, HOUR,
	                     RND_MAX),
	    7500);
	/* Retry-After beyond the token's life: the token's life wins. */
	assert_int_equal(schedule_after_failure(1, 120 * S, true, 30 * S, HOUR,
	                     RND_MAX),
	    22500);
	/* Expired: the plain backoff, not a retry every second. */
	assert_int_equal(schedule_after_failure(5, 0, true, 0, HOUR, RND_MAX),
	    schedule_after_failure(5, 0, false, 0, HOUR, RND_MAX));
	assert_true(schedule_after_failure(5, 0, true, 0, HOUR, RND_MAX) >
	    15 * S);
}

static void
test_interval_limits_the_backoff(void **state)
{
	assert_int_equal(schedule_after_failure(10, 0, false, 0, 5 * S,
	                     RND_MAX),
	    5 * S);
}

/* The first refresh after start comes anywhere in one whole period, from
 * 5% of the lifetime to the usual 65-75%, weighted as a fleet's steady
 * state would be: evenly up to 65%, thinning out to 75%. */
static void
test_first_refresh_spreads_over_a_period(void **state)
{
	uint64_t d, lo = HOUR / 20, bins[3] = { 0, 0, 0 };
	uint32_t r;

	assert_int_equal(schedule_after_success(true, true, HOUR, 24 * HOUR,
	                     RND_MIN),
	    lo);
	for (r = 0; r < 3000; r++) {
		d = schedule_after_success(true, true, HOUR, 24 * HOUR,
		    r * (RND_MAX / 2999));
		assert_true(d >= lo && d <= HOUR / 4 * 3);
		bins[d < HOUR / 4 ? 0 : d < HOUR * 45 / 100 ? 1 : 2]++;
	}
	/* 5-25%, 25-45%, 45-75% of the hour: 20/65, 20/65 and the rest
	 * (31%, 31%, 38%), within a few percent. */
	assert_true(bins[0] > 840 && bins[0] < 1010);
	assert_true(bins[1] > 840 && bins[1] < 1010);
	assert_true(bins[2] > 1060 && bins[2] < 1240);
	/* Interval only: 5% to 100% of it. */
	assert_int_equal(schedule_after_success(true, false, 0, HOUR, RND_MIN),
	    lo);
	for (r = 0; r < 100; r++) {
		d = schedule_after_success(true, false, 0, HOUR,
		    r * (RND_MAX / 99));
		assert_true(d >= lo && d <= HOUR);
	}
	/* The interval caps a long lifetime: the same spread over it. */
	assert_int_equal(schedule_after_success(true, true, 24 * HOUR, HOUR,
	                     RND_MIN),
	    lo);
	/* Short lifetimes keep their half-life refresh, first or not. */
	for (r = 0; r < 10; r++)
		assert_int_equal(schedule_after_success(true, true, 10 * S,
		                     HOUR, r * (RND_MAX / 9)),
		    schedule_after_success(false, true, 10 * S, HOUR,
		        r * (RND_MAX / 9)));
}

/*
 * The wait decision with injected clocks. A refresh due in 40 minutes
 * (scheduled at boot 1000 s, wall 1.7e9 s); the token expires at 60.
 */
#define BOOT0 (1000 * S)
#define WALL0 (1700000000ll * 1000)
#define DUE (40 * 60 * S)
#define EXPIRY (60 * 60 * S)

static uint64_t
wait_left(int64_t boot_passed, int64_t wall_passed)
{
	return schedule_wait_left(BOOT0 + boot_passed, BOOT0 + DUE,
	    WALL0 + wall_passed, WALL0 + DUE, true, WALL0 + EXPIRY);
}

static void
test_wait_left_both_clocks(void **state)
{
	/* Nothing unusual: both clocks agree. */
	assert_int_equal(wait_left(0, 0), DUE);
	assert_int_equal(wait_left(10 * 60 * S, 10 * 60 * S), 30 * 60 * S);
	assert_int_equal(wait_left(DUE, DUE), 0);
	/* Suspended for an hour: CLOCK_BOOTTIME counts it, due at once. */
	assert_int_equal(wait_left(70 * 60 * S, 70 * 60 * S), 0);
	/* A VM held by its host for 25 minutes: only the wall clock saw it;
	 * the wait shrinks by as much. */
	assert_int_equal(wait_left(5 * 60 * S, 30 * 60 * S), 10 * 60 * S);
	/* Held past the due time: at once. */
	assert_int_equal(wait_left(5 * 60 * S, 45 * 60 * S), 0);
	/* The wall clock set back an hour: the boot clock still decides. */
	assert_int_equal(wait_left(10 * 60 * S, -(int64_t)(50 * 60 * S)),
	    30 * 60 * S);
	/* The token's expiry on the wall clock has passed: at once, even
	 * with the due time far off on both clocks. */
	assert_int_equal(schedule_wait_left(BOOT0, BOOT0 + 2 * HOUR,
	                     WALL0 + EXPIRY, WALL0 + EXPIRY + HOUR, true,
	                     WALL0 + EXPIRY),
	    0);
	/* No known expiry: only the due time counts. */
	assert_int_equal(schedule_wait_left(BOOT0, BOOT0 + 2 * HOUR,
	                     WALL0 + EXPIRY, WALL0 + 2 * HOUR, false, WALL0),
	    HOUR);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    test_long_lifetime_refreshes_between_65_and_75_percent),
		cmocka_unit_test(test_interval_caps_the_lifetime),
		cmocka_unit_test(test_missing_expires_in_uses_the_interval),
		cmocka_unit_test(test_short_lifetime_refreshes_at_about_half),
		cmocka_unit_test(test_tiny_lifetimes_never_loop_tightly),
		cmocka_unit_test(test_huge_lifetime_does_not_overflow),
		cmocka_unit_test(test_backoff_grows_and_caps),
		cmocka_unit_test(test_backoff_attempt_counter_extremes),
		cmocka_unit_test(test_backoff_is_uniform_jitter),
		cmocka_unit_test(test_retry_after_is_a_floor_with_jitter_above),
		cmocka_unit_test(test_valid_token_spreads_retries),
		cmocka_unit_test(test_token_life_limits_the_wait),
		cmocka_unit_test(test_interval_limits_the_backoff),
		cmocka_unit_test(test_first_refresh_spreads_over_a_period),
		cmocka_unit_test(test_wait_left_both_clocks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
