/*
 * net.c: name resolution and TCP connections as a state machine.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "event.h"
#include "fmt.h"
#include "net.h"
#include "resolver.h"

/* Go's dialer gives each address at least this share of the deadline. */
#define ATTEMPT_MIN_MS 2000

int
net_dial_start(struct net_dial *d, const struct resolver *r, const char *host,
    uint16_t port, int64_t deadline, struct err *err)
{
	memset(d, 0, sizeof *d);
	d->host = host;
	d->port = port;
	d->deadline = d->until = deadline;
	d->pipe_fd = d->fd = -1;
	d->phase = NET_RESOLVING;
	/* An address needs no lookup, nor a process for one. */
	if (resolver_literal(host, port, &d->answer)) {
		d->got = sizeof d->answer;
		return 0;
	}
	return resolver_ask(r, host, port, &d->pipe_fd, err);
}

void
net_dial_want(const struct net_dial *d, int *fd, short *events, int64_t *until)
{
	*fd = -1;
	*events = 0;
	*until = d->deadline;
	if (d->phase == NET_RESOLVING && d->got < sizeof d->answer) {
		*fd = d->pipe_fd;
		*events = POLLIN;
	} else if (d->phase == NET_CONNECTING) {
		*fd = d->fd;
		*events = POLLOUT;
		*until = d->until;
	} else if (d->phase == NET_RESOLVING) {
		/* Answered in place: go on at once. */
		*until = 0;
	}
}

/* Closing the pipe abandons the lookup: the resolver kills its worker. */
static void
reap(struct net_dial *d)
{
	if (d->pipe_fd != -1)
		close(d->pipe_fd);
	d->pipe_fd = -1;
}

/* Whether address i is one socket() and connect() can take as it is. */
static int
usable(const struct net_answer *a, unsigned i)
{
	sa_family_t family = a->addr[i].ss_family;

	return (family == AF_INET && a->len[i] == sizeof(struct sockaddr_in)) ||
	    (family == AF_INET6 && a->len[i] == sizeof(struct sockaddr_in6));
}

int
net_answer_check(const struct net_answer *a, const char *host, struct err *err)
{
	unsigned i;

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
	if (a->count == 0 || a->count > NET_ADDRS_MAX)
		return err_set(err, ERR_DNS, "resolving %s: no address", host);
	for (i = 0; i < a->count; i++)
		if (!usable(a, i))
			return err_set(err, ERR_DNS,
			    "resolving %s: the resolver's answer holds an "
			    "address of family %u and length %u",
			    host, (unsigned)a->addr[i].ss_family,
			    (unsigned)a->len[i]);
	return 0;
}

/* Read what the child has written; NET_DONE with the whole answer. */
static int
read_answer(struct net_dial *d, struct err *err)
{
	ssize_t r;

	while (d->got < sizeof d->answer) {
		r = read(d->pipe_fd, (char *)&d->answer + d->got,
		    sizeof d->answer - d->got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 && errno == EAGAIN)
			return NET_MORE;
		if (r <= 0)
			return err_set(err, ERR_DNS,
			    "resolving %s: the "
			    "resolver process ended without an answer",
			    d->host);
		d->got += (size_t)r;
	}
	return NET_DONE;
}

static void
format_addr(const struct sockaddr_storage *ss, char *out, size_t cap)
{
	const void *src = ss->ss_family == AF_INET6 ?
	    (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr :
	    (const void *)&((const struct sockaddr_in *)ss)->sin_addr;

	int n = fmt_addr(out, cap, ss->ss_family, src);

	if (n < 0 || (size_t)n >= cap)
		(void)fmt_snprintf(out, cap, "?");
}

static void
close_attempt(struct net_dial *d, int why)
{
	if (d->fd != -1)
		close(d->fd);
	d->fd = -1;
	d->last_errno = why;
}

static int
out_of_addresses(struct net_dial *d, struct err *err)
{
	unsigned port = d->port;

	if (d->last_errno == ETIMEDOUT || d->last_errno == 0 ||
	    event_now() >= d->deadline)
		return err_set(err, ERR_TIMEOUT,
		    "connecting to %s port %u timed out (EXCHANGE_TIMEOUT)",
		    d->host, port);
	/* Accepted, then reset before the first byte: the same words as a
	 * reset later on, whichever side of the race the wait saw. */
	if (d->last_errno == ECONNRESET)
		return err_set(err, ERR_CONNECT,
		    "connecting to %s port %u: "
		    "the server %s reset the connection",
		    d->host, port, d->peer);
	return err_set(err, ERR_CONNECT, "connecting to %s port %u (%s%s): %s",
	    d->host, port, d->peer, d->answer.count > 1 ? " and others" : "",
	    strerror(d->last_errno));
}

/*
 * Start connecting to the next address: NET_MORE while in progress (also
 * when this address failed at once: d->until is then 0, so the caller
 * goes on to the next), -1 with err set when none is left.
 */
static int
next_address(struct net_dial *d, struct err *err)
{
	const struct sockaddr_storage *ss;
	int64_t now = event_now(), share;
	unsigned left;
	int one = 1;

	if (d->next >= d->answer.count || now >= d->deadline)
		return out_of_addresses(d, err);
	left = d->answer.count - d->next;
	share = (d->deadline - now) / (int64_t)left;
	if (share < ATTEMPT_MIN_MS)
		share = ATTEMPT_MIN_MS;
	d->until = share < d->deadline - now ? now + share : d->deadline;
	ss = &d->answer.addr[d->next];
	format_addr(ss, d->peer, sizeof d->peer);
	d->phase = NET_CONNECTING;
	d->fd = socket(ss->ss_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->fd == -1 ||
	    setsockopt(d->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) ==
	        -1 ||
	    (connect(d->fd, (const struct sockaddr *)ss,
	         d->answer.len[d->next++]) == -1 &&
	        errno != EINPROGRESS)) {
		close_attempt(d, errno);
		d->until = 0;
	}
	return NET_MORE;
}

/* The connection attempt in progress ended (ready or out of time). */
static int
attempt_done(struct net_dial *d, short revents, struct err *err)
{
	socklen_t solen = sizeof(int);
	int so = 0;

	if (d->fd == -1)
		return next_address(d, err);
	if (revents == 0) {
		if (event_now() < d->until)
			return NET_MORE;
		close_attempt(d, ETIMEDOUT);
		return next_address(d, err);
	}
	if (getsockopt(d->fd, SOL_SOCKET, SO_ERROR, &so, &solen) == -1)
		so = errno;
	if (so != 0) {
		close_attempt(d, so);
		return next_address(d, err);
	}
	d->phase = NET_CONNECTED;
	return NET_DONE;
}

int
net_dial_step(struct net_dial *d, short revents, struct err *err)
{
	int rc;

	switch (d->phase) {
	case NET_RESOLVING:
		if (d->pipe_fd != -1 &&
		    (rc = read_answer(d, err)) != NET_DONE) {
			if (rc == NET_MORE && event_now() >= d->deadline)
				return err_set(err, ERR_TIMEOUT,
				    "resolving %s timed out "
				    "(EXCHANGE_TIMEOUT): is the DNS server "
				    "reachable?",
				    d->host);
			return rc;
		}
		reap(d);
		if (net_answer_check(&d->answer, d->host, err) == -1)
			return -1;
		return next_address(d, err);
	case NET_CONNECTING:
		return attempt_done(d, revents, err);
	case NET_CONNECTED:
		return NET_DONE;
	case NET_IDLE:
		break;
	}
	return err_set(err, ERR_SYSTEM, "connecting: the dial was not started");
}

int
net_dial_take(struct net_dial *d)
{
	int fd = d->fd;

	d->fd = -1;
	return fd;
}

void
net_dial_close(struct net_dial *d)
{
	reap(d);
	if (d->fd != -1)
		close(d->fd);
	d->fd = -1;
	d->phase = NET_IDLE;
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

static ssize_t
sock_send(void *ctx, const void *buf, size_t len, short *events,
    struct err *err)
{
	struct net_conn *c = ctx;
	ssize_t n;

	for (;;) {
		if ((n = send(c->fd, buf, len, MSG_NOSIGNAL)) > 0)
			return n;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK) {
			*events = POLLOUT;
			return STREAM_AGAIN;
		}
		return io_error(c, "sending to", err);
	}
}

/* Every byte send() took is the kernel's to deliver. */
static int
sock_flush(void *ctx, short *events, struct err *err)
{
	(void)ctx;
	(void)events;
	(void)err;
	return 0;
}

static ssize_t
sock_recv(void *ctx, void *buf, size_t cap, short *events, struct err *err)
{
	struct net_conn *c = ctx;
	ssize_t n;

	for (;;) {
		if ((n = recv(c->fd, buf, cap, 0)) >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			*events = POLLIN;
			return STREAM_AGAIN;
		}
		return io_error(c, "receiving from", err);
	}
}

void
net_stream(struct net_conn *c, struct stream *s)
{
	s->send = sock_send;
	s->flush = sock_flush;
	s->recv = sock_recv;
	s->ctx = c;
}
