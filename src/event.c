/*
 * event.c: the one place the process blocks.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "event.h"

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;
/* The mask ppoll() waits with: the caller's, with our signals unblocked. */
static sigset_t wait_mask;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_requested = 1;
	else
		stop_requested = 1;
}

int
event_setup(struct err *err)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	struct sigaction sa;
	sigset_t block;
	size_t i;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		return err_set(err, ERR_SYSTEM, "ignoring SIGPIPE: %s",
		    strerror(errno));

	sigemptyset(&block);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		sigaddset(&block, sigs[i]);
		sigaddset(&sa.sa_mask, sigs[i]);
	}
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		if (sigaction(sigs[i], &sa, NULL) == -1)
			return err_set(err, ERR_SYSTEM,
			    "installing a handler for signal %d: %s", sigs[i],
			    strerror(errno));
	if (sigprocmask(SIG_BLOCK, &block, &wait_mask) == -1)
		return err_set(err, ERR_SYSTEM, "blocking signals: %s",
		    strerror(errno));
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigdelset(&wait_mask, sigs[i]);
	return 0;
}

static int64_t
clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
event_now(void)
{
	return clock_ms(CLOCK_BOOTTIME);
}

int64_t
event_wall_now(void)
{
	return clock_ms(CLOCK_REALTIME);
}

int64_t
event_deadline(uint64_t ms)
{
	int64_t now = event_now();

	if (ms >= (uint64_t)(EVENT_NEVER - now))
		return EVENT_NEVER;
	return now + (int64_t)ms;
}

int
event_wait(int fd, short events, int64_t deadline, int wake_on_reload,
    struct err *err)
{
	struct pollfd pfd;
	struct timespec ts, *tsp;
	int64_t left;
	int n;

	for (;;) {
		if (stop_requested)
			return err_set(err, ERR_INTERRUPTED,
			    "stopped by a termination signal");
		if (wake_on_reload && reload_requested)
			return err_set(err, ERR_INTERRUPTED, "woken by SIGHUP");
		tsp = NULL;
		if (deadline != EVENT_NEVER) {
			left = deadline - event_now();
			if (left <= 0)
				return 0;
			ts.tv_sec = left / 1000;
			ts.tv_nsec = (left % 1000) * 1000000;
			tsp = &ts;
		}
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		n = ppoll(&pfd, fd >= 0 ? 1 : 0, tsp, &wait_mask);
		if (n > 0)
			return 1;
		if (n == -1 && errno != EINTR)
			return err_set(err, ERR_SYSTEM, "ppoll: %s",
			    strerror(errno));
		/* n == 0 (time) or EINTR (signal): both re-checked above. */
	}
}

/* A timer descriptor that becomes readable at `deadline` (absolute, on
 * clock `id`); never, for EVENT_NEVER. -1 with errno set on failure. */
static int
timer_at(clockid_t id, int64_t deadline, int flags)
{
	struct itimerspec its;
	int fd, saved;

	if ((fd = timerfd_create(id, TFD_CLOEXEC | TFD_NONBLOCK)) == -1)
		return -1;
	if (deadline == EVENT_NEVER)
		return fd;
	memset(&its, 0, sizeof its);
	/* A deadline at or before the epoch would disarm the timer. */
	its.it_value.tv_sec = deadline > 0 ? deadline / 1000 : 0;
	its.it_value.tv_nsec = deadline > 0 ? (deadline % 1000) * 1000000 : 1;
	if (timerfd_settime(fd, TFD_TIMER_ABSTIME | flags, &its, NULL) == 0)
		return fd;
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

int
event_sleep(int64_t deadline, int64_t wall_deadline, struct err *err)
{
	struct pollfd pfd[2];
	int n, rc = 0;

	pfd[0].fd = timer_at(CLOCK_BOOTTIME, deadline, 0);
	pfd[1].fd = pfd[0].fd == -1 ?
	    -1 :
	    timer_at(CLOCK_REALTIME, wall_deadline, TFD_TIMER_CANCEL_ON_SET);
	if (pfd[1].fd == -1) {
		/* No timers (descriptors exhausted): the relative ppoll()
		 * timeout still ends the sleep, late only across a suspend. */
		if (pfd[0].fd != -1)
			close(pfd[0].fd);
		return event_wait(-1, 0, deadline, 1, err) == -1 ? -1 : 0;
	}
	pfd[0].events = pfd[1].events = POLLIN;
	for (;;) {
		if (stop_requested || reload_requested) {
			rc = err_set(err, ERR_INTERRUPTED,
			    stop_requested ? "stopped by a termination signal" :
			                     "woken by SIGHUP");
			break;
		}
		pfd[0].revents = pfd[1].revents = 0;
		n = ppoll(pfd, 2, NULL, &wait_mask);
		if (n > 0)
			break;
		if (n == -1 && errno != EINTR) {
			rc = err_set(err, ERR_SYSTEM, "ppoll: %s",
			    strerror(errno));
			break;
		}
	}
	close(pfd[0].fd);
	close(pfd[1].fd);
	return rc;
}

int
event_stop_requested(void)
{
	return stop_requested;
}

int
event_take_reload(void)
{
	int r = reload_requested;

	reload_requested = 0;
	return r;
}
