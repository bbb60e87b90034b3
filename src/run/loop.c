/*
 * loop.c: run mode's one event loop.
 */
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include "event.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "wipe.h"

/* The poll slots: the two clocks, the resolver's socket (it hangs up
 * when the resolver ends), each job, then the listener. */
enum { SLOT_BOOT, SLOT_WALL, SLOT_RESOLVER, SLOT_JOBS };
#define SLOTS (SLOT_JOBS + CONFIG_TOKENS_MAX + HEALTH_FDS)

/* What the loop keeps between wakeups, per job. */
struct loop_job {
	int64_t at;    /* when it is due even without a ready socket */
	short revents; /* from the last poll */
};

/*
 * Arm the timers for the earliest time of any job and the listener's
 * deadlines, and fill the poll slots. Returns the number used, 0 on error.
 */
static size_t
prepare(struct refresh *r, struct loop_job *lj, size_t n, struct health *h,
    const struct resolver *res, struct event_timers *t, struct pollfd *fds,
    struct err *err)
{
	int64_t until = EVENT_NEVER, wall = EVENT_NEVER, wall_at;
	struct pollfd *p;
	size_t i, used;

	for (i = 0; i < n; i++) {
		p = &fds[SLOT_JOBS + i];
		refresh_want(&r[i], &p->fd, &p->events, &lj[i].at, &wall_at);
		p->revents = 0;
		if (lj[i].at < until)
			until = lj[i].at;
		if (wall_at < wall)
			wall = wall_at;
	}
	used = health_want(h, &fds[SLOT_JOBS + n], &until);
	if (event_timers_arm(t, until, wall, err) == -1)
		return 0;
	event_timers_fds(t, &fds[SLOT_BOOT], &fds[SLOT_WALL]);
	fds[SLOT_RESOLVER].fd = res->fd;
	fds[SLOT_RESOLVER].events = POLLIN;
	fds[SLOT_RESOLVER].revents = 0;
	return SLOT_JOBS + n + used;
}

/*
 * Step every job that is due: idle, a job only compares clocks; in
 * flight, it moves when its socket is ready or its time has come. Then, if an
 * exchange is in flight or ended (its outcome counted, a failure at its start
 * included), clear the stack below: its frames held the tokens, the secret and
 * the keys' work, and this is the shallowest frame below which nothing is live.
 * Idle steps make no system call.
 */
static void
step_jobs(struct refresh *r, const struct loop_job *lj, size_t n)
{
	bool exchanged = false;
	uint64_t before;
	size_t i;

	for (i = 0; i < n; i++) {
		before = r[i].metrics->attempts;
		if (!r[i].busy || lj[i].revents != 0 || event_now() >= lj[i].at)
			refresh_step(&r[i], lj[i].revents);
		if (r[i].busy || r[i].metrics->attempts != before)
			exchanged = true;
	}
	if (exchanged)
		wipe_stack();
}

int
loop_run(struct refresh *r, size_t n, struct health *h, struct resolver *res,
    struct err *err)
{
	struct pollfd fds[SLOTS];
	struct loop_job lj[CONFIG_TOKENS_MAX] = { { 0, 0 } };
	struct event_timers t;
	struct err werr;
	size_t i, used;
	int rc = 0;

	if (n == 0 || n > CONFIG_TOKENS_MAX)
		return err_set(err, ERR_SYSTEM,
		    "the loop runs 1 to %d tokens, not %zu", CONFIG_TOKENS_MAX,
		    n);
	if (event_timers_open(&t, err) == -1)
		return -1;
	while (!event_stop_requested()) {
		if (event_take_reload())
			for (i = 0; i < n; i++)
				refresh_reload(&r[i]);
		step_jobs(r, lj, n);
		for (i = 0; i < n; i++)
			lj[i].revents = 0;
		if ((used = prepare(r, lj, n, h, res, &t, fds, &werr)) == 0 ||
		    event_poll(fds, used, &werr) == -1) {
			/* Never a tight loop, even if ppoll() keeps failing. */
			log_event(LOG_ERROR, "waiting failed", "error",
			    werr.msg, (char *)NULL);
			sleep(1);
			continue;
		}
		event_timers_ack(&t, &fds[SLOT_BOOT], &fds[SLOT_WALL]);
		if (fds[SLOT_RESOLVER].revents != 0 &&
		    !event_stop_requested()) {
			rc = resolver_ended(res, err);
			break;
		}
		for (i = 0; i < n; i++)
			lj[i].revents = fds[SLOT_JOBS + i].revents;
		health_step(h, &fds[SLOT_JOBS + n], used - SLOT_JOBS - n);
	}
	for (i = 0; i < n; i++)
		refresh_stop(&r[i]);
	event_timers_close(&t);
	if (rc == 0)
		log_event(LOG_INFO, "stopping on a termination signal",
		    (char *)NULL);
	return rc;
}
