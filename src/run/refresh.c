/*
 * refresh.c: from the ServiceAccount token on disk to the access token on
 * disk, once or for as long as the pod lives.
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "fmt.h"
#include "log.h"
#include "output.h"
#include "refresh.h"
#include "schedule.h"
#include "tokenfile.h"
#include "wipe.h"

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
	(void)fmt_snprintf(shown, sizeof shown, "%.*s%s",
	    (int)out->dir.prefix_len, out->dir.path, name);
	if (!res->has_expires_in) {
		if (tokenfile_remove(&out->dir, name) == -1)
			log_event(LOG_WARN,
			    "removing the stale expiry record failed", "path",
			    shown, "error", strerror(errno), (char *)NULL);
		return;
	}
	(void)fmt_snprintf(text, sizeof text, "%lld\n",
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
	(void)fmt_seconds(interval, sizeof interval, cfg->refresh_interval_ms);
	log_event(LOG_WARN,
	    "the exchange server answered expires_in 0: "
	    "taking the token's lifetime as unknown, so REFRESH_INTERVAL "
	    "decides when to refresh (logged once)",
	    "refresh_interval", interval, (char *)NULL);
}

static void
wall_after(char *out, size_t cap, uint64_t seconds)
{
	log_format_time(out, cap, (int64_t)time(NULL) + (int64_t)seconds);
}

/*
 * Log a successful refresh: where the token went, when it expires and,
 * when next_ms >= 0, when the next refresh is due. Never the token.
 */
static void
log_success(const struct config *cfg, const struct exchange_result *res,
    int64_t next_ms)
{
	char expires_in[24] = "unknown", expires_at[32] = "unknown";
	char next_in[24] = "", next_at[32] = "";

	if (res->has_expires_in) {
		(void)fmt_snprintf(expires_in, sizeof expires_in, "%llus",
		    (unsigned long long)res->expires_in);
		wall_after(expires_at, sizeof expires_at, res->expires_in);
	}
	if (next_ms >= 0) {
		(void)fmt_seconds(next_in, sizeof next_in, (uint64_t)next_ms);
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

/* Reload the CA bundle when its file changed, `force` or a reload is
 * pending; keep the old on failure, so that a bad ConfigMap update does
 * not stop refreshes. */
static void
reload_trust(struct refresh *r, bool force)
{
	const struct config *cfg = r->cfg;
	struct refresh_trust *shared = r->trust;
	struct trust *t = &shared->trust;
	struct err err;
	char count[24];

	/* Another token naming the same bundle may have reloaded it. */
	r->metrics->trust_anchors = t->store.count;
	if (!cfg->url.tls ||
	    (!force && !shared->pending &&
	        !trust_changed(t, cfg->ca_bundle_path)))
		return;
	/* Another job's exchange validates against these anchors: the
	 * last one to end reloads (finish()). */
	if (shared->in_flight > 0) {
		shared->pending = true;
		return;
	}
	shared->pending = false;
	if (trust_load_file(t, cfg->ca_bundle_path, &err) == -1) {
		r->metrics->bundle_reload_failures++;
		/* The old store reads anchors it has not used yet from a
		 * file that may have been broken in place. */
		log_event(LOG_ERROR,
		    trust_stale(t) ?
		        "CA bundle reload failed: keeping the previous one, "
		        "but its file was rewritten in place: only the "
		        "anchors already used still verify; fix the bundle" :
		        "CA bundle reload failed: keeping the previous one",
		    "error", err.msg, (char *)NULL);
		return;
	}
	r->metrics->trust_anchors = t->store.count;
	r->metrics->bundle_loaded = (int64_t)time(NULL);
	(void)fmt_snprintf(count, sizeof count, "%zu", t->store.count);
	log_event(LOG_INFO, "CA bundle reloaded", "path", cfg->ca_bundle_path,
	    "trust_anchors", count, (char *)NULL);
}

/* a + ms, saturating at EVENT_NEVER. */
static int64_t
later(int64_t a, uint64_t ms)
{
	return ms >= (uint64_t)(EVENT_NEVER - a) ? EVENT_NEVER :
	                                           a + (int64_t)ms;
}

/* How long the token on disk stays valid, by the clock that says less. */
static uint64_t
remaining_ms(const struct refresh_state *st)
{
	int64_t left = st->expiry - event_now();
	int64_t wall_left = st->expiry_wall - event_wall_now();

	if (wall_left < left)
		left = wall_left;
	return left > 0 ? (uint64_t)left : 0;
}

static uint64_t
after_failure(const struct config *cfg, struct refresh_state *st,
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
	(void)fmt_snprintf(attempt, sizeof attempt, "%u", st->attempt);
	(void)fmt_seconds(next, sizeof next, delay);
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
after_success(const struct config *cfg, struct refresh_state *st,
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
	log_success(cfg, res, (int64_t)delay);
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

int
refresh_init(struct refresh *r, size_t job, const struct config *cfg,
    const struct refresh_route *route, struct refresh_trust *trust,
    struct refresh_output *out, struct metrics *m, struct err *err)
{
	r->job = job;
	r->cfg = cfg;
	r->proxy = route->proxy;
	r->trust = trust;
	r->out = out;
	r->metrics = m;
	memset(&r->st, 0, sizeof r->st);
	r->busy = r->reload = false;
	r->due = event_now();
	r->due_wall = event_wall_now();
	r->subject_len = 0;
	exchange_init(&r->x, cfg, &trust->trust, route->proxy, route->resolver);
	m->trust_anchors = trust->trust.store.count;
	m->bundle_loaded = cfg->url.tls ? (int64_t)time(NULL) : 0;
	r->rendered_len = 0;
	return credentials_load(&r->creds, cfg, err);
}

/* How long until the next exchange is due; 0 when it is. */
static uint64_t
wait_left(const struct refresh *r)
{
	return schedule_wait_left(event_now(), r->due, event_wall_now(),
	    r->due_wall, r->st.has_expiry, r->st.expiry_wall);
}

void
refresh_want(const struct refresh *r, int *fd, short *events, int64_t *at,
    int64_t *wall_at)
{
	uint64_t left;

	*fd = -1;
	*events = 0;
	*wall_at = EVENT_NEVER;
	if (r->busy) {
		exchange_want(&r->x, fd, events, at);
		return;
	}
	left = r->reload ? 0 : wait_left(r);
	*at = later(event_now(), left);
	*wall_at = later(event_wall_now(), left);
}

/* Once the outcome is logged: wipe both tokens from memory and from the
 * logger (the loop wipes the dead frames). The access token lives on disk
 * only. */
static void
forget(struct refresh *r)
{
	log_secret(LOG_SECRET_SUBJECT, NULL, 0);
	log_secret(LOG_SECRET_ACCESS, NULL, 0);
	wipe(r->subject, r->subject_len);
	wipe(r->res.access_token, r->res.access_token_len);
	wipe(r->rendered, r->rendered_len);
	r->subject_len = r->rendered_len = 0;
	r->res.access_token_len = 0;
	credentials_forget(&r->creds);
}

/* Read the subject token anew and start its exchange. */
static int
begin(struct refresh *r, struct err *err)
{
	struct grant g;

	/* A failure before the exchange must not inherit the last answer's
	 * status and Retry-After. */
	r->res.http_status = 0;
	r->res.retry_after = 0;
	r->started = event_now();
	/* The kubelet rotates the token: read it anew for every exchange. */
	if (tokenfile_read_secret("the ServiceAccount token",
	        r->cfg->sa_token_path, r->subject, sizeof r->subject,
	        &r->subject_len, err) == -1)
		return -1;
	log_secret(LOG_SECRET_SUBJECT, r->subject, r->subject_len);
	if (credentials_grant(&r->creds, r->subject, r->subject_len, &g, err) ==
	    -1)
		return -1;
	return exchange_begin(&r->x, &g, credentials_tls(&r->creds),
	    event_deadline(r->cfg->exchange_timeout_ms), &r->res, err);
}

/* The exchange succeeded: the token on disk. */
static int
deliver(struct refresh *r, struct err *err)
{
	struct exchange_result *res = &r->res;

	struct output_token t;

	log_secret(LOG_SECRET_ACCESS, res->access_token, res->access_token_len);
	zero_lifetime_is_unknown(r->cfg, r->out, res);
	t.token = res->access_token;
	t.len = res->access_token_len;
	t.type = res->token_type;
	t.has_expiry = res->has_expires_in;
	t.expires_at = (int64_t)time(NULL) + (int64_t)res->expires_in;
	if (output_render(r->cfg->oauth.output_format, &t, r->rendered,
	        sizeof r->rendered, &r->rendered_len, err) == -1 ||
	    tokenfile_write(&r->out->dir, r->out->dir.name, r->rendered,
	        r->rendered_len, r->cfg->token_file_mode, err) == -1)
		return -1;
	record_expiry(r->cfg, r->out, res);
	return 0;
}

/* In flight or not, counted where the trust anchors are shared. */
static void
set_busy(struct refresh *r, bool busy)
{
	if (busy != r->busy) {
		if (busy)
			r->trust->in_flight++;
		else
			r->trust->in_flight--;
	}
	r->busy = busy;
}

/* Count the outcome and choose the next time. */
static void
finish(struct refresh *r, int rc, const struct err *err)
{
	struct metrics *m = r->metrics;
	int64_t now = event_now();
	uint64_t delay;

	metrics_exchange(m, (uint64_t)(now - r->started), r->res.http_status,
	    rc == 0 ? ERR_NONE : err->kind);
	if (rc == 0) {
		delay = after_success(r->cfg, &r->st, &r->res);
		m->last_success = (int64_t)time(NULL);
		m->token_expiry = r->res.has_expires_in ?
		    m->last_success + (int64_t)r->res.expires_in :
		    0;
	} else {
		delay = after_failure(r->cfg, &r->st, &r->res, err);
	}
	forget(r);
	exchange_end(&r->x);
	set_busy(r, false);
	if (r->trust->pending && r->trust->in_flight == 0)
		reload_trust(r, true);
	r->due = later(now, delay);
	r->due_wall = later(event_wall_now(), delay);
	m->next_refresh = (int64_t)time(NULL) + (int64_t)(delay / 1000);
}

static void
start(struct refresh *r)
{
	struct err err;

	reload_trust(r, r->reload);
	if (r->reload)
		recheck_dir(r->out);
	r->reload = false;
	set_busy(r, true);
	if (begin(r, &err) == -1)
		finish(r, -1, &err);
}

static void
step(struct refresh *r, short revents)
{
	struct err err;
	int rc;

	if (!r->busy) {
		if (r->reload || wait_left(r) == 0)
			start(r);
		return;
	}
	if ((rc = exchange_step(&r->x, revents, &err)) == EXCHANGE_MORE)
		return;
	if (rc == EXCHANGE_OK && deliver(r, &err) == 0)
		finish(r, 0, &err);
	else
		finish(r, -1, &err);
}

/* Lines logged from here on name the token, and its secrets its own. */
static void
enter(const struct refresh *r)
{
	log_job(r->job, r->cfg->name);
}

static void
leave(void)
{
	log_job(0, NULL);
}

void
refresh_step(struct refresh *r, short revents)
{
	enter(r);
	step(r, revents);
	leave();
}

void
refresh_reload(struct refresh *r)
{
	enter(r);
	log_event(LOG_INFO,
	    "SIGHUP: refreshing now and reloading the CA bundle", (char *)NULL);
	leave();
	r->reload = true;
}

void
refresh_stop(struct refresh *r)
{
	enter(r);
	if (r->busy)
		exchange_end(&r->x);
	set_busy(r, false);
	forget(r);
	credentials_wipe(&r->creds);
	leave();
}

static int
once(struct refresh *r, struct err *err)
{
	int64_t until;
	short events;
	int fd, rc, w;

	rc = begin(r, err);
	while (rc == EXCHANGE_MORE) {
		exchange_want(&r->x, &fd, &events, &until);
		if ((w = event_wait(fd, events, until, 0, err)) == -1)
			break;
		if (w == 0)
			events = 0;
		rc = exchange_step(&r->x, events, err);
	}
	exchange_close(&r->x);
	rc = rc == EXCHANGE_OK ? deliver(r, err) : -1;
	/* Logged while the tokens and the client's Basic credentials are
	 * still known to the logger: a server that quotes one back is
	 * redacted. */
	if (rc == 0)
		log_success(r->cfg, &r->res, -1);
	else
		log_event(LOG_ERROR, "token exchange failed", "error", err->msg,
		    "kind", err_kind_name(err->kind), (char *)NULL);
	exchange_end(&r->x);
	forget(r);
	return rc;
}

int
refresh_once(struct refresh *r, struct err *err)
{
	int rc;

	enter(r);
	rc = once(r, err);
	leave();
	return rc;
}
