/*
 * refresh.c: from the ServiceAccount token on disk to the access token on
 * disk, once or for as long as the pod lives.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "log.h"
#include "refresh.h"
#include "schedule.h"
#include "tokenfile.h"

static char subject[EXCHANGE_SUBJECT_MAX];
static size_t subject_len;

/*
 * Record the reported expiry next to the token, for `check` when the token
 * is not a JWT; without one, remove a stale record. A failure here leaves a
 * good token in place, so it is a warning, not a failed refresh.
 */
static void
record_expiry(const struct config *cfg, const struct refresh_output *out,
    const struct exchange_result *res)
{
	char name[256], text[24], shown[4352];
	struct err err;

	if (tokenfile_expiry_name(out->dir.name, name, sizeof name) == -1)
		return;
	(void)snprintf(shown, sizeof shown, "%.*s%s", (int)out->dir.prefix_len,
	    out->dir.path, name);
	if (!res->has_expires_in) {
		if (tokenfile_remove(&out->dir, name) == -1)
			log_event(LOG_WARN,
			    "removing the stale expiry record failed", "path",
			    shown, "error", strerror(errno), (char *)NULL);
		return;
	}
	(void)snprintf(text, sizeof text, "%lld\n",
	    (long long)time(NULL) + (long long)res->expires_in);
	if (tokenfile_write(&out->dir, name, text, strlen(text),
	        cfg->token_file_mode, &err) == -1) {
		/* A stale record would make `check` refuse the new token. */
		(void)tokenfile_remove(&out->dir, name);
		log_event(LOG_WARN,
		    "recording the token's expiry failed: "
		    "`check` will rely on the token alone",
		    "error", err.msg, (char *)NULL);
	}
}

/*
 * "expires_in": 0 is no lifetime: taken literally it would make the next
 * refresh due at once, every second for ever. Go's oauth2 reads it as
 * "unknown", and so does this: REFRESH_INTERVAL decides.
 */
static void
zero_lifetime_is_unknown(const struct config *cfg, struct refresh_output *out,
    struct exchange_result *res)
{
	char interval[24];

	if (!res->has_expires_in || res->expires_in != 0)
		return;
	res->has_expires_in = false;
	if (out->zero_lifetime_logged)
		return;
	out->zero_lifetime_logged = true;
	(void)snprintf(interval, sizeof interval, "%.1fs",
	    (double)cfg->refresh_interval_ms / 1000);
	log_event(LOG_WARN,
	    "the exchange server answered expires_in 0: "
	    "taking the token's lifetime as unknown, so REFRESH_INTERVAL "
	    "decides when to refresh (logged once)",
	    "refresh_interval", interval, (char *)NULL);
}

int
refresh_once(const struct config *cfg, const struct trust *trust,
    struct refresh_output *out, struct exchange_result *res, struct err *err)
{
	int rc;

	/* A failure before the exchange must not inherit the last answer's
	 * status and Retry-After. */
	res->http_status = 0;
	res->retry_after = 0;
	/* The kubelet rotates the token: read it anew for every exchange. */
	rc = tokenfile_read_subject(cfg->sa_token_path, subject, sizeof subject,
	    &subject_len, err);
	if (rc == 0) {
		log_secret(LOG_SECRET_SUBJECT, subject, subject_len);
		rc = exchange_token(cfg, trust, subject, subject_len,
		    event_deadline(cfg->exchange_timeout_ms), res, err);
	}
	if (rc == 0) {
		log_secret(LOG_SECRET_ACCESS, res->access_token,
		    res->access_token_len);
		zero_lifetime_is_unknown(cfg, out, res);
		rc = tokenfile_write(&out->dir, out->dir.name,
		    res->access_token, res->access_token_len,
		    cfg->token_file_mode, err);
	}
	if (rc == 0)
		record_expiry(cfg, out, res);
	return rc;
}

void
refresh_forget(struct exchange_result *res)
{
	log_secret(LOG_SECRET_SUBJECT, NULL, 0);
	log_secret(LOG_SECRET_ACCESS, NULL, 0);
	explicit_bzero(subject, subject_len);
	explicit_bzero(res->access_token, res->access_token_len);
	subject_len = 0;
	res->access_token_len = 0;
}

static void
wall_after(char *out, size_t cap, uint64_t seconds)
{
	log_format_time(out, cap, (int64_t)time(NULL) + (int64_t)seconds);
}

void
refresh_log_success(const struct config *cfg, const struct exchange_result *res,
    int64_t next_ms)
{
	char expires_in[24] = "unknown", expires_at[32] = "unknown";
	char next_in[24] = "", next_at[32] = "";

	if (res->has_expires_in) {
		(void)snprintf(expires_in, sizeof expires_in, "%llus",
		    (unsigned long long)res->expires_in);
		wall_after(expires_at, sizeof expires_at, res->expires_in);
	}
	if (next_ms >= 0) {
		(void)snprintf(next_in, sizeof next_in, "%.1fs",
		    (double)next_ms / 1000);
		wall_after(next_at, sizeof next_at, (uint64_t)next_ms / 1000);
	}
	if (next_ms < 0) {
		log_event(LOG_INFO, "token written", "path",
		    cfg->output_token_path, "expires_in", expires_in,
		    "expires_at", expires_at, "token_type", res->token_type,
		    "issued_token_type", res->issued_token_type, (char *)NULL);
		return;
	}
	log_event(LOG_INFO, "token written", "path", cfg->output_token_path,
	    "expires_in", expires_in, "expires_at", expires_at, "token_type",
	    res->token_type, "issued_token_type", res->issued_token_type,
	    "next_refresh_in", next_in, "next_refresh_at", next_at,
	    (char *)NULL);
}

static uint32_t
random32(void)
{
	uint32_t r;

	/* Jitter only spreads load: a clock-derived value will do. */
	if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
		r = (uint32_t)event_now() * 2654435761u;
	return r;
}

/* Reload the CA bundle when its file changed or `force`; keep the old on
 * failure, so that a bad ConfigMap update does not stop refreshes. */
static void
reload_trust(const struct config *cfg, struct trust *trust, int force)
{
	struct err err;
	char count[24];

	if (!cfg->url.tls ||
	    (!force && !trust_changed(trust, cfg->ca_bundle_path)))
		return;
	if (trust_load_file(trust, cfg->ca_bundle_path, &err) == -1) {
		log_event(LOG_ERROR,
		    "CA bundle reload failed: keeping the previous one",
		    "error", err.msg, (char *)NULL);
		return;
	}
	(void)snprintf(count, sizeof count, "%zu", trust->store.count);
	log_event(LOG_INFO, "CA bundle reloaded", "path", cfg->ca_bundle_path,
	    "trust_anchors", count, (char *)NULL);
}

/* What the loop knows of the token on disk; times on both clocks. */
struct loop_state {
	uint32_t attempt;    /* failures since the last success */
	bool has_expiry;     /* a token is on disk with a known expiry */
	bool has_token;      /* a token was written by this process */
	int64_t expiry;      /* event_now() ms */
	int64_t expiry_wall; /* event_wall_now() ms */
};

/* a + ms, saturating at EVENT_NEVER. */
static int64_t
later(int64_t a, uint64_t ms)
{
	return ms >= (uint64_t)(EVENT_NEVER - a) ? EVENT_NEVER :
	                                           a + (int64_t)ms;
}

/* How long the token on disk stays valid, by the clock that says less. */
static uint64_t
remaining_ms(const struct loop_state *st)
{
	int64_t left = st->expiry - event_now();
	int64_t wall_left = st->expiry_wall - event_wall_now();

	if (wall_left < left)
		left = wall_left;
	return left > 0 ? (uint64_t)left : 0;
}

static uint64_t
after_failure(const struct config *cfg, struct loop_state *st,
    const struct exchange_result *res, const struct err *err)
{
	char attempt[16], next[24];
	uint64_t retry_ms = 0, remaining = 0, delay;
	bool valid;

	if (st->attempt < UINT32_MAX)
		st->attempt++;
	if (res->http_status == 429 || res->http_status == 503)
		retry_ms = res->retry_after * 1000;
	if (st->has_expiry)
		remaining = remaining_ms(st);
	delay = schedule_after_failure(st->attempt, retry_ms, st->has_expiry,
	    remaining, cfg->refresh_interval_ms, random32());
	valid = st->has_token && (!st->has_expiry || remaining > 0);
	(void)snprintf(attempt, sizeof attempt, "%u", st->attempt);
	(void)snprintf(next, sizeof next, "%.1fs", (double)delay / 1000);
	log_event(valid ? LOG_WARN : LOG_ERROR,
	    !st->has_token ?
	        "token refresh failed: no token written yet" :
	        valid ?
	        "token refresh failed: the current token is still valid" :
	        "token refresh failed: the current token has expired",
	    "attempt", attempt, "error", err->msg, "kind",
	    err_kind_name(err->kind), "next_try_in", next, (char *)NULL);
	return delay;
}

static uint64_t
after_success(const struct config *cfg, struct loop_state *st,
    const struct exchange_result *res)
{
	uint64_t delay, life = res->expires_in * 1000;
	bool first = !st->has_token;

	st->attempt = 0;
	st->has_token = true;
	st->has_expiry = res->has_expires_in;
	st->expiry = later(event_now(), life);
	st->expiry_wall = later(event_wall_now(), life);
	delay = schedule_after_success(first, res->has_expires_in, life,
	    cfg->refresh_interval_ms, random32());
	refresh_log_success(cfg, res, (int64_t)delay);
	return delay;
}

/* On SIGHUP: say so when the token directory's path now names another
 * directory; writes go on into the one opened at start. */
static void
recheck_dir(const struct refresh_output *out)
{
	struct err err;
	int rc = tokendir_recheck(&out->dir, &err);

	if (rc == -1)
		log_event(LOG_ERROR, "the token directory is gone", "error",
		    err.msg, (char *)NULL);
	else if (rc == 1)
		log_event(LOG_WARN,
		    "the token directory's path no longer "
		    "names the directory opened at start (replaced or "
		    "moved): writing on into the one opened at start",
		    "path", out->dir.dir, (char *)NULL);
}

/*
 * Sleep until `delay` ms from now have passed on the boot clock or on the
 * wall clock, or the token's expiry on the wall clock has passed. Returns
 * 1 when SIGHUP asks for a refresh at once, else 0.
 */
static int
sleep_until_due(const struct loop_state *st, uint64_t delay)
{
	int64_t due = later(event_now(), delay);
	int64_t due_wall = later(event_wall_now(), delay);
	int64_t now, now_wall;
	uint64_t left;
	struct err err;

	while (!event_stop_requested()) {
		now = event_now();
		now_wall = event_wall_now();
		left = schedule_wait_left(now, due, now_wall, due_wall,
		    st->has_expiry, st->expiry_wall);
		if (left == 0)
			return 0;
		if (event_sleep(later(now, left), later(now_wall, left),
		        &err) == 0 ||
		    event_stop_requested())
			continue;
		if (err.kind != ERR_SYSTEM && event_take_reload()) {
			log_event(LOG_INFO,
			    "SIGHUP: refreshing now and "
			    "reloading the CA bundle",
			    (char *)NULL);
			return 1;
		}
		/* Never a tight loop, even if ppoll() keeps failing. */
		log_event(LOG_ERROR, "waiting failed", "error", err.msg,
		    (char *)NULL);
		sleep(SCHEDULE_MIN_MS / 1000);
	}
	return 0;
}

void
refresh_run(const struct config *cfg, struct trust *trust,
    struct refresh_output *out)
{
	static struct exchange_result res;
	struct loop_state st;
	struct err err;
	uint64_t delay = 0;
	int reload = 0;

	memset(&st, 0, sizeof st);
	while (!event_stop_requested()) {
		reload_trust(cfg, trust, reload);
		if (reload)
			recheck_dir(out);
		if (refresh_once(cfg, trust, out, &res, &err) == 0)
			delay = after_success(cfg, &st, &res);
		else if (err.kind != ERR_INTERRUPTED)
			delay = after_failure(cfg, &st, &res, &err);
		refresh_forget(&res);
		if (event_stop_requested())
			break;
		reload = sleep_until_due(&st, delay);
	}
	log_event(LOG_INFO, "stopping on a termination signal", (char *)NULL);
}
