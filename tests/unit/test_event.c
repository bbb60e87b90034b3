/*
 * test_event.c: the loop's two timers, against the
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

/* Wait on the two timers alone, as the loop does while idle. */
static int
wait_timers(struct event_timers *t, int64_t at, int64_t wall_at,
    struct err *err)
{
	struct pollfd fds[2];
	int n;

	if (event_timers_arm(t, at, wall_at, err) == -1)
		return -1;
	event_timers_fds(t, &fds[0], &fds[1]);
	n = event_poll(fds, 2, err);
	event_timers_ack(t, &fds[0], &fds[1]);
	return n;
}

static void
test_boot_deadline_ends_the_wait(void **state)
{
	struct event_timers t;
	struct err err = { 0 };
	int64_t t0 = event_now();

	assert_int_equal(event_timers_open(&t, &err), 0);
	assert_int_equal(wait_timers(&t, t0 + MS, EVENT_NEVER, &err), 1);
	assert_true(event_now() - t0 >= MS);
	assert_true(event_now() - t0 < 10 * MS);
	event_timers_close(&t);
}

static void
test_wall_deadline_ends_the_wait(void **state)
{
	struct event_timers t;
	struct err err = { 0 };
	int64_t t0 = event_now();

	assert_int_equal(event_timers_open(&t, &err), 0);
	assert_int_equal(wait_timers(&t, EVENT_NEVER, event_wall_now() + MS,
	                     &err),
	    1);
	assert_true(event_now() - t0 >= MS - 1);
	assert_true(event_now() - t0 < 10 * MS);
	event_timers_close(&t);
}

/* A deadline already passed on either clock: no wait at all; a fired
 * timer is armed anew for the next deadline, not left readable. */
static void
test_passed_deadline_returns_at_once(void **state)
{
	struct event_timers t;
	struct err err = { 0 };
	int64_t t0 = event_now();

	assert_int_equal(event_timers_open(&t, &err), 0);
	assert_int_equal(wait_timers(&t, EVENT_NEVER, event_wall_now() - 1000,
	                     &err),
	    1);
	assert_int_equal(wait_timers(&t, t0 - 1000, EVENT_NEVER, &err), 1);
	assert_true(event_now() - t0 < MS);
	assert_int_equal(wait_timers(&t, event_now() + MS, EVENT_NEVER, &err),
	    1);
	assert_true(event_now() - t0 >= MS);
	event_timers_close(&t);
}

/* SIGHUP, held off until the wait, ends it and is reported once. */
static void
test_reload_signal_ends_the_wait(void **state)
{
	struct event_timers t;
	struct err err = { 0 };
	int64_t t0 = event_now();

	assert_int_equal(event_timers_open(&t, &err), 0);
	assert_int_equal(raise(SIGHUP), 0);
	assert_int_equal(wait_timers(&t, t0 + 60000, event_wall_now() + 60000,
	                     &err),
	    0);
	assert_true(event_now() - t0 < 10 * MS);
	assert_true(event_take_reload());
	assert_false(event_take_reload());
	assert_false(event_stop_requested());
	event_timers_close(&t);
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
		cmocka_unit_test(test_boot_deadline_ends_the_wait),
		cmocka_unit_test(test_wall_deadline_ends_the_wait),
		cmocka_unit_test(test_passed_deadline_returns_at_once),
		cmocka_unit_test(test_reload_signal_ends_the_wait),
		cmocka_unit_test(test_clocks),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
