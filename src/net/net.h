/*
 * net.h: name resolution and TCP connections as a state machine.
 *
 * getaddrinfo() blocks and cannot be cancelled, so it runs in a worker of
 * the resolver process (resolver.h) whose answer comes back through a
 * pipe: the event loop waits on that pipe like on any socket, and a
 * stalled DNS server or a SIGTERM ends the wait on time. Every address returned
 * is then tried in turn, each with a share of the time left, as Go's dialer
 * does. Nothing here waits: net_dial_want() says on what, and net_dial_step()
 * goes on.
 */
#ifndef TB_NET_H
#define TB_NET_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "err.h"
#include "stream.h"

#define NET_ADDRS_MAX 16

/* What a resolver worker sends back: under PIPE_BUF, one atomic write. */
struct net_answer {
	int gai_error;
	int sys_errno;
	unsigned count;
	socklen_t len[NET_ADDRS_MAX];
	struct sockaddr_storage addr[NET_ADDRS_MAX];
};

enum net_phase { NET_IDLE, NET_RESOLVING, NET_CONNECTING, NET_CONNECTED };

struct net_dial {
	enum net_phase phase;
	const char *host; /* outlives the dial */
	uint16_t port;
	int64_t deadline; /* event_now() ms, for the whole dial */
	int64_t until;    /* the current address's share ends here */
	int pipe_fd;      /* the resolver's answer, or -1 */
	size_t got;       /* bytes of the answer read */
	unsigned next;    /* the next address to try */
	int fd;           /* the socket being connected, or connected */
	int last_errno;   /* why the last address failed */
	char peer[64];    /* the address tried or connected, for messages */
	struct net_answer answer;
};

/* Return values of net_dial_step(). */
#define NET_MORE 0
#define NET_DONE 1

struct resolver;

/*
 * Start resolving `host` (which must outlive the dial) to connect to
 * `port` before `deadline` (event_now() ms): an address literal at once,
 * a name by asking `r`. Returns 0, or -1 with err set; net_dial_close() is
 * due either way.
 */
int net_dial_start(struct net_dial *d, const struct resolver *r,
    const char *host, uint16_t port, int64_t deadline, struct err *err);

/*
 * Check an answer read from a resolver worker (its bytes come from DNS
 * servers, through getaddrinfo): 0 when it holds 1 to NET_ADDRS_MAX
 * addresses, each IPv4 or IPv6 of its family's length, else -1 with err
 * set (ERR_DNS) naming `host` and the lookup's failure.
 */
int net_answer_check(const struct net_answer *a, const char *host,
    struct err *err);

/*
 * The descriptor to wait on, for which events, and until when; the
 * deadline is the one to pass to net_dial_step() once it has passed.
 */
void net_dial_want(const struct net_dial *d, int *fd, short *events,
    int64_t *until);

/*
 * Go on after the descriptor became ready (`revents`, from poll) or the
 * time from net_dial_want() passed (`revents` 0). Returns NET_DONE once d->fd
 * is connected (TCP_NODELAY set: BearSSL writes handshake records separately,
 * and with Nagle each exchange would wait for delayed ACKs), NET_MORE to wait
 * again, or -1 with err set (ERR_DNS, ERR_CONNECT, ERR_TIMEOUT, ERR_SYSTEM).
 */
int net_dial_step(struct net_dial *d, short revents, struct err *err);

/*
 * Hand the connected socket over: returns d->fd and forgets it, so that
 * net_dial_close() leaves it open.
 */
int net_dial_take(struct net_dial *d);

/* Abandon the lookup, if any, and close what the dial holds. */
void net_dial_close(struct net_dial *d);

/* A socket and the words to name its peer in messages. */
struct net_conn {
	int fd;
	const char *peer; /* outlives the connection */
};

/* A stream over a connected non-blocking socket. */
void net_stream(struct net_conn *c, struct stream *s);

#endif
