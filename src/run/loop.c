/*
 * loop.c: run mode's one event loop.
 */
#include <unistd.h>

#include "event.h"
#include "log.h"
#include "loop.h"

enum { SLOT_BOOT, SLOT_WALL, SLOT_JOB, SLOT_HEALTH };
#define SLOTS (SLOT_HEALTH + HEALTH_FDS)

/* Arm the timers for the job's time and the listener's deadlines, and
 * fill the poll slots. Returns the number of slots used. */
static size_t
prepare(struct refresh *r, struct health *h, struct event_timers *t,
    struct pollfd *fds, int64_t *job_at, struct err *err)
{
	int64_t until, wall_at;
	size_t n;

	refresh_want(r, &fds[SLOT_JOB].fd, &fds[SLOT_JOB].events, job_at,
	    &wall_at);
	fds[SLOT_JOB].revents = 0;
	until = *job_at;
	n = health_want(h, &fds[SLOT_HEALTH], &until);
	if (event_timers_arm(t, until, wall_at, err) == -1)
		return 0;
	event_timers_fds(t, &fds[SLOT_BOOT], &fds[SLOT_WALL]);
	return SLOT_HEALTH + n;
}

int
loop_run(struct refresh *r, struct health *h, struct err *err)
{
	struct pollfd fds[SLOTS];
	struct event_timers t;
	struct err werr;
	int64_t job_at = 0;
	size_t n;
	short rev = 0;

	if (event_timers_open(&t, err) == -1)
		return -1;
	while (!event_stop_requested()) {
		if (event_take_reload())
			refresh_reload(r);
		/* Idle, the job only compares clocks; in flight, it moves
		 * when its socket is ready or its time has come. */
		if (!r->busy || rev != 0 || event_now() >= job_at)
			refresh_step(r, rev);
		if ((n = prepare(r, h, &t, fds, &job_at, &werr)) == 0 ||
		    event_poll(fds, n, &werr) == -1) {
			/* Never a tight loop, even if ppoll() keeps failing. */
			log_event(LOG_ERROR, "waiting failed", "error",
			    werr.msg, (char *)NULL);
			sleep(1);
			rev = 0;
			continue;
		}
		event_timers_ack(&t, &fds[SLOT_BOOT], &fds[SLOT_WALL]);
		rev = fds[SLOT_JOB].revents;
		health_step(h, &fds[SLOT_HEALTH], n - SLOT_HEALTH);
	}
	refresh_stop(r);
	event_timers_close(&t);
	log_event(LOG_INFO, "stopping on a termination signal", (char *)NULL);
	return 0;
}
