/*
 * refresh.h: from the ServiceAccount token on disk to the access token on
 * disk, once or for as long as the pod lives.
 *
 * One token's job as a state machine the event loop drives: idle until
 * the schedule says the token is due, then one exchange in flight, then
 * the file written and the next time chosen (ahead of expiry after a
 * success, with backoff after a failure). Nothing here waits.
 */
#ifndef TB_REFRESH_H
#define TB_REFRESH_H

#include "config.h"
#include "credentials.h"
#include "err.h"
#include "exchange.h"
#include "metrics.h"
#include "output.h"
#include "tokenfile.h"
#include "trust.h"

/* Where the access token goes, and what the process remembers of it. */
struct refresh_output {
	struct tokendir dir;       /* OUTPUT_TOKEN_PATH's, opened at start */
	bool zero_lifetime_logged; /* "expires_in": 0 said once already */
};

/*
 * A CA bundle's anchors, shared by every job that names the file. A
 * reload frees the anchors an exchange in flight is validating against,
 * so it waits until no job sharing them has one: a reload that is due
 * (SIGHUP, or the file changed) while one is in flight is left pending,
 * and done when the last such exchange ends.
 */
struct refresh_trust {
	struct trust trust;
	unsigned in_flight; /* exchanges using it now */
	bool pending;       /* a reload waits for in_flight to reach 0 */
};

/* What the job knows of the token on disk; times on both clocks. */
struct refresh_state {
	uint32_t attempt;    /* failures since the last success */
	bool has_expiry;     /* a token is on disk with a known expiry */
	bool has_token;      /* a token was written by this process */
	int64_t expiry;      /* event_now() ms */
	int64_t expiry_wall; /* event_wall_now() ms */
};

/*
 * One token's job, owned by the caller; large (the exchange's buffers), so
 * keep it in static storage. Everything it points to outlives it.
 */
struct refresh {
	size_t job; /* its index: log lines and secrets (log_job()) */
	const struct config *cfg;
	const struct proxy *proxy;   /* NULL: straight to the token service */
	struct refresh_trust *trust; /* loaded at start; reloaded on change */
	struct refresh_output *out;
	struct metrics *metrics;
	struct refresh_state st;
	bool busy;        /* an exchange is in flight */
	bool reload;      /* SIGHUP: refresh at once, reload, recheck */
	int64_t due;      /* next exchange, event_now() ms */
	int64_t due_wall; /* the same moment on the wall clock */
	int64_t started;  /* event_now() ms when the exchange began */
	size_t subject_len;
	size_t rendered_len;
	char subject[EXCHANGE_SUBJECT_MAX];
	/* What the token file receives (OUTPUT_FORMAT). */
	char rendered[OUTPUT_MAX(EXCHANGE_TOKEN_MAX)];
	struct exchange_result res;
	struct credentials creds;
	struct exchange x;
};

/* How a job reaches its token service; both outlive the job. */
struct refresh_route {
	const struct proxy *proxy;       /* NULL: a direct connection */
	const struct resolver *resolver; /* looks the first hop's name up */
};

/*
 * Set job number `job` (< LOG_JOBS) up, due at once, reaching the token
 * service by `route` (copied). Every line it logs carries its
 * token's name (cfg->name), and its secrets are redacted from every line. The
 * client's keys are loaded here: a bad one is a configuration error. Returns 0,
 * or -1 with err set.
 */
int refresh_init(struct refresh *r, size_t job, const struct config *cfg,
    const struct refresh_route *route, struct refresh_trust *trust,
    struct refresh_output *out, struct metrics *m, struct err *err);

/*
 * What the job waits for: a descriptor (-1 for none) and its events, and
 * the time on each clock (EVENT_NEVER for none) at which refresh_step() is
 * due even if the descriptor never becomes ready.
 */
void refresh_want(const struct refresh *r, int *fd, short *events, int64_t *at,
    int64_t *wall_at);

/*
 * Go on: start an exchange if one is due, advance the one in flight
 * (`revents` from poll, 0 when only time passed), and when it ends write
 * the token, log the outcome and schedule the next. Cheap when nothing is
 * due.
 */
void refresh_step(struct refresh *r, short revents);

/*
 * SIGHUP: refresh at once (after the exchange in flight, if any), reload
 * the CA bundle, and check that the token directory's path still names the
 * directory opened at start.
 */
void refresh_reload(struct refresh *r);

/* Abandon the exchange in flight, if any, and wipe both tokens. */
void refresh_stop(struct refresh *r);

/*
 * One exchange, waiting in place (for `once`): read the subject token
 * anew, exchange it, write the token file, and log the outcome. Returns 0,
 * or -1 with err set (the token file is then as it was).
 */
int refresh_once(struct refresh *r, struct err *err);

#endif
