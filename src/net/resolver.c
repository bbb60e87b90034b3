/*
 * resolver.c: name lookups in a process that never held a secret.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fmt.h"
#include "resolver.h"
#include "url.h"

/* Lookups at once: one per token's dial (at most eight) and room for the
 * workers of abandoned lookups still being killed. */
#define WORKERS_MAX 16

/* How long stop() waits for the resolver to reap its workers and exit. */
#define STOP_WAIT_MS 1000

/* Past the sidecar's highest descriptor, for the fallback of keep_only(). */
#define DESCRIPTORS_MAX 1024

/* One request: a name and a port; the answer pipe rides along. */
struct request {
	uint16_t port;
	char host[URL_HOST_MAX];
};

/* A worker, and the resolver's copy of its pipe's writing end: it reports
 * POLLERR once the sidecar has closed the reading end (abandoned). */
struct worker {
	pid_t pid;
	int fd; /* -1 once abandoned and killed */
};

struct resolver_state {
	pid_t self;
	int sock;
	int sigfd;
	size_t n;
	struct worker w[WORKERS_MAX];
};

/*
 * The worker's lookup. No freeaddrinfo(): the worker writes the answer
 * and _exit()s at once, so the list dies with the process, and the binary
 * need not carry the allocator's free() for it.
 */
static void
lookup(const char *host, uint16_t port, struct net_answer *a)
{
	struct addrinfo hints, *res, *ai;
	char service[6];

	memset(a, 0, sizeof *a);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	(void)fmt_snprintf(service, sizeof service, "%u", (unsigned)port);
	a->gai_error = getaddrinfo(host, service, &hints, &res);
	if (a->gai_error != 0) {
		a->sys_errno = errno;
		return;
	}
	for (ai = res; ai != NULL && a->count < NET_ADDRS_MAX;
	     ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof a->addr[0])
			continue;
		memcpy(&a->addr[a->count], ai->ai_addr, ai->ai_addrlen);
		a->len[a->count++] = ai->ai_addrlen;
	}
}

int
resolver_literal(const char *host, uint16_t port, struct net_answer *a)
{
	struct sockaddr_in *in = (struct sockaddr_in *)&a->addr[0];
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->addr[0];

	memset(a, 0, sizeof *a);
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		a->len[0] = sizeof *in;
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		a->len[0] = sizeof *in6;
	} else {
		return 0;
	}
	a->count = 1;
	return 1;
}

/*
 * Keep only `fd` (moved to descriptor 3) and stderr, where a sanitizer's
 * report would go: nothing of the sidecar's (listener, token directory,
 * timers, clients) may stay open in a process that outlives a wait.
 * Returns the descriptor, now 3.
 */
static int
keep_only(int fd)
{
	if (fd != 3) {
		if (dup2(fd, 3) == -1)
			_exit(1);
		(void)close(fd);
	}
	(void)close(0);
	(void)close(1);
	/* Before Linux 5.9 there is no close_range: one by one. */
	if (syscall(SYS_close_range, 4u, ~0u, 0u) == -1)
		for (fd = 4; fd < DESCRIPTORS_MAX; fd++)
			(void)close(fd);
	return 3;
}

/* Die with `parent`, even if it died already. */
static void
die_with(pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1 ||
	    getppid() != parent)
		_exit(0);
}

/*
 * The environment came before the fork (a proxy URL may carry a
 * password): wipe every value but those the C library's resolver reads.
 */
static void
wipe_environment(void)
{
	static const char *const keep[] = { "LOCALDOMAIN=", "RES_OPTIONS=",
		"HOSTALIASES=" };
	extern char **environ;
	char **e, *eq;
	size_t i;

	for (e = environ; e != NULL && *e != NULL; e++) {
		for (i = 0; i < sizeof keep / sizeof keep[0]; i++)
			if (strncmp(*e, keep[i], strlen(keep[i])) == 0)
				break;
		if (i < sizeof keep / sizeof keep[0])
			continue;
		if ((eq = strchr(*e, '=')) != NULL)
			explicit_bzero(eq + 1, strlen(eq + 1));
	}
}

/* An answer the resolver writes itself: no worker could be started. */
static void
answer_failure(int fd, int why)
{
	struct net_answer a;

	memset(&a, 0, sizeof a);
	a.gai_error = EAI_SYSTEM;
	a.sys_errno = why;
	(void)write(fd, &a, sizeof a);
}

static void __attribute__((noreturn))
work(const struct request *q, int fd, pid_t resolver)
{
	struct net_answer a;

	die_with(resolver);
	fd = keep_only(fd);
	lookup(q->host, q->port, &a);
	_exit(write(fd, &a, sizeof a) == (ssize_t)sizeof a ? 0 : 1);
}

/* Receive one request and its pipe; -1 when the sidecar hung up. */
static int
receive(int sock, struct request *q, int *fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { q, sizeof *q };
	struct msghdr msg;
	struct cmsghdr *c;
	ssize_t n;

	memset(&msg, 0, sizeof msg);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof ctl.buf;
	*fd = -1;
	while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) == -1 &&
	    errno == EINTR)
		;
	if (n <= 0)
		return -1;
	c = CMSG_FIRSTHDR(&msg);
	if (c != NULL && c->cmsg_level == SOL_SOCKET &&
	    c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(fd, CMSG_DATA(c), sizeof(int));
	if (*fd != -1 &&
	    ((size_t)n != sizeof *q || (msg.msg_flags & MSG_CTRUNC) ||
	        memchr(q->host, '\0', sizeof q->host) == NULL)) {
		(void)close(*fd);
		*fd = -1;
	}
	return 0;
}

/*
 * The sidecar closed the socket (stopping, or no name to resolve): the
 * workers are killed and reaped before the resolver exits, so that the
 * sidecar, which waits for the resolver, leaves no process behind.
 */
static void __attribute__((noreturn)) quit(const struct resolver_state *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		(void)kill(s->w[i].pid, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	_exit(0);
}

/* One request: a worker for it, or a failure answer at once. */
static void
serve(struct resolver_state *s)
{
	struct request q;
	pid_t pid;
	int fd;

	memset(&q, 0, sizeof q);
	if (receive(s->sock, &q, &fd) == -1)
		quit(s);
	if (fd == -1)
		return;
	if (s->n == WORKERS_MAX) {
		answer_failure(fd, EAGAIN);
		(void)close(fd);
		return;
	}
	if ((pid = fork()) == 0)
		work(&q, fd, s->self);
	if (pid == -1) {
		answer_failure(fd, errno);
		(void)close(fd);
		return;
	}
	s->w[s->n].pid = pid;
	s->w[s->n++].fd = fd;
}

/* Reap every worker that ended, and forget it. */
static void
reap(struct resolver_state *s)
{
	struct signalfd_siginfo si;
	pid_t pid;
	size_t i;

	while (read(s->sigfd, &si, sizeof si) > 0)
		;
	while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
		for (i = 0; i < s->n; i++)
			if (s->w[i].pid == pid) {
				if (s->w[i].fd != -1)
					(void)close(s->w[i].fd);
				s->w[i] = s->w[--s->n];
				break;
			}
}

/* The sidecar closed a worker's pipe: the lookup was abandoned. */
static void
abandon(struct worker *w)
{
	(void)kill(w->pid, SIGKILL);
	(void)close(w->fd);
	w->fd = -1;
}

static void __attribute__((noreturn)) resolve(int sock, pid_t parent)
{
	struct pollfd fds[2 + WORKERS_MAX];
	struct resolver_state s;
	sigset_t chld;
	size_t i;

	die_with(parent);
	/* Signals for the sidecar (a terminal's ^C reaches the group): the
	 * resolver ends with it, never before. */
	(void)signal(SIGINT, SIG_IGN);
	(void)signal(SIGTERM, SIG_IGN);
	(void)signal(SIGHUP, SIG_IGN);
	/* A write to an abandoned pipe is an error value, not a death. */
	(void)signal(SIGPIPE, SIG_IGN);
	wipe_environment();
	memset(&s, 0, sizeof s);
	s.self = getpid();
	s.sock = keep_only(sock);
	(void)sigemptyset(&chld);
	(void)sigaddset(&chld, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &chld, NULL) == -1 ||
	    (s.sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK)) == -1)
		_exit(1);
	for (;;) {
		fds[0].fd = s.sock;
		fds[0].events = POLLIN;
		fds[1].fd = s.sigfd;
		fds[1].events = POLLIN;
		for (i = 0; i < s.n; i++) {
			fds[2 + i].fd = s.w[i].fd;
			fds[2 + i].events = 0;
		}
		if (poll(fds, 2 + s.n, -1) == -1) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		for (i = 0; i < s.n; i++)
			if (s.w[i].fd != -1 && fds[2 + i].revents != 0)
				abandon(&s.w[i]);
		if (fds[1].revents != 0)
			reap(&s);
		if (fds[0].revents != 0)
			serve(&s);
	}
}

int
resolver_start(struct resolver *r, struct err *err)
{
	pid_t parent = getpid();
	int sv[2];

	r->pid = -1;
	r->fd = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return err_set(err, ERR_SYSTEM,
		    "creating the resolver's socket: %s", strerror(errno));
	if ((r->pid = fork()) == -1) {
		(void)close(sv[0]);
		(void)close(sv[1]);
		return err_set(err, ERR_SYSTEM,
		    "starting the resolver process: %s (is the pids limit "
		    "too tight?)",
		    strerror(errno));
	}
	if (r->pid == 0) {
		(void)close(sv[0]);
		resolve(sv[1], parent);
	}
	(void)close(sv[1]);
	r->fd = sv[0];
	return 0;
}

int
resolver_ask(const struct resolver *r, const char *host, uint16_t port,
    int *answer_fd, struct err *err)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct request q;
	struct iovec iov = { &q, sizeof q };
	struct msghdr msg;
	struct cmsghdr *c;
	size_t len = strlen(host);
	int p[2], e;

	*answer_fd = -1;
	if (r->fd == -1)
		return err_set(err, ERR_DNS,
		    "resolving %s: no resolver process (it could not be "
		    "started)",
		    host);
	if (len >= sizeof q.host)
		return err_set(err, ERR_DNS,
		    "resolving %s: the name is too long", host);
	memset(&q, 0, sizeof q);
	memcpy(q.host, host, len);
	q.port = port;
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == -1)
		return err_set(err, ERR_SYSTEM, "creating a pipe: %s",
		    strerror(errno));
	memset(&msg, 0, sizeof msg);
	memset(&ctl, 0, sizeof ctl);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof ctl.buf;
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &p[1], sizeof(int));
	while (sendmsg(r->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) == -1) {
		if (errno == EINTR)
			continue;
		e = errno;
		(void)close(p[0]);
		(void)close(p[1]);
		return err_set(err, ERR_DNS,
		    "resolving %s: the resolver process (pid %d) takes no "
		    "request: %s",
		    host, (int)r->pid, strerror(e));
	}
	(void)close(p[1]);
	*answer_fd = p[0];
	return 0;
}

/*
 * Close the socket and reap the resolver, which then reaps its workers
 * and exits (quit()); one that has not within STOP_WAIT_MS (stopped, or
 * starved of CPU) is killed. *status: how it ended.
 */
static void
stop(struct resolver *r, int *status)
{
	static const struct timespec tick = { 0, 1000000 };
	pid_t got = 0;
	int waited;

	*status = 0;
	if (r->fd != -1)
		(void)close(r->fd);
	r->fd = -1;
	if (r->pid <= 0)
		return;
	for (waited = 0; waited < STOP_WAIT_MS && got == 0; waited++) {
		if ((got = waitpid(r->pid, status, WNOHANG)) == 0)
			(void)nanosleep(&tick, NULL);
		else if (got == -1 && errno == EINTR)
			got = 0;
	}
	if (got == 0) {
		(void)kill(r->pid, SIGKILL);
		while (waitpid(r->pid, status, 0) == -1 && errno == EINTR)
			;
	}
	r->pid = -1;
}

int
resolver_ended(struct resolver *r, struct err *err)
{
	pid_t pid = r->pid;
	int status;

	stop(r, &status);
	if (WIFSIGNALED(status))
		return err_set(err, ERR_SYSTEM,
		    "the resolver process (pid %d) was killed by signal %d: "
		    "no name can be resolved without it, and one forked now "
		    "would copy the secrets this process holds; exiting so "
		    "that the container is restarted",
		    (int)pid, WTERMSIG(status));
	return err_set(err, ERR_SYSTEM,
	    "the resolver process (pid %d) exited with status %d: no name "
	    "can be resolved without it, and one forked now would copy the "
	    "secrets this process holds; exiting so that the container is "
	    "restarted",
	    (int)pid, WEXITSTATUS(status));
}

void
resolver_stop(struct resolver *r)
{
	int status;

	stop(r, &status);
}
