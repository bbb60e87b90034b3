/*
 * test_event.c: the sleep between refreshes on its two timers, against the
 * real clocks (short deadlines), and the signals that end it early.
 */
#include <signal.h>
#include <time.h>

#include "unit.h"

#include "event.h"

#define MS 50

static int
setup(void **state)
{
	struct err err;

	return event_setup(&err);
}

static void
test_boot_deadline_ends_the_sleep(void **state)
{
	struct err err = { 0 };
	int64_t t0 = event_now();

	assert_int_equal(event_sleep(t0 + MS, EVENT_NEVER, &err), 0);
	assert_true(event_now() - t0 >= MS);
	assert_true(event_now() - t0 < 10 * MS);
}

static void
test_wall_deadline_ends_the_sleep(void **state)
{
	struct err err = { 0 };
	int64_t t0 = event_now();

	assert_int_equal(event_sleep(EVENT_NEVER, event_wall_now() + MS, &err),
	    0);
	assert_true(event_now() - t0 >= MS - 1);
	assert_true(event_now() - t0 < 10 * MS);
}

/* A deadline already passed on either clock: no wait at all. */
static void
test_passed_deadline_returns_at_once(void **state)
{
	struct err err = { 0 };
	int64_t t0 = event_now();

	assert_int_equal(event_sleep(EVENT_NEVER, event_wall_now() - 1000,
	                     &err),
	    0);
	assert_int_equal(event_sleep(t0 - 1000, EVENT_NEVER, &err), 0);
	assert_true(event_now() - t0 < MS);
}

/* SIGHUP, held off until the sleep, ends it and is reported once. */
static void
test_reload_signal_ends_the_sleep(void **state)
{
	struct err err = { 0 };
	int64_t t0 = event_now();

	assert_int_equal(raise(SIGHUP), 0);
	assert_int_equal(event_sleep(t0 + 60000, event_wall_now() + 60000,
	                     &err),
	    -1);
	assert_err(&err, ERR_INTERRUPTED, "SIGHUP");
	assert_true(event_now() - t0 < 10 * MS);
	assert_true(event_take_reload());
	assert_false(event_take_reload());
	assert_false(event_stop_requested());
}

/* The clocks: the boot clock is not behind the monotonic one (it counts
 * suspends too), and the wall clock is Unix time in ms. */
static void
test_clocks(void **state)
{
	struct timespec mono;
	int64_t boot = event_now();

	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &mono), 0);
	assert_true(boot + 5 >=
	    (int64_t)mono.tv_sec * 1000 + mono.tv_nsec / 1000000);
	assert_true(event_wall_now() / 1000 - (int64_t)time(NULL) <= 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boot_deadline_ends_the_sleep),
		cmocka_unit_test(test_wall_deadline_ends_the_sleep),
		cmocka_unit_test(test_passed_deadline_returns_at_once),
		cmocka_unit_test(test_reload_signal_ends_the_sleep),
		cmocka_unit_test(test_clocks),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
