/*
 * stream.h: a byte stream with a deadline, plain TCP or TLS.
 *
 * HTTP is written against this interface only, so a proxy's CONNECT (plain)
 * and the request after it (TLS) use the same reader and writer.
 */
#ifndef TB_STREAM_H
#define TB_STREAM_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

struct stream {
	/* Write all of buf. Returns 0 or -1 with err set. */
	int (*write_all)(void *ctx, const void *buf, size_t len,
	    struct err *err);
	/*
	 * Read at most cap bytes. Returns the count, 0 at a clean end of
	 * stream, or -1 with err set.
	 */
	ssize_t (*read)(void *ctx, void *buf, size_t cap, struct err *err);
	void *ctx;
};

#endif
