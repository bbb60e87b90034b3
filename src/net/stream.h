/*
 * stream.h: a non-blocking byte stream, plain TCP or TLS.
 *
 * Nothing here waits. An operation that cannot go on says which readiness
 * of the socket it needs (POLLIN, POLLOUT) and returns STREAM_AGAIN; the
 * caller's event loop waits for that and calls again. Streams stack: TLS
 * runs over a lower stream, so the same code serves TLS over TCP, TLS
 * through a proxy's CONNECT tunnel, and TLS inside TLS to an https://
 * proxy. HTTP is written against this interface only.
 */
#ifndef TB_STREAM_H
#define TB_STREAM_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/* The operation needs the socket ready for *events; call again then. With
 * *events 0 it yielded after a bounded amount of work: call again at once,
 * after the caller's loop has had its turn. */
#define STREAM_AGAIN (-2)

struct stream {
	/*
	 * Take some of buf. Returns the count taken (at least 1),
	 * STREAM_AGAIN with *events set, or -1 with err set. Bytes taken
	 * may still be buffered: flush() pushes them out.
	 */
	ssize_t (*send)(void *ctx, const void *buf, size_t len, short *events,
	    struct err *err);
	/* Push every byte taken onto the wire: 0 when done, STREAM_AGAIN
	 * with *events set, or -1 with err set. */
	int (*flush)(void *ctx, short *events, struct err *err);
	/*
	 * Read at most cap bytes. Returns the count (at least 1), 0 at the
	 * end of the stream, STREAM_AGAIN with *events set, or -1 with err
	 * set.
	 */
	ssize_t (*recv)(void *ctx, void *buf, size_t cap, short *events,
	    struct err *err);
	void *ctx;
};

#endif
