/*
 * refresh.h: from the ServiceAccount token on disk to the access token on
 * disk, once or for as long as the pod lives.
 */
#ifndef TB_REFRESH_H
#define TB_REFRESH_H

#include "config.h"
#include "err.h"
#include "exchange.h"
#include "tokenfile.h"
#include "trust.h"

/* Where the access token goes, and what the process remembers of it. */
struct refresh_output {
	struct tokendir dir;       /* OUTPUT_TOKEN_PATH's, opened at start */
	bool zero_lifetime_logged; /* "expires_in": 0 said once already */
};

/*
 * Read the subject token anew, exchange it, write the access token file
 * into out->dir. An "expires_in" of 0 counts as no lifetime at all (as Go's
 * oauth2 reads it; res->has_expires_in is cleared), logged once per
 * process. On failure returns -1 with err set for the caller to log; the
 * token file is then as it was. Both tokens stay registered with the
 * logger (so that a server quoting them back is redacted) until
 * refresh_forget().
 */
int refresh_once(const struct config *cfg, const struct trust *trust,
    struct refresh_output *out, struct exchange_result *res, struct err *err);

/*
 * Once the refresh is logged: wipe both tokens from memory and from the
 * logger. The access token lives on disk only.
 */
void refresh_forget(struct exchange_result *res);

/*
 * Log a successful refresh: where the token went, when it expires and,
 * when next_ms >= 0, when the next refresh is due. Never the token.
 */
void refresh_log_success(const struct config *cfg,
    const struct exchange_result *res, int64_t next_ms);

/*
 * Refresh until SIGTERM or SIGINT: ahead of expiry after a success, with
 * backoff after a failure, at once on SIGHUP (which also checks that the
 * token directory's path still names the directory opened at start); the
 * CA bundle is reloaded when its file changes. `trust` must hold the
 * anchors loaded at start (empty for plain http), `out` the opened token
 * directory. Sleeps on CLOCK_BOOTTIME and the wall clock, and refreshes
 * at once when the token's expiry on the wall clock has passed. Returns
 * when told to stop.
 */
void refresh_run(const struct config *cfg, struct trust *trust,
    struct refresh_output *out);

#endif
