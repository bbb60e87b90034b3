/*
 * main.c: subcommands and exit codes.
 *
 * Exit status: 0 success, 1 the exchange or the file write failed, 2 the
 * configuration (environment, CA bundle, command line) is wrong.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>

#include "check.h"
#include "config.h"
#include "event.h"
#include "health.h"
#include "log.h"
#include "loop.h"
#include "proxy.h"
#include "refresh.h"
#include "tokenfile.h"
#include "trust.h"

#define EXIT_FAILED 1
#define EXIT_CONFIG 2

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
 */
static int
harden(void)
{
	static const struct rlimit no_core = { 0, 0 };

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1 ||
	    setrlimit(RLIMIT_CORE, &no_core) == -1)
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
	(void)snprintf(out, cap, "%s://%s%.*s", cfg->url.tls ? "https" : "http",
	    cfg->url.authority, (int)strcspn(cfg->url.target, "?"),
	    cfg->url.target);
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
	(void)snprintf(number, sizeof number, "%zu",
	    trust->skipped - trust->nnotes);
	log_event(LOG_WARN,
	    "some certificates in the CA bundle could not be read and were "
	    "skipped",
	    "path", path, "skipped", number, (char *)NULL);
}

/*
 * What a subcommand works with. Large (the exchange's buffers), so it
 * lives in static storage: untouched pages cost no memory.
 */
struct sidecar {
	struct config cfg;
	struct trust trust;
	struct refresh_output out;
	struct proxy proxy;
	bool use_proxy;
	struct metrics metrics;
	struct check_buf check;
	struct health health;
	struct refresh job;
};

static struct sidecar sidecar;

/* Which proxy, if any, and the words for the start-up log. */
static int
choose_proxy(struct sidecar *sc, const char **shown, const char **why,
    struct err *err)
{
	int r = proxy_select(&sc->proxy, &sc->cfg.url, env, err);
	const char *basic = sc->proxy.authorization + sizeof "Basic " - 1;

	if (r == -1)
		return -1;
	sc->use_proxy = r == 1;
	/* A proxy or token service may quote Proxy-Authorization back
	 * (a reason phrase, an error page): redacted like the tokens. */
	if (sc->use_proxy && sc->proxy.authorization[0] != '\0')
		log_secret(LOG_SECRET_PROXY, basic, strlen(basic));
	*shown = sc->use_proxy ? sc->proxy.shown : "none";
	*why = sc->use_proxy ? sc->proxy.variable : sc->proxy.reason;
	if (sc->use_proxy && sc->proxy.tls && !sc->cfg.url.tls)
		return err_set(err, ERR_CONFIG,
		    "%s names an https:// proxy for an http:// EXCHANGE_URL: "
		    "use an http:// proxy, or an https:// EXCHANGE_URL",
		    sc->proxy.variable);
	return 0;
}

/* Configuration, proxy, trust anchors and the token directory; the exit
 * status on failure, else 0. */
static int
start(struct sidecar *sc, const char *mode, int hardening_errno)
{
	struct config *cfg = &sc->cfg;
	struct trust *trust = &sc->trust;
	struct refresh_output *out = &sc->out;
	const char *proxy, *proxy_why;
	struct err err;
	char anchors[24], number[24], url[URL_AUTHORITY_MAX + URL_TARGET_MAX];
	int swept;

	if (config_load(cfg, env, &err) == -1) {
		log_setup(cfg->log_format, cfg->log_level);
		log_error("invalid configuration", &err);
		return EXIT_CONFIG;
	}
	log_setup(cfg->log_format, cfg->log_level);
	log_hardening(hardening_errno);
	url_for_log(cfg, url, sizeof url);
	if (choose_proxy(sc, &proxy, &proxy_why, &err) == -1) {
		log_error("invalid proxy configuration", &err);
		return EXIT_CONFIG;
	}
	if (event_setup(&err) == -1) {
		log_error("cannot start", &err);
		return EXIT_FAILED;
	}
	if (!cfg->url.tls)
		log_event(LOG_WARN,
		    "EXCHANGE_URL uses plain http: the "
		    "ServiceAccount token is sent unencrypted unless a service "
		    "mesh encrypts it",
		    "url", url, (char *)NULL);
	if (cfg->url.tls &&
	    trust_load_file(trust, cfg->ca_bundle_path, &err) == -1) {
		log_error("invalid CA bundle", &err);
		return EXIT_CONFIG;
	}
	(void)snprintf(anchors, sizeof anchors, "%zu", trust->store.count);
	log_event(LOG_INFO, "tokenbridge-sidecar starting", "version",
	    TB_VERSION, "mode", mode, "url", url, "output",
	    cfg->output_token_path, "ca_bundle",
	    cfg->url.tls ? cfg->ca_bundle_path : "none", "trust_anchors",
	    anchors, "proxy", proxy, sc->use_proxy ? "proxy_from" : "proxy_why",
	    proxy_why, (char *)NULL);
	log_trust_notes(trust, cfg->ca_bundle_path);
	if (tokendir_open(&out->dir, cfg->output_token_path, &err) == -1) {
		log_error("cannot use the token directory", &err);
		return err.kind == ERR_CONFIG ? EXIT_CONFIG : EXIT_FAILED;
	}
	if ((swept = tokenfile_sweep(&out->dir)) > 0) {
		(void)snprintf(number, sizeof number, "%d", swept);
		log_event(LOG_INFO,
		    "removed temporary files left by a killed process", "count",
		    number, (char *)NULL);
	}
	return 0;
}

static void
finish(struct sidecar *sc)
{
	log_secret(LOG_SECRET_PROXY, NULL, 0);
	proxy_wipe(&sc->proxy);
	credentials_wipe(&sc->job.creds);
	tokendir_close(&sc->out.dir);
	trust_free(&sc->trust);
}

/* The job, with the client's keys; the exit status on failure. */
static int
init_job(struct sidecar *sc)
{
	struct err err;

	if (refresh_init(&sc->job, &sc->cfg, sc->use_proxy ? &sc->proxy : NULL,
	        &sc->trust, &sc->out, &sc->metrics, &err) == 0)
		return 0;
	log_error("invalid client credentials", &err);
	return err.kind == ERR_CONFIG || err.kind == ERR_FILE ? EXIT_CONFIG :
	                                                        EXIT_FAILED;
}

static int
cmd_once(int hardening_errno)
{
	struct sidecar *sc = &sidecar;
	struct err err;
	int rc;

	sc->out.dir.fd = -1;
	if ((rc = start(sc, "once", hardening_errno)) == 0 &&
	    (rc = init_job(sc)) == 0 && refresh_once(&sc->job, &err) == -1)
		rc = EXIT_FAILED;
	finish(sc);
	return rc;
}

/* The probe: quick, quiet on success, one line on failure. */
static int
cmd_check(int hardening_errno)
{
	struct sidecar *sc = &sidecar;
	struct config *cfg = &sc->cfg;
	struct err err;
	int64_t expires_at;
	char when[24];

	if (config_load(cfg, env, &err) == -1) {
		log_setup(cfg->log_format, cfg->log_level);
		log_error("invalid configuration", &err);
		return EXIT_CONFIG;
	}
	log_setup(cfg->log_format, cfg->log_level);
	log_hardening(hardening_errno);
	if (check_token_file(&sc->check, cfg->output_token_path,
	        (int64_t)time(NULL),
	        (int64_t)(cfg->ready_min_validity_ms / 1000), &expires_at,
	        &err) == -1) {
		log_error("token not usable", &err);
		return EXIT_FAILED;
	}
	(void)snprintf(when, sizeof when, "%lld", (long long)expires_at);
	log_event(LOG_DEBUG, "token usable", "path", cfg->output_token_path,
	    "expires_at", expires_at ? when : "unknown", (char *)NULL);
	return EXIT_SUCCESS;
}

/* The listener, when HEALTH_ADDR is set; the exit status on failure. */
static int
listen_health(struct sidecar *sc)
{
	struct health_view view;
	struct err err;

	view.metrics = &sc->metrics;
	view.token_path = sc->cfg.output_token_path;
	view.ready_margin_s = (int64_t)(sc->cfg.ready_min_validity_ms / 1000);
	view.check = &sc->check;
	if (health_listen(&sc->health, &sc->cfg.health, &view, &err) == -1) {
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

	sc->out.dir.fd = -1;
	sc->health.fd = -1;
	if ((rc = start(sc, "run", hardening_errno)) == 0 &&
	    (rc = init_job(sc)) == 0 && (rc = listen_health(sc)) == 0) {
		if (loop_run(&sc->job, &sc->health, &err) == -1) {
			log_error("cannot start", &err);
			rc = EXIT_FAILED;
		}
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
			puts("tokenbridge-sidecar " TB_VERSION);
			return EXIT_SUCCESS;
		}
		if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
		    strcmp(cmd, "help") == 0) {
			(void)fputs(usage, stdout);
			return EXIT_SUCCESS;
		}
	}
	(void)fputs(usage, stderr);
	return EXIT_CONFIG;
}
