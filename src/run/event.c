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

/* The signals the process handles; blocked but while it waits. */
static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };

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

/*
 * Take the signals pending while blocked. ppoll() delivers them only when
 * it has to wait: with a descriptor ready every time (a peer that sends
 * without end, a step that yielded) it never does, and SIGTERM would wait
 * for the exchange's deadline.
 */
static void
take_pending(void)
{
	static const struct timespec none = { 0, 0 };
	sigset_t ours;
	size_t i;
	int sig;

	sigemptyset(&ours);
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaddset(&ours, sigs[i]);
	while ((sig = sigtimedwait(&ours, NULL, &none)) > 0)
		on_signal(sig);
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
		take_pending();
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

int
event_timers_open(struct event_timers *t, struct err *err)
{
	t->boot_at = t->wall_at = EVENT_NEVER;
	t->wall_fd = -1;
	t->boot_fd = timerfd_create(CLOCK_BOOTTIME, TFD_CLOEXEC | TFD_NONBLOCK);
	if (t->boot_fd != -1)
		t->wall_fd = timerfd_create(CLOCK_REALTIME,
		    TFD_CLOEXEC | TFD_NONBLOCK);
	if (t->wall_fd != -1)
		return 0;
	event_timers_close(t);
	return err_set(err, ERR_SYSTEM, "creating a timer: %s",
	    strerror(errno));
}

/* Set fd to fire at `at` (absolute ms on its clock; EVENT_NEVER: never). */
static int
arm(int fd, int64_t at, int flags)
{
	struct itimerspec its;

	memset(&its, 0, sizeof its);
	if (at != EVENT_NEVER) {
		/* A deadline at or before the epoch would disarm the timer. */
		its.it_value.tv_sec = at > 0 ? at / 1000 : 0;
		its.it_value.tv_nsec = at > 0 ? (at % 1000) * 1000000 : 1;
		if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
			its.it_value.tv_nsec = 1;
	}
	return timerfd_settime(fd, TFD_TIMER_ABSTIME | flags, &its, NULL);
}

int
event_timers_arm(struct event_timers *t, int64_t at, int64_t wall_at,
    struct err *err)
{
	if (at != t->boot_at) {
		if (arm(t->boot_fd, at, 0) == -1)
			return err_set(err, ERR_SYSTEM, "setting a timer: %s",
			    strerror(errno));
		t->boot_at = at;
	}
	if (wall_at != t->wall_at) {
		if (arm(t->wall_fd, wall_at, TFD_TIMER_CANCEL_ON_SET) == -1)
			return err_set(err, ERR_SYSTEM, "setting a timer: %s",
			    strerror(errno));
		t->wall_at = wall_at;
	}
	return 0;
}

void
event_timers_fds(const struct event_timers *t, struct pollfd *boot,
    struct pollfd *wall)
{
	boot->fd = t->boot_fd;
	wall->fd = t->wall_fd;
	boot->events = wall->events = POLLIN;
	boot->revents = wall->revents = 0;
}

void
event_timers_ack(struct event_timers *t, const struct pollfd *boot,
    const struct pollfd *wall)
{
	uint64_t n;

	/* A fired timer stays readable until read; disarmed, it is set anew
	 * next time. A wall clock set reads as ECANCELED: re-arm it too. */
	if (boot->revents != 0) {
		(void)read(t->boot_fd, &n, sizeof n);
		t->boot_at = -1;
	}
	if (wall->revents != 0) {
		(void)read(t->wall_fd, &n, sizeof n);
		t->wall_at = -1;
	}
}

void
event_timers_close(struct event_timers *t)
{
	if (t->boot_fd != -1)
		close(t->boot_fd);
	if (t->wall_fd != -1)
		close(t->wall_fd);
	t->boot_fd = t->wall_fd = -1;
}

int
event_poll(struct pollfd *fds, size_t n, struct err *err)
{
	int r;

	take_pending();
	if (stop_requested || reload_requested)
		return 0;
	r = ppoll(fds, (nfds_t)n, NULL, &wait_mask);
	if (r >= 0)
		return r;
	if (errno == EINTR)
		return 0;
	return err_set(err, ERR_SYSTEM, "ppoll: %s", strerror(errno));
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
