/*
 * health.c: the health and metrics listener, served from the event loop.
 */
#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "fmt.h"
#include "health.h"

/*
 * Connections accepted per wakeup: a flood cannot keep the loop here, and
 * half the ring, so that a connection accepted in one wakeup is still in
 * the ring at the next poll, where its request is seen.
 * The backlog is the system's largest, so that a flood fills it and a
 * probe's SYN is queued, not dropped into a one-second retransmission.
 */
#define ACCEPT_PER_STEP (HEALTH_PENDING_MAX / 2)
/* Room kept ahead of a body for the status line and headers. */
#define HEAD_ROOM 256u

static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
                           "Content-Length: 0\r\nConnection: close\r\n\r\n";

struct request {
	bool head; /* HEAD: no body */
	bool verbose;
	const char *path;
	size_t path_len;
	const char *query;
	size_t query_len;
};

static int
tchar(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

/*
 * A HEAD request is answered without a body whatever else is wrong with
 * it (a bad version, a head too long): its client reads no body, and any
 * would be taken for the start of another answer.
 */
static bool
is_head(const char *in, size_t len)
{
	return len >= 5 && memcmp(in, "HEAD ", 5) == 0;
}

/* Where the head ends (after its empty line), or 0 while incomplete. */
static size_t
head_end(const char *in, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i++) {
		if (in[i] == '\n' && in[i + 1] == '\n')
			return i + 2;
		if (in[i] == '\n' && in[i + 1] == '\r' && i + 2 < len &&
		    in[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* Does the query hold the parameter `name` ("verbose", "verbose=1")? */
static bool
has_param(const char *q, size_t n, const char *name)
{
	size_t i = 0, k = strlen(name), j;

	while (i < n) {
		for (j = i; j < n && q[j] != '&'; j++)
			;
		if (j - i >= k && memcmp(q + i, name, k) == 0 &&
		    (j - i == k || q[i + k] == '='))
			return true;
		i = j + 1;
	}
	return false;
}

/* The request line: 0, or the HTTP status to refuse it with. */
static int
parse_line(const char *in, size_t len, struct request *rq)
{
	const char *sp1, *sp2, *eol = memchr(in, '\n', len);
	size_t m, n;

	rq->head = is_head(in, len);
	if (eol == NULL)
		return 400;
	n = (size_t)(eol - in);
	if (n > 0 && in[n - 1] == '\r')
		n--;
	if ((sp1 = memchr(in, ' ', n)) == NULL ||
	    (sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - in))) == NULL)
		return 400;
	m = (size_t)(sp1 - in);
	for (size_t i = 0; i < m; i++)
		if (!tchar(in[i]))
			return 400;
	if (in + n - (sp2 + 1) != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
	    (sp2[8] != '0' && sp2[8] != '1') || sp1[1] != '/')
		return 400;
	rq->path = sp1 + 1;
	rq->path_len = (size_t)(sp2 - rq->path);
	for (size_t i = 0; i < rq->path_len; i++)
		if ((unsigned char)rq->path[i] <= 0x20 || rq->path[i] == 0x7f)
			return 400;
	rq->query = memchr(rq->path, '?', rq->path_len);
	rq->query_len = 0;
	if (rq->query != NULL) {
		rq->query_len = rq->path_len - (size_t)(rq->query - rq->path) -
		    1;
		rq->path_len = (size_t)(rq->query - rq->path);
		rq->query++;
	}
	rq->verbose = rq->query != NULL &&
	    has_param(rq->query, rq->query_len, "verbose");
	if (!rq->head && !(m == 3 && memcmp(in, "GET", 3) == 0))
		return 405;
	return 0;
}

static const char *
reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 431:
		return "Request Header Fields Too Large";
	default:
		return "Service Unavailable";
	}
}

/*
 * The whole response around the body already at out + HEAD_ROOM
 * (blen bytes). Returns its length.
 */
static size_t
respond(int status, const char *ctype, bool head, char *out, size_t blen)
{
	char h[HEAD_ROOM];
	int n;

	n = fmt_snprintf(h, sizeof h,
	    "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	    "%sCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
	    "Connection: close\r\n\r\n",
	    status, reason(status), ctype, blen,
	    status == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof h)
		n = 0;
	if (head)
		blen = 0;
	memmove(out + n, out + HEAD_ROOM, blen);
	memcpy(out, h, (size_t)n);
	return (size_t)n + blen;
}

/*
 * Plain-text body at out + HEAD_ROOM, appended after its first n bytes;
 * its new length (cut to what fits).
 */
static size_t append(char *out, size_t cap, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static size_t
append(char *out, size_t cap, size_t n, const char *fmt, ...)
{
	size_t room = cap - HEAD_ROOM - n;
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = fmt_vsnprintf(out + HEAD_ROOM + n, room, fmt, ap);
	va_end(ap);
	if (w < 0)
		return n;
	return (size_t)w < room ? n + (size_t)w : cap - HEAD_ROOM - 1;
}

#define text(out, cap, ...) append(out, cap, 0, __VA_ARGS__)

static const char plain[] = "text/plain; charset=utf-8";

/* " name" for token i, or "" for the one unnamed token. */
static const char *
space(const struct health_view *v, size_t i)
{
	return v->metrics[i].name != NULL ? " " : "";
}

static const char *
name(const struct health_view *v, size_t i)
{
	return v->metrics[i].name != NULL ? v->metrics[i].name : "";
}

/* One token's line of /readyz?verbose after n bytes; its new length. */
static size_t
ready_line(const struct health_view *v, size_t i, int64_t now, char *out,
    size_t cap, size_t n, int *ready)
{
	struct err err;
	int64_t exp;

	if (check_token_file(v->check, v->token_path[i], now, v->ready_margin_s,
	        &exp, &err) == -1) {
		*ready = 0;
		return append(out, cap, n, "[-]token%s%s failed: %s\n",
		    space(v, i), name(v, i), err.msg);
	}
	if (exp == 0)
		return append(out, cap, n,
		    "[+]token%s%s ok: present, expiry unknown\n", space(v, i),
		    name(v, i));
	return append(out, cap, n, "[+]token%s%s ok: valid for %lld s more\n",
	    space(v, i), name(v, i), (long long)(exp - now));
}

/*
 * Ready when every token is, as the API server's /readyz is when every
 * check passes: ?verbose lists them all, else the first failure is named.
 */
static size_t
readyz(const struct health_view *v, const struct request *rq, char *out,
    size_t cap)
{
	int64_t now = (int64_t)time(NULL), exp;
	struct err err;
	size_t i, n = 0;
	int ready = 1;

	if (rq->verbose) {
		for (i = 0; i < v->ntokens; i++)
			n = ready_line(v, i, now, out, cap, n, &ready);
		n = append(out, cap, n, "readyz check %s\n",
		    ready ? "passed" : "failed");
		return respond(ready ? 200 : 503, plain, rq->head, out, n);
	}
	for (i = 0; i < v->ntokens; i++)
		if (check_token_file(v->check, v->token_path[i], now,
		        v->ready_margin_s, &exp, &err) == -1)
			return respond(503, plain, rq->head, out,
			    text(out, cap, "token%s%s not ready: %s\n",
			        space(v, i), name(v, i), err.msg));
	return respond(200, plain, rq->head, out, text(out, cap, "ok\n"));
}

static size_t
route(const struct health_view *v, const struct request *rq, char *out,
    size_t cap)
{
	size_t n;

#define IS(p) \
	(rq->path_len == sizeof(p) - 1 && \
	    memcmp(rq->path, p, rq->path_len) == 0)
	if (IS("/livez") || IS("/healthz")) {
		n = rq->verbose ?
		    text(out, cap, "[+]loop ok\nlivez check passed\n") :
		    text(out, cap, "ok\n");
		return respond(200, plain, rq->head, out, n);
	}
	if (IS("/readyz"))
		return readyz(v, rq, out, cap);
	if (IS("/metrics")) {
		n = metrics_render(v->metrics, v->ntokens, out + HEAD_ROOM,
		    cap - HEAD_ROOM);
		if (n == 0)
			return respond(503, plain, rq->head, out,
			    text(out, cap, "metrics do not fit\n"));
		return respond(200, "text/plain; version=0.0.4; charset=utf-8",
		    rq->head, out, n);
	}
#undef IS
	return respond(404, plain, rq->head, out,
	    text(out, cap, "not found: try /livez, /readyz or /metrics\n"));
}

int
health_answer(const struct health_view *v, const char *in, size_t len,
    char *out, size_t cap, size_t *out_len)
{
	struct request rq;
	int status;

	*out_len = 0;
	if (cap < (size_t)2 * HEAD_ROOM)
		return 0;
	if (head_end(in, len) == 0) {
		if (len < HEALTH_REQUEST_MAX)
			return 0;
		*out_len = respond(431, plain, is_head(in, len), out,
		    text(out, cap, "the request head is over %u bytes\n",
		        HEALTH_REQUEST_MAX));
		return 1;
	}
	memset(&rq, 0, sizeof rq);
	if ((status = parse_line(in, len, &rq)) != 0) {
		*out_len = respond(status, plain, rq.head, out,
		    text(out, cap, "%s\n",
		        status == 405 ? "only GET and HEAD are served" :
		                        "malformed request"));
		return 1;
	}
	*out_len = route(v, &rq, out, cap);
	return 1;
}

static int
bind_listen(const struct config_listen *l, int v6only, struct err *err)
{
	int fd, one = 1, saved;

	fd = socket(l->addr.ss_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return err_set(err, ERR_CONFIG,
		    "HEALTH_ADDR: creating a socket: %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1 ||
	    (l->addr.ss_family == AF_INET6 &&
	        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
	            sizeof v6only) == -1) ||
	    bind(fd, (const struct sockaddr *)&l->addr, l->len) == -1 ||
	    listen(fd, SOMAXCONN) == -1) {
		saved = errno;
		close(fd);
		return err_set(err, ERR_CONFIG,
		    "HEALTH_ADDR: listening failed: %s%s", strerror(saved),
		    saved == EADDRINUSE ?
		        " (another process, or another sidecar in the pod, "
		        "uses the port: choose another)" :
		        saved == EADDRNOTAVAIL ?
		        " (the address is not on this machine: use :PORT)" :
		        "");
	}
	return fd;
}

int
health_listen(struct health *h, const struct config_listen *l,
    const struct health_view *view, struct err *err)
{
	struct config_listen v4;
	size_t i;

	h->fd = -1;
	h->view = *view;
	h->pend_next = 0;
	/* Without a listener the slots stay untouched pages (20 KiB). */
	if (!l->set)
		return 0;
	for (i = 0; i < HEALTH_CLIENTS_MAX; i++)
		h->c[i].fd = -1;
	for (i = 0; i < HEALTH_PENDING_MAX; i++)
		h->pend[i].fd = -1;
	h->fd = bind_listen(l, !l->any, err);
	if (h->fd != -1 || !l->any || errno != EAFNOSUPPORT)
		return h->fd == -1 ? -1 : 0;
	/* A node without IPv6: every IPv4 address. */
	memset(&v4, 0, sizeof v4);
	v4.addr.ss_family = AF_INET;
	((struct sockaddr_in *)&v4.addr)
	    ->sin_port = ((const struct sockaddr_in6 *)&l->addr)->sin6_port;
	v4.len = sizeof(struct sockaddr_in);
	h->fd = bind_listen(&v4, 0, err);
	return h->fd == -1 ? -1 : 0;
}

size_t
health_want(const struct health *h, struct pollfd *fds, int64_t *until)
{
	const struct health_client *c;
	size_t i, n = 0;

	if (h->fd == -1)
		return 0;
	fds[n].fd = h->fd;
	fds[n].events = POLLIN;
	fds[n++].revents = 0;
	for (i = 0; i < HEALTH_CLIENTS_MAX; i++) {
		c = &h->c[i];
		fds[n].fd = c->fd;
		fds[n].events = c->out_len > 0 ? POLLOUT : POLLIN;
		fds[n++].revents = 0;
		if (c->fd != -1 && c->deadline < *until)
			*until = c->deadline;
	}
	for (i = 0; i < HEALTH_PENDING_MAX; i++) {
		fds[n].fd = h->pend[i].fd;
		fds[n].events = POLLIN;
		fds[n++].revents = 0;
		if (h->pend[i].fd != -1 && h->pend[i].deadline < *until)
			*until = h->pend[i].deadline;
	}
	return n;
}

static void
drop(struct health_client *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->in_len = c->out_len = c->out_sent = 0;
}

/*
 * A slot for a client that has started its request; when all are taken,
 * the one that has been sending its request the longest gives way (a real
 * probe sends its request at once). NULL when every client is being
 * answered.
 */
static struct health_client *
slot(struct health *h)
{
	struct health_client *c, *oldest = NULL;
	size_t i;

	for (i = 0; i < HEALTH_CLIENTS_MAX; i++) {
		c = &h->c[i];
		if (c->fd == -1)
			return c;
		if (c->out_len == 0 &&
		    (oldest == NULL || c->deadline < oldest->deadline))
			oldest = c;
	}
	if (oldest != NULL)
		drop(oldest);
	return oldest;
}

static void
client_read(const struct health *h, struct health_client *c)
{
	ssize_t n;

	n = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, 0);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		drop(c);
		return;
	}
	c->in_len += (size_t)n;
	(void)health_answer(&h->view, c->in, c->in_len, c->out, sizeof c->out,
	    &c->out_len);
}

static void
client_write(struct health_client *c)
{
	ssize_t n;

	n = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent,
	    MSG_NOSIGNAL);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		drop(c);
		return;
	}
	c->out_sent += (size_t)n;
	if (c->out_sent < c->out_len)
		return;
	/* Our side is done: a FIN, not a reset, ends the answer. */
	(void)shutdown(c->fd, SHUT_WR);
	drop(c);
}

/*
 * A silent connection spoke: it takes a client slot, or is told 503. What
 * it sent is read, and answered, at once: another promoted in this step
 * would otherwise take the slot from a probe not yet read.
 */
static void
promote(struct health *h, struct health_pending *p)
{
	struct health_client *c = slot(h);

	if (c == NULL) {
		(void)send(p->fd, busy, sizeof busy - 1,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		close(p->fd);
		p->fd = -1;
		return;
	}
	c->fd = p->fd;
	c->deadline = p->deadline;
	c->in_len = c->out_len = c->out_sent = 0;
	p->fd = -1;
	client_read(h, c);
	if (c->fd != -1 && c->out_len > 0)
		client_write(c);
}

/*
 * A new connection waits in the ring of silent ones until it sends a
 * byte; a full ring closes its oldest. A flood of connections that say
 * nothing only turns the ring over, and never takes the slot of a client
 * that has sent its request.
 */
static void
accept_clients(struct health *h)
{
	struct health_pending *p;
	size_t k;
	char b;
	int fd;

	for (k = 0; k < ACCEPT_PER_STEP; k++) {
		fd = accept4(h->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1)
			return;
		p = &h->pend[h->pend_next];
		h->pend_next = (h->pend_next + 1) % HEALTH_PENDING_MAX;
		if (p->fd != -1)
			close(p->fd);
		p->fd = fd;
		p->deadline = event_now() + HEALTH_CLIENT_MS;
		/* A probe sends its request with the connection: when it is
		 * here already, it is served now, before the rest of a flood
		 * can turn the ring over. */
		if (recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 1)
			promote(h, p);
	}
}

/* Serve the clients in slots: read, answer, write, or drop at the
 * deadline. `fds` holds their poll slots, in order. */
static void
serve(struct health *h, const struct pollfd *fds, int64_t now)
{
	struct health_client *c;
	size_t i;

	for (i = 0; i < HEALTH_CLIENTS_MAX; i++) {
		c = &h->c[i];
		if (c->fd == -1 || fds[i].fd != c->fd)
			continue;
		if (fds[i].revents != 0 && c->out_len == 0)
			client_read(h, c);
		if (c->fd != -1 && c->out_len > 0)
			client_write(c);
		if (c->fd != -1 && now >= c->deadline)
			drop(c);
	}
}

void
health_step(struct health *h, const struct pollfd *fds, size_t n)
{
	struct health_pending *p;
	int64_t now = event_now();
	size_t i;

	if (n < HEALTH_FDS)
		return;
	serve(h, fds + 1, now);
	for (i = 0; i < HEALTH_PENDING_MAX; i++) {
		p = &h->pend[i];
		if (p->fd == -1 || fds[1 + HEALTH_CLIENTS_MAX + i].fd != p->fd)
			continue;
		if (fds[1 + HEALTH_CLIENTS_MAX + i].revents != 0) {
			promote(h, p);
		} else if (now >= p->deadline) {
			close(p->fd);
			p->fd = -1;
		}
	}
	if (fds[0].revents != 0)
		accept_clients(h);
}

void
health_close(struct health *h)
{
	size_t i;

	if (h->fd == -1) /* the slots were never set up */
		return;
	for (i = 0; i < HEALTH_CLIENTS_MAX; i++)
		drop(&h->c[i]);
	for (i = 0; i < HEALTH_PENDING_MAX; i++)
		if (h->pend[i].fd != -1)
			close(h->pend[i].fd);
	close(h->fd);
	h->fd = -1;
}
