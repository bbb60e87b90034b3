/*
 * net.c: name resolution and TCP connections under one deadline.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "event.h"
#include "net.h"

#define ADDRS_MAX 16
/* Go's dialer gives each address at least this share of the deadline. */
#define ATTEMPT_MIN_MS 2000

/* What the resolver child sends back: small enough for one atomic write. */
struct answer {
	int gai_error;
	int sys_errno;
	unsigned count;
	socklen_t len[ADDRS_MAX];
	struct sockaddr_storage addr[ADDRS_MAX];
};

static void
lookup(const char *host, uint16_t port, struct answer *a)
{
	struct addrinfo hints, *res, *ai;
	char service[8];

	memset(a, 0, sizeof *a);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	(void)snprintf(service, sizeof service, "%u", (unsigned)port);
	a->gai_error = getaddrinfo(host, service, &hints, &res);
	if (a->gai_error != 0) {
		a->sys_errno = errno;
		return;
	}
	for (ai = res; ai != NULL && a->count < ADDRS_MAX; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof a->addr[0])
			continue;
		memcpy(&a->addr[a->count], ai->ai_addr, ai->ai_addrlen);
		a->len[a->count++] = ai->ai_addrlen;
	}
	freeaddrinfo(res);
}

/* Read the child's answer before the deadline; 0, or -1 with err set. */
static int
await_answer(int fd, struct answer *a, const char *host, int64_t deadline,
    struct err *err)
{
	size_t got = 0;
	ssize_t r;
	int w;

	while (got < sizeof *a) {
		if ((w = event_wait(fd, POLLIN, deadline, 0, err)) == -1)
			return -1;
		if (w == 0)
			return err_set(err, ERR_TIMEOUT,
			    "resolving %s timed out "
			    "(EXCHANGE_TIMEOUT): is the DNS server reachable?",
			    host);
		r = read(fd, (char *)a + got, sizeof *a - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return err_set(err, ERR_DNS,
			    "resolving %s: the "
			    "resolver process ended without an answer",
			    host);
		got += (size_t)r;
	}
	return 0;
}

/*
 * Resolve in a child so that the wait is a poll on a pipe, which the
 * deadline and termination signals can end. Without a child (fork failed,
 * as under a tight pids limit) resolve in place, blocking.
 */
static int
resolve(const char *host, uint16_t port, struct answer *a, int64_t deadline,
    struct err *err)
{
	int p[2], rc;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) == -1)
		return err_set(err, ERR_SYSTEM, "creating a pipe: %s",
		    strerror(errno));
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		lookup(host, port, a);
		return 0;
	}
	if (pid == 0) {
		close(p[0]);
		lookup(host, port, a);
		_exit(write(p[1], a, sizeof *a) == (ssize_t)sizeof *a ? 0 : 1);
	}
	close(p[1]);
	rc = await_answer(p[0], a, host, deadline, err);
	close(p[0]);
	if (rc == -1)
		kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
		;
	return rc;
}

static int
answer_error(const struct answer *a, const char *host, struct err *err)
{
	switch (a->gai_error) {
	case 0:
		break;
	case EAI_NONAME:
#ifdef EAI_NODATA
	case EAI_NODATA:
#endif
		return err_set(err, ERR_DNS,
		    "resolving %s: no such host "
		    "(check EXCHANGE_URL and the pod's DNS)",
		    host);
	case EAI_AGAIN:
		return err_set(err, ERR_DNS,
		    "resolving %s: the DNS server "
		    "did not answer or failed temporarily",
		    host);
	case EAI_SYSTEM:
		return err_set(err, ERR_DNS, "resolving %s: %s", host,
		    strerror(a->sys_errno));
	default:
		return err_set(err, ERR_DNS, "resolving %s: %s", host,
		    gai_strerror(a->gai_error));
	}
	if (a->count == 0)
		return err_set(err, ERR_DNS, "resolving %s: no address", host);
	return 0;
}

static void
format_addr(const struct sockaddr_storage *ss, char *out, size_t cap)
{
	const void *src = ss->ss_family == AF_INET6 ?
	    (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr :
	    (const void *)&((const struct sockaddr_in *)ss)->sin_addr;

	if (inet_ntop(ss->ss_family, src, out, (socklen_t)cap) == NULL)
		(void)snprintf(out, cap, "?");
}

/* Connect to one address before `until`; the socket, or -1 and errno. */
static int
connect_one(const struct sockaddr_storage *ss, socklen_t len, int64_t until,
    struct err *err)
{
	int fd, one = 1, so = 0, w;
	socklen_t solen = sizeof so;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return -1;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == -1)
		goto fail;
	if (connect(fd, (const struct sockaddr *)ss, len) == 0)
		return fd;
	if (errno != EINPROGRESS)
		goto fail;
	if ((w = event_wait(fd, POLLOUT, until, 0, err)) <= 0) {
		close(fd);
		/* ECANCELED: the wait itself failed and said why in err. */
		errno = w == 0 ? ETIMEDOUT : ECANCELED;
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &solen) == -1)
		goto fail;
	if (so == 0)
		return fd;
	errno = so;
fail:
	so = errno;
	close(fd);
	errno = so;
	return -1;
}

int
net_connect(struct net_conn *c, const char *host, uint16_t port,
    int64_t deadline, struct err *err)
{
	struct answer a;
	int64_t now, until, share;
	unsigned i;
	int saved = 0;

	c->fd = -1;
	c->deadline = deadline;
	c->peer[0] = '\0';
	if (resolve(host, port, &a, deadline, err) == -1 ||
	    answer_error(&a, host, err) == -1)
		return -1;
	for (i = 0; i < a.count; i++) {
		now = event_now();
		if (now >= deadline)
			break;
		share = (deadline - now) / (int64_t)(a.count - i);
		if (share < ATTEMPT_MIN_MS)
			share = ATTEMPT_MIN_MS;
		until = share < deadline - now ? now + share : deadline;
		format_addr(&a.addr[i], c->peer, sizeof c->peer);
		c->fd = connect_one(&a.addr[i], a.len[i], until, err);
		if (c->fd != -1)
			return 0;
		if (errno == ECANCELED)
			return -1;
		saved = errno;
	}
	if (saved == ETIMEDOUT || saved == 0 || event_now() >= deadline)
		return err_set(err, ERR_TIMEOUT,
		    "connecting to %s port %u timed out (EXCHANGE_TIMEOUT)",
		    host, (unsigned)port);
	/* Accepted, then reset before the first byte: the same words as a
	 * reset later on, whichever side of the race the wait saw. */
	if (saved == ECONNRESET)
		return err_set(err, ERR_CONNECT,
		    "connecting to %s port %u: "
		    "the server %s reset the connection",
		    host, (unsigned)port, c->peer);
	return err_set(err, ERR_CONNECT, "connecting to %s port %u (%s%s): %s",
	    host, (unsigned)port, c->peer, a.count > 1 ? " and others" : "",
	    strerror(saved));
}

static int
io_error(struct net_conn *c, const char *what, struct err *err)
{
	if (errno == ECONNRESET || errno == EPIPE)
		return err_set(err, ERR_CONNECT,
		    "the server %s reset the connection", c->peer);
	return err_set(err, ERR_CONNECT, "%s %s: %s", what, c->peer,
	    strerror(errno));
}

static int
wait_ready(struct net_conn *c, short events, struct err *err)
{
	int w = event_wait(c->fd, events, c->deadline, 0, err);

	if (w == 0)
		return err_set(err, ERR_TIMEOUT,
		    "the server %s did not %s within EXCHANGE_TIMEOUT", c->peer,
		    events == POLLIN ? "answer" : "take the request");
	return w == 1 ? 0 : -1;
}

ssize_t
net_send(struct net_conn *c, const void *buf, size_t len, struct err *err)
{
	ssize_t n;

	for (;;) {
		n = send(c->fd, buf, len, MSG_NOSIGNAL);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return io_error(c, "sending to", err);
		if (wait_ready(c, POLLOUT, err) == -1)
			return -1;
	}
}

ssize_t
net_recv(struct net_conn *c, void *buf, size_t cap, struct err *err)
{
	ssize_t n;

	for (;;) {
		n = recv(c->fd, buf, cap, 0);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return io_error(c, "receiving from", err);
		if (wait_ready(c, POLLIN, err) == -1)
			return -1;
	}
}

static int
stream_write_all(void *ctx, const void *buf, size_t len, struct err *err)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = net_send(ctx, p, len, err)) == -1)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static ssize_t
stream_read(void *ctx, void *buf, size_t cap, struct err *err)
{
	return net_recv(ctx, buf, cap, err);
}

void
net_stream(struct net_conn *c, struct stream *s)
{
	s->write_all = stream_write_all;
	s->read = stream_read;
	s->ctx = c;
}

void
net_close(struct net_conn *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
}
