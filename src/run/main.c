/*
 * main.c: subcommands and exit codes.
 *
 * Exit status: 0 success, 1 the exchange or the file write failed, 2 the
 * configuration (environment, CONFIG_PATH's file, CA bundle, command line)
 * is wrong.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "configfile.h"
#include "event.h"
#include "fmt.h"
#include "health.h"
#include "log.h"
#include "loop.h"
#include "proxy.h"
#include "refresh.h"
#include "resolver.h"
#include "tokenfile.h"
#include "trust.h"

#define EXIT_FAILED 1
#define EXIT_CONFIG 2

static const char version[] = "tokenbridge-sidecar " TB_VERSION "\n";
static const char usage[] =
    "usage: tokenbridge-sidecar [run | once | check | version | --help]\n\n"
    "Exchanges the pod's ServiceAccount token for an access token (RFC 8693)\n"
    "and writes it atomically to a file.\n\n"
    "  run       (the default) keep a fresh token until SIGTERM, then exit 0;\n"
    "            SIGHUP refreshes at once and reloads the CA bundle\n"
    "  once      one exchange; exit 0 on success, 1 on failure,\n"
    "            2 on bad configuration\n"
    "  check     probe: exit 0 when OUTPUT_TOKEN_PATH holds a token valid for\n"
    "            READY_MIN_VALIDITY (10s) more, else 1 with the reason\n"
    "  version   print the version\n\nEnvironment:\n"
    "  CONFIG_PATH         JSON file listing several tokens, each with the\n"
    "                      per-token settings below in lower case (README)\n"
    "  SA_TOKEN_PATH       ServiceAccount token to read (required)\n"
    "  OUTPUT_TOKEN_PATH   access token file to write (required)\n"
    "  EXCHANGE_URL        token exchange endpoint, https:// (required)\n"
    "  AUDIENCE            audience form field (optional)\n"
    "  REFRESH_INTERVAL    longest time between refreshes (default 1h)\n"
    "  CA_BUNDLE_PATH      PEM CA bundle (default SSL_CERT_FILE, then\n"
    "                      " CONFIG_DEFAULT_CA_BUNDLE ")\n"
    "  SUBJECT_TOKEN_TYPE  default " CONFIG_DEFAULT_SUBJECT_TOKEN_TYPE "\n"
    "  TOKEN_FILE_MODE     octal mode of the token file (default 0600)\n"
    "  EXCHANGE_TIMEOUT    deadline for one whole exchange (default 30s)\n"
    "  ALLOW_INSECURE_HTTP true to allow an http:// EXCHANGE_URL\n"
    "  HEALTH_ADDR         listen for /livez /readyz /metrics (:8081)\n"
    "  READY_MIN_VALIDITY  validity a token needs to count as ready (10s)\n"
    "  LOG_FORMAT          text (default) or json\n"
    "  LOG_LEVEL           debug, info (default), warn or error\n";

static const char *
env(const char *name)
{
	return getenv(name);
}

static void
log_error(const char *msg, const struct err *err)
{
	log_event(LOG_ERROR, msg, "error", err->msg, "kind",
	    err_kind_name(err->kind), (char *)NULL);
}

/*
 * The process holds two credentials (`check` reads one back): no core dump
 * may carry them to the node, and no other process of the same user may
 * read its memory. Done first thing, for every subcommand; the error is
 * logged once the log is set up. Returns 0, or the errno of the failure.
 * prlimit rather than setrlimit: the same prlimit64 call, without musl's
 * fallback for kernels older than 2.6.36, which stops every thread.
 */
static int
harden(void)
{
	static const struct rlimit no_core = { 0, 0 };

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1 ||
	    prlimit(0, RLIMIT_CORE, &no_core, NULL) == -1)
		return errno;
	return 0;
}

static void
log_hardening(int hardening_errno)
{
	if (hardening_errno != 0)
		log_event(LOG_WARN, "cannot disable core dumps", "error",
		    strerror(hardening_errno), (char *)NULL);
}

/* The URL without its query, which may carry an API key. */
static void
url_for_log(const struct config *cfg, char *out, size_t cap)
{
	(void)fmt_snprintf(out, cap, "%s://%s%.*s",
	    cfg->url.tls ? "https" : "http", cfg->url.authority,
	    (int)strcspn(cfg->url.target, "?"), cfg->url.target);
}

/* One line for each certificate of the bundle that is not an anchor, and
 * one for those that could not be read. */
static void
log_trust_notes(const struct trust *trust, const char *path)
{
	char number[24];
	size_t i;

	for (i = 0; i < trust->nnotes; i++)
		log_event(LOG_WARN,
		    "a certificate in the CA bundle is not "
		    "used as a CA for TLS servers",
		    "path", path, "certificate", trust->notes[i].subject,
		    "reason", trust->notes[i].why, (char *)NULL);
	if (trust->skipped <= trust->nnotes)
		return;
	(void)fmt_snprintf(number, sizeof number, "%zu",
	    trust->skipped - trust->nnotes);
	log_event(LOG_WARN,
	    "some certificates in the CA bundle could not be read and were "
	    "skipped",
	    "path", path, "skipped", number, (char *)NULL);
}

/*
 * What a subcommand works with: one of each per token (one in the
 * environment-only configuration, CONFIG_PATH's list otherwise), and one
 * trust store per distinct CA bundle. Large (the exchanges' buffers), so
 * it lives in static storage: untouched pages cost no memory.
 */
struct sidecar {
	size_t n;      /* tokens */
	size_t ntrust; /* distinct CA bundles loaded */
	struct config cfg[CONFIG_TOKENS_MAX];
	struct proxy proxy[CONFIG_TOKENS_MAX];
	bool use_proxy[CONFIG_TOKENS_MAX];
	size_t trust_of[CONFIG_TOKENS_MAX]; /* index into trust */
	struct refresh_trust trust[CONFIG_TOKENS_MAX];
	struct refresh_output out[CONFIG_TOKENS_MAX];
	struct metrics metrics[CONFIG_TOKENS_MAX];
	struct refresh job[CONFIG_TOKENS_MAX];
	struct check_buf check;
	struct health health;
	struct configfile file;
	struct resolver resolver;
	struct err resolver_err; /* why there is none */
};

static struct sidecar sidecar;

/*
 * Every token's configuration: CONFIG_PATH's list, or the environment
 * alone. The log is set up either way. Returns 0 with sc->n tokens, or -1
 * with err set and sc->n 0.
 */
static int
load(struct sidecar *sc, struct err *err)
{
	const char *path = getenv("CONFIG_PATH");
	struct err lerr;
	size_t i;

	sc->n = 1;
	if (path == NULL || *path == '\0') {
		if (config_load(&sc->cfg[0], env, err) == -1) {
			log_setup(sc->cfg[0].log_format, sc->cfg[0].log_level);
			sc->n = 0;
			return -1;
		}
	} else if (configfile_read(&sc->file, path, env, err) == -1) {
		sc->n = 0;
	} else {
		for (i = 0, sc->n = sc->file.count; i < sc->n; i++)
			if (configfile_config(&sc->file, i, &sc->cfg[i], err) ==
			    -1)
				sc->n = 0;
	}
	if (sc->n == 0) {
		/* LOG_FORMAT and LOG_LEVEL still decide how it is said. */
		if (config_load_logging(&sc->cfg[0], env, &lerr) == -1)
			*err = lerr;
		log_setup(sc->cfg[0].log_format, sc->cfg[0].log_level);
		return -1;
	}
	log_setup(sc->cfg[0].log_format, sc->cfg[0].log_level);
	for (i = 0; i < sc->n; i++)
		sc->metrics[i].name = sc->cfg[i].name;
	return 0;
}

/* Which proxy, if any, for token i, and the words for the start-up log. */
static int
choose_proxy(struct sidecar *sc, size_t i, const char **shown, const char **why,
    struct err *err)
{
	struct proxy *p = &sc->proxy[i];
	int r = proxy_select(p, &sc->cfg[i].url, env, err);
	const char *basic = p->authorization + sizeof "Basic " - 1;

	if (r == -1)
		return -1;
	sc->use_proxy[i] = r == 1;
	/* A proxy or token service may quote Proxy-Authorization back
	 * (a reason phrase, an error page): redacted like the tokens. */
	if (sc->use_proxy[i] && p->authorization[0] != '\0')
		log_secret(LOG_SECRET_PROXY, basic, strlen(basic));
	*shown = sc->use_proxy[i] ? p->shown : "none";
	*why = sc->use_proxy[i] ? p->variable : p->reason;
	if (sc->use_proxy[i] && p->tls && !sc->cfg[i].url.tls)
		return err_set(err, ERR_CONFIG,
		    "%s names an https:// proxy for an http:// EXCHANGE_URL: "
		    "use an http:// proxy, or an https:// EXCHANGE_URL",
		    p->variable);
	return 0;
}

/*
 * Token i's trust anchors: those of an earlier token naming the same CA
 * bundle, else the bundle loaded. Returns 0, or -1 with err set.
 */
static int
share_trust(struct sidecar *sc, size_t i, struct err *err)
{
	const struct config *cfg = &sc->cfg[i];
	struct trust *t;
	size_t j;

	for (j = 0; j < i; j++)
		if (sc->cfg[j].url.tls && cfg->url.tls &&
		    strcmp(sc->cfg[j].ca_bundle_path, cfg->ca_bundle_path) ==
		        0) {
			sc->trust_of[i] = sc->trust_of[j];
			return 0;
		}
	sc->trust_of[i] = sc->ntrust;
	t = &sc->trust[sc->ntrust++].trust;
	if (cfg->url.tls && trust_load_file(t, cfg->ca_bundle_path, err) == -1)
		return -1;
	log_trust_notes(t, cfg->ca_bundle_path);
	return 0;
}

/* Whether token a's file is token b's, or the record of b's expiry
 * beside it (which b's refresh writes, or removes). */
static int
clashes(const struct tokendir *a, const struct tokendir *b)
{
	char record[256];

	if (a->dev != b->dev || a->ino != b->ino)
		return 0;
	if (strcmp(a->name, b->name) == 0)
		return 1;
	return tokenfile_expiry_name(b->name, record, sizeof record) == 0 &&
	    strcmp(a->name, record) == 0;
}

/* Two tokens writing one file would overwrite each other. */
static int
distinct_outputs(const struct sidecar *sc, size_t i, struct err *err)
{
	const struct tokendir *a = &sc->out[i].dir, *b;
	size_t j;

	for (j = 0; j < i; j++) {
		b = &sc->out[j].dir;
		if (clashes(a, b) || clashes(b, a))
			return err_set(err, ERR_CONFIG,
			    "tokens %s and %s both write %s (a token, or the "
			    ".NAME.expiry record beside one): give each its "
			    "own output_token_path",
			    sc->cfg[j].name, sc->cfg[i].name,
			    sc->cfg[i].output_token_path);
	}
	return 0;
}

/* Token i's proxy, trust anchors and token directory; the exit status on
 * failure, else 0. Logged with the token's name. */
static int
start_token(struct sidecar *sc, size_t i, const char *mode)
{
	struct config *cfg = &sc->cfg[i];
	struct refresh_output *out = &sc->out[i];
	const char *proxy, *proxy_why;
	struct err err;
	char anchors[24], number[24], url[URL_AUTHORITY_MAX + URL_TARGET_MAX];
	int swept;

	url_for_log(cfg, url, sizeof url);
	if (choose_proxy(sc, i, &proxy, &proxy_why, &err) == -1) {
		log_error("invalid proxy configuration", &err);
		return EXIT_CONFIG;
	}
	if (!cfg->url.tls)
		log_event(LOG_WARN,
		    "EXCHANGE_URL uses plain http: the "
		    "ServiceAccount token is sent unencrypted unless a service "
		    "mesh encrypts it",
		    "url", url, (char *)NULL);
	if (share_trust(sc, i, &err) == -1) {
		log_error("invalid CA bundle", &err);
		return EXIT_CONFIG;
	}
	(void)fmt_snprintf(anchors, sizeof anchors, "%zu",
	    sc->trust[sc->trust_of[i]].trust.store.count);
	log_event(LOG_INFO, "tokenbridge-sidecar starting", "version",
	    TB_VERSION, "mode", mode, "url", url, "output",
	    cfg->output_token_path, "ca_bundle",
	    cfg->url.tls ? cfg->ca_bundle_path : "none", "trust_anchors",
	    anchors, "proxy", proxy,
	    sc->use_proxy[i] ? "proxy_from" : "proxy_why", proxy_why,
	    (char *)NULL);
	if (tokendir_open(&out->dir, cfg->output_token_path, &err) == -1 ||
	    distinct_outputs(sc, i, &err) == -1) {
		log_error("cannot use the token directory", &err);
		return err.kind == ERR_CONFIG ? EXIT_CONFIG : EXIT_FAILED;
	}
	if ((swept = tokenfile_sweep(&out->dir)) > 0) {
		(void)fmt_snprintf(number, sizeof number, "%d", swept);
		log_event(LOG_INFO,
		    "removed temporary files left by a killed process", "count",
		    number, (char *)NULL);
	}
	return 0;
}

/* Job i, with its client's keys; the exit status on failure. */
static int
init_job(struct sidecar *sc, size_t i)
{
	struct refresh_route route = { sc->use_proxy[i] ? &sc->proxy[i] : NULL,
		&sc->resolver };
	struct err err;

	if (refresh_init(&sc->job[i], i, &sc->cfg[i], &route,
	        &sc->trust[sc->trust_of[i]], &sc->out[i], &sc->metrics[i],
	        &err) == 0)
		return 0;
	log_error("invalid client credentials", &err);
	return err.kind == ERR_CONFIG || err.kind == ERR_FILE ? EXIT_CONFIG :
	                                                        EXIT_FAILED;
}

/*
 * The resolver process, forked before anything is read: the configuration
 * file, the keys and the tokens all come later, so its memory (a copy of
 * this process's at the fork) never holds a secret. A failure is kept in
 * sc->resolver_err and reported only if a name needs resolving
 * (settle_resolver()).
 */
static void
fork_resolver(struct sidecar *sc)
{
	(void)resolver_start(&sc->resolver, &sc->resolver_err);
}

/*
 * Once the first hops are known: with every one an address literal the
 * resolver has nothing to do and is stopped; with a name and no resolver,
 * the exit status. Returns 0 otherwise.
 */
static int
settle_resolver(struct sidecar *sc)
{
	const char *host;
	struct net_answer a;
	size_t i;

	for (i = 0; i < sc->n; i++) {
		host = sc->use_proxy[i] ? sc->proxy[i].addr.host :
		                          sc->cfg[i].url.host;
		if (resolver_literal(host, 0, &a))
			continue;
		if (sc->resolver.fd != -1)
			return 0;
		log_error("cannot resolve names", &sc->resolver_err);
		return EXIT_FAILED;
	}
	resolver_stop(&sc->resolver);
	log_event(LOG_DEBUG,
	    "every first hop is an address: no resolver process", (char *)NULL);
	return 0;
}

/* Configuration, then every token's start; the exit status on failure,
 * else 0. Every job is set up. */
static int
start(struct sidecar *sc, const char *mode, int hardening_errno)
{
	struct err err;
	size_t i;
	int rc = 0;

	if (load(sc, &err) == -1) {
		log_error("invalid configuration", &err);
		return EXIT_CONFIG;
	}
	/* Only the slots in use: the others' pages are never touched. */
	for (i = 0; i < sc->n; i++)
		sc->out[i].dir.fd = -1;
	log_hardening(hardening_errno);
	if (event_setup(&err) == -1) {
		log_error("cannot start", &err);
		return EXIT_FAILED;
	}
	for (i = 0; i < sc->n && rc == 0; i++) {
		log_job(i, sc->cfg[i].name);
		rc = start_token(sc, i, mode);
		log_job(0, NULL);
	}
	if (rc == 0)
		rc = settle_resolver(sc);
	for (i = 0; i < sc->n && rc == 0; i++) {
		log_job(i, sc->cfg[i].name);
		rc = init_job(sc, i);
		log_job(0, NULL);
	}
	return rc;
}

static void
finish(struct sidecar *sc)
{
	size_t i;

	for (i = 0; i < sc->n; i++) {
		log_job(i, NULL);
		log_secret(LOG_SECRET_PROXY, NULL, 0);
		proxy_wipe(&sc->proxy[i]);
		credentials_wipe(&sc->job[i].creds);
		tokendir_close(&sc->out[i].dir);
	}
	log_job(0, NULL);
	for (i = 0; i < sc->ntrust; i++)
		trust_free(&sc->trust[i].trust);
	resolver_stop(&sc->resolver);
}

/* Every token once, each whatever the others did. */
static int
cmd_once(int hardening_errno)
{
	struct sidecar *sc = &sidecar;
	struct err err;
	size_t i;
	int rc;

	fork_resolver(sc);
	if ((rc = start(sc, "once", hardening_errno)) == 0)
		for (i = 0; i < sc->n; i++)
			if (refresh_once(&sc->job[i], &err) == -1)
				rc = EXIT_FAILED;
	finish(sc);
	return rc;
}

/* Token i's file: 0 when usable, else EXIT_FAILED with the reason logged. */
static int
check_token(struct sidecar *sc, size_t i)
{
	const struct config *cfg = &sc->cfg[i];
	struct err err;
	int64_t expires_at;
	char when[24];
	int rc = EXIT_SUCCESS;

	log_job(i, cfg->name);
	if (check_token_file(&sc->check, cfg->output_token_path,
	        (int64_t)time(NULL),
	        (int64_t)(cfg->ready_min_validity_ms / 1000), &expires_at,
	        &err) == -1) {
		log_error("token not usable", &err);
		rc = EXIT_FAILED;
	} else {
		(void)fmt_snprintf(when, sizeof when, "%lld",
		    (long long)expires_at);
		log_event(LOG_DEBUG, "token usable", "path",
		    cfg->output_token_path, "expires_at",
		    expires_at ? when : "unknown", (char *)NULL);
	}
	log_job(0, NULL);
	return rc;
}

/* The probe: quick, quiet on success, one line per unusable token. */
static int
cmd_check(int hardening_errno)
{
	struct sidecar *sc = &sidecar;
	struct err err;
	size_t i;
	int rc = EXIT_SUCCESS;

	if (load(sc, &err) == -1) {
		log_error("invalid configuration", &err);
		return EXIT_CONFIG;
	}
	log_hardening(hardening_errno);
	for (i = 0; i < sc->n; i++)
		if (check_token(sc, i) != EXIT_SUCCESS)
			rc = EXIT_FAILED;
	return rc;
}

/* The listener, when HEALTH_ADDR is set; the exit status on failure. */
static int
listen_health(struct sidecar *sc)
{
	struct health_view view;
	struct err err;
	size_t i;

	memset(&view, 0, sizeof view);
	view.metrics = sc->metrics;
	view.ntokens = sc->n;
	for (i = 0; i < sc->n; i++)
		view.token_path[i] = sc->cfg[i].output_token_path;
	view.ready_margin_s = (int64_t)(sc->cfg[0].ready_min_validity_ms /
	    1000);
	view.check = &sc->check;
	if (health_listen(&sc->health, &sc->cfg[0].health, &view, &err) == -1) {
		log_error("cannot start the health listener", &err);
		return EXIT_CONFIG;
	}
	if (sc->health.fd != -1)
		log_event(LOG_INFO, "health and metrics listener ready",
		    "address", getenv("HEALTH_ADDR"), "paths",
		    "/livez /readyz /metrics", (char *)NULL);
	return 0;
}

static int
cmd_run(int hardening_errno)
{
	struct sidecar *sc = &sidecar;
	struct err err;
	int rc;

	sc->health.fd = -1;
	fork_resolver(sc);
	if ((rc = start(sc, "run", hardening_errno)) == 0 &&
	    (rc = listen_health(sc)) == 0 &&
	    loop_run(sc->job, sc->n, &sc->health, &sc->resolver, &err) == -1) {
		log_error("cannot go on", &err);
		rc = EXIT_FAILED;
	}
	health_close(&sc->health);
	finish(sc);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;
	int hardening_errno = harden();

	if (cmd == NULL)
		return cmd_run(hardening_errno);
	if (argc == 2) {
		if (strcmp(cmd, "run") == 0)
			return cmd_run(hardening_errno);
		if (strcmp(cmd, "once") == 0)
			return cmd_once(hardening_errno);
		if (strcmp(cmd, "check") == 0)
			return cmd_check(hardening_errno);
		if (strcmp(cmd, "version") == 0) {
			(void)log_write_all(STDOUT_FILENO, version,
			    sizeof version - 1); /* exit 0 as puts did */
			return EXIT_SUCCESS;
		}
		if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
		    strcmp(cmd, "help") == 0) {
			(void)log_write_all(STDOUT_FILENO, usage,
			    sizeof usage - 1);
			return EXIT_SUCCESS;
		}
	}
	(void)log_write_all(STDERR_FILENO, usage, sizeof usage - 1);
	return EXIT_CONFIG;
}
