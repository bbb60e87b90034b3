/*
 * schedule.h: when to refresh next. Pure functions of their arguments
 * (time, lifetimes, attempt count, a random number), so that every edge is
 * tested without a clock.
 *
 * After a success the token is replaced at about two thirds to three
 * quarters of its lifetime, early by a random jitter so that pods started
 * together spread out, and never later than REFRESH_INTERVAL. After a
 * failure the retry follows exponential backoff with full jitter, without a
 * limit on attempts, and never so late that the current token lapses first
 * when there is still time to try.
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
 * Delay in ms from a successful exchange to the next one. `lifetime_ms` is
 * the token's expires_in (ignored when !has_lifetime), `interval_ms` is
 * REFRESH_INTERVAL, `rnd` a uniformly random 32-bit value.
 */
uint64_t schedule_after_success(bool has_lifetime, uint64_t lifetime_ms,
    uint64_t interval_ms, uint32_t rnd);

/*
 * Delay in ms before retry number `attempt` (1 for the first retry).
 * `retry_after_ms` is the server's Retry-After (0 when none); when
 * `has_remaining`, `remaining_ms` is how long the current token stays valid
 * (0 once expired): while it is valid, the retry comes no later than half of
 * it, so that several tries fit before the token lapses; once expired, the
 * plain backoff applies.
 */
uint64_t schedule_after_failure(uint32_t attempt, uint64_t retry_after_ms,
    bool has_remaining, uint64_t remaining_ms, uint64_t interval_ms,
    uint32_t rnd);

#endif
