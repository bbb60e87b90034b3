/*
 * schedule.h: when to refresh next. Pure functions of their arguments
 * (time, lifetimes, attempt count, a random number), so that every edge is
 * tested without a clock.
 *
 * After a success the token is replaced at about two thirds to three
 * quarters of its lifetime, early by a random jitter so that pods started
 * together spread out, and never later than REFRESH_INTERVAL; the first
 * refresh after start comes anywhere from 5% of the lifetime on, as a
 * fleet's steady state would place it, so that a fleet started in the
 * same second never refreshes in step. After a failure the retry follows
 * exponential backoff with full jitter, without a limit on attempts, and
 * never so late that the current token lapses first when there is still
 * time to try; while the current token is valid there is no hurry, and
 * retries spread over its remaining life. A server's Retry-After is a
 * floor, with jitter above it. tests/fleet/fleet.c shows what this does
 * to the token service under a fleet of 10 000.
 */
#ifndef TB_SCHEDULE_H
#define TB_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>

#define SCHEDULE_MIN_MS 1000u             /* no delay is shorter */
#define SCHEDULE_SHORT_LIFETIME_MS 60000u /* below: refresh at half */
#define SCHEDULE_BACKOFF_BASE_MS 1000u
#define SCHEDULE_BACKOFF_CAP_MS 30000u
#define SCHEDULE_RETRY_AFTER_MAX_MS 300000u /* a server's Retry-After cap */

/*
 * Delay in ms from a successful exchange to the next one. `first` is true
 * after the process's first successful exchange: the delay is then drawn
 * from the whole period (from 5% of it on) instead of its last tenth or
 * so; lifetimes under a minute are not spread. `lifetime_ms` is the
 * token's expires_in (ignored when !has_lifetime), `interval_ms` is
 * REFRESH_INTERVAL, `rnd` a uniformly random 32-bit value.
 */
uint64_t schedule_after_success(bool first, bool has_lifetime,
    uint64_t lifetime_ms, uint64_t interval_ms, uint32_t rnd);

/*
 * Delay in ms before retry number `attempt` (1 for the first retry).
 * `retry_after_ms` is the server's Retry-After (0 when none): the retry
 * comes between it and half as long again, never sooner. When
 * `has_remaining`, `remaining_ms` is how long the current token stays
 * valid (0 once expired): while it is valid, the retry comes between a
 * quarter and three quarters of it, Retry-After or not (a fleet that meets
 * an outage does not pile on the service, and every try leaves a quarter
 * of the validity for the next); once expired, the plain backoff applies.
 */
uint64_t schedule_after_failure(uint32_t attempt, uint64_t retry_after_ms,
    bool has_remaining, uint64_t remaining_ms, uint64_t interval_ms,
    uint32_t rnd);

/*
 * How many ms are left to wait for a refresh due at `due_boot` on the boot
 * clock (event_now()) and at `due_wall` on the wall clock (the same moment
 * as the wall clock saw it when the wait was scheduled), at `now_boot` and
 * `now_wall`. The earlier of the two wins: the boot clock counts a
 * suspend, the wall clock also what the machine cannot see (a VM held by
 * its host); a wall clock set back is outvoted by the boot clock. 0, that
 * is now, when the token's expiry on the wall clock (`expiry_wall`, when
 * `has_expiry`) has passed.
 */
uint64_t schedule_wait_left(int64_t now_boot, int64_t due_boot,
    int64_t now_wall, int64_t due_wall, bool has_expiry, int64_t expiry_wall);

#endif
