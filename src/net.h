/*
 * net.h: name resolution and TCP connections under one deadline.
 *
 * getaddrinfo() blocks and cannot be cancelled, so it runs in a short-lived
 * child process whose answer comes back through a pipe: the parent waits
 * on that pipe like on any socket, and a stalled DNS server or a SIGTERM
 * ends the wait on time. Every address returned is tried in turn.
 */
#ifndef TB_NET_H
#define TB_NET_H

#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "stream.h"

struct net_conn {
	int fd;
	int64_t deadline; /* monotonic ms, for every read and write */
	char peer[64];    /* the address connected to, for messages */
};

/*
 * Resolve `host` and connect to `port` on the first address that accepts,
 * before `deadline`. Sets TCP_NODELAY (BearSSL writes handshake records
 * separately; with Nagle each exchange waits for delayed ACKs). Returns 0,
 * or -1 with err set (ERR_DNS, ERR_CONNECT, ERR_TIMEOUT, ERR_INTERRUPTED).
 */
int net_connect(struct net_conn *c, const char *host, uint16_t port,
    int64_t deadline, struct err *err);

/*
 * Send some of buf, waiting for the socket as needed. Returns the count
 * sent (at least 1), or -1 with err set.
 */
ssize_t net_send(struct net_conn *c, const void *buf, size_t len,
    struct err *err);

/*
 * Receive at most cap bytes, waiting as needed. Returns the count, 0 when
 * the peer closed, or -1 with err set.
 */
ssize_t net_recv(struct net_conn *c, void *buf, size_t cap, struct err *err);

/* A stream over the connection's socket, bounded by its deadline. */
void net_stream(struct net_conn *c, struct stream *s);

/* Close the socket, if open. */
void net_close(struct net_conn *c);

#endif
