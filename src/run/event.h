/*
 * event.h: the one place the process blocks.
 *
 * Termination and reload signals stay blocked except while the process
 * waits in ppoll(), so a signal can never slip in between a check and a
 * wait: whatever the process is doing (sleeping, resolving a name, waiting
 * for a TLS record), it notices SIGTERM within one wait. Time is
 * CLOCK_BOOTTIME in milliseconds: unlike CLOCK_MONOTONIC it goes on while
 * the machine is suspended, and a token's lifetime does too. The long
 * sleep between refreshes also watches the wall clock (event_timers),
 * which catches what no clock of this machine can see, such as a VM held
 * by its host; otherwise the wall clock is used only for certificate
 * validity and log timestamps.
 */
#ifndef TB_EVENT_H
#define TB_EVENT_H

#include <poll.h>
#include <stddef.h>
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
 * The loop's two clocks as timer descriptors, so that a deadline that
 * passed during a suspend ends the wait on resume, and the process makes
 * no system call while it waits: one on CLOCK_BOOTTIME, one on the wall
 * clock that also fires when the wall clock is set (a step that may have
 * moved a wall deadline nearer or further: the caller decides again).
 */
struct event_timers {
	int boot_fd;
	int wall_fd;
	int64_t boot_at; /* armed for, EVENT_NEVER for never, -1 unknown */
	int64_t wall_at;
};

/* Create both timers, disarmed. Returns 0, or -1 with err set. */
int event_timers_open(struct event_timers *t, struct err *err);

/*
 * Fire at `at` (event_now() ms) and at `wall_at` (event_wall_now() ms),
 * either EVENT_NEVER; a system call only for what changed. Returns 0, or
 * -1 with err set.
 */
int event_timers_arm(struct event_timers *t, int64_t at, int64_t wall_at,
    struct err *err);

/* Fill two poll slots with the timers. */
void event_timers_fds(const struct event_timers *t, struct pollfd *boot,
    struct pollfd *wall);

/* After a poll: consume what fired, so that it is armed anew. */
void event_timers_ack(struct event_timers *t, const struct pollfd *boot,
    const struct pollfd *wall);

void event_timers_close(struct event_timers *t);

/*
 * Wait, without a timeout, until one of fds is ready or a signal arrives
 * (the timers carry the deadlines). Returns the number ready, 0 when a
 * signal arrived (or had arrived: see event_stop_requested() and
 * event_take_reload()), or -1 with err set.
 */
int event_poll(struct pollfd *fds, size_t n, struct err *err);

/* Non-zero once SIGTERM or SIGINT has arrived. */
int event_stop_requested(void);

/* Non-zero once if SIGHUP arrived since the last call (and clears it). */
int event_take_reload(void);

#endif
