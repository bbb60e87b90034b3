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
	uint64_t lo = schedule_after_success(true, HOUR, 24 * HOUR, RND_MIN);
	uint64_t hi = schedule_after_success(true, HOUR, 24 * HOUR, RND_MAX);
	uint64_t mid = schedule_after_success(true, HOUR, 24 * HOUR,
	    RND_MAX / 2);

	assert_int_equal(lo, HOUR * 65 / 100);
	assert_true(hi <= HOUR * 3 / 4 && hi > HOUR * 3 / 4 - S);
	assert_true(mid > lo && mid < hi);
}

static void
test_interval_caps_the_lifetime(void **state)
{
	/* A 1h token with REFRESH_INTERVAL=10m: at most 10m, jittered. */
	uint64_t lo = schedule_after_success(true, HOUR, 600 * S, RND_MIN);
	uint64_t hi = schedule_after_success(true, HOUR, 600 * S, RND_MAX);

	assert_int_equal(lo, 540 * S);
	assert_true(hi <= 600 * S && hi > 599 * S);
}

static void
test_missing_expires_in_uses_the_interval(void **state)
{
	assert_int_equal(schedule_after_success(false, 0, HOUR, RND_MIN),
	    HOUR - HOUR / 10);
	assert_true(schedule_after_success(false, 0, HOUR, RND_MAX) <= HOUR);
	/* The lifetime argument is ignored without one. */
	assert_int_equal(schedule_after_success(false, 5 * S, HOUR, RND_MIN),
	    HOUR - HOUR / 10);
}

static void
test_short_lifetime_refreshes_at_about_half(void **state)
{
	uint64_t d;
	uint32_t r;

	for (r = 0; r < 10; r++) {
		d = schedule_after_success(true, 10 * S, HOUR,
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
		assert_int_equal(schedule_after_success(true, lifetimes[i],
		                     HOUR, RND_MIN),
		    SCHEDULE_MIN_MS);
		assert_int_equal(schedule_after_success(true, lifetimes[i],
		                     HOUR, RND_MAX),
		    SCHEDULE_MIN_MS);
	}
	/* A sub-second interval is floored too. */
	assert_int_equal(schedule_after_success(false, 0, 500, RND_MAX),
	    SCHEDULE_MIN_MS);
}

static void
test_huge_lifetime_does_not_overflow(void **state)
{
	uint64_t ten_years = 10ull * 365 * 24 * HOUR;

	assert_int_equal(schedule_after_success(true, ten_years, HOUR, RND_MIN),
	    HOUR - HOUR / 10);
	assert_true(schedule_after_success(true, UINT64_MAX, UINT64_MAX,
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
test_retry_after_is_honoured_within_bounds(void **state)
{
	assert_int_equal(schedule_after_failure(1, 20 * S, false, 0, HOUR,
	                     RND_MAX),
	    20 * S);
	/* Beyond the cap: capped. */
	assert_int_equal(schedule_after_failure(1, 24 * HOUR, false, 0, HOUR,
	                     RND_MAX),
	    SCHEDULE_RETRY_AFTER_MAX_MS);
	/* Zero or tiny: floored, never a tight loop. */
	assert_int_equal(schedule_after_failure(1, 1, false, 0, HOUR, RND_MAX),
	    SCHEDULE_MIN_MS);
}

static void
test_token_life_limits_the_wait(void **state)
{
	/* 10s of validity left: retry within 5s whatever the backoff. */
	assert_int_equal(schedule_after_failure(10, 0, true, 10 * S, HOUR,
	                     RND_MAX),
	    5 * S);
	/* Retry-After beyond the token's life: the token's life wins. */
	assert_int_equal(schedule_after_failure(1, 120 * S, true, 30 * S, HOUR,
	                     RND_MAX),
	    15 * S);
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
		cmocka_unit_test(test_retry_after_is_honoured_within_bounds),
		cmocka_unit_test(test_token_life_limits_the_wait),
		cmocka_unit_test(test_interval_limits_the_backoff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
