/*
 * event.h: the one place the process blocks.
 *
 * Termination and reload signals stay blocked except while the process
 * waits in ppoll(), so a signal can never slip in between a check and a
 * wait: whatever the process is doing (sleeping, resolving a name, waiting
 * for a TLS record), it notices SIGTERM within one wait. Time is
 * CLOCK_BOOTTIME in milliseconds: unlike CLOCK_MONOTONIC it goes on while
 * the machine is suspended, and a token's lifetime does too. The long
 * sleep between refreshes also watches the wall clock (event_sleep()),
 * which catches what no clock of this machine can see, such as a VM held
 * by its host; otherwise the wall clock is used only for certificate
 * validity and log timestamps.
 */
#ifndef TB_EVENT_H
#define TB_EVENT_H

#include <stdint.h>

#include "err.h"

/* Deadline value meaning "no deadline". */
#define EVENT_NEVER INT64_MAX

/*
 * Install handlers for SIGTERM, SIGINT and SIGHUP and block them outside
 * event_wait(). Also ignores SIGPIPE: a peer that closes early is an error
 * value, not a signal. Returns 0, or -1 with err set.
 */
int event_setup(struct err *err);

/* Milliseconds on CLOCK_BOOTTIME. */
int64_t event_now(void);

/* Milliseconds on the wall clock (CLOCK_REALTIME) since the epoch. */
int64_t event_wall_now(void);

/* now + ms, saturating at EVENT_NEVER. */
int64_t event_deadline(uint64_t ms);

/*
 * Wait until fd (or no descriptor, when fd < 0) is ready for `events`
 * (POLLIN, POLLOUT), the deadline passes, or a signal arrives.
 * Returns 1 when ready, 0 when the deadline passed, and -1 with err set:
 * ERR_INTERRUPTED when termination was requested, ERR_SYSTEM otherwise.
 * A SIGHUP ends the wait too (returns -1, ERR_INTERRUPTED) only when
 * `wake_on_reload` is non-zero.
 */
int event_wait(int fd, short events, int64_t deadline, int wake_on_reload,
    struct err *err);

/*
 * Sleep until `deadline` (event_now() time) or `wall_deadline`
 * (event_wall_now() time) passes, whichever comes first, or until the
 * wall clock is set (a step that may have moved wall_deadline nearer or
 * further: the caller decides again), or a signal arrives. Either deadline
 * may be EVENT_NEVER. Both are timers in the kernel, so the process makes
 * no system call while it sleeps, and a deadline that passed during a
 * suspend ends the sleep on resume. Returns 0 when the sleep ended by
 * time, or -1 with err set: ERR_INTERRUPTED on a termination signal or
 * SIGHUP, ERR_SYSTEM otherwise.
 */
int event_sleep(int64_t deadline, int64_t wall_deadline, struct err *err);

/* Non-zero once SIGTERM or SIGINT has arrived. */
int event_stop_requested(void);

/* Non-zero once if SIGHUP arrived since the last call (and clears it). */
int event_take_reload(void);

#endif
