/*
 * config.h: the environment, read once into one validated struct config.
 *
 * The variable names are the original Go sidecar's (SA_TOKEN_PATH,
 * OUTPUT_TOKEN_PATH, EXCHANGE_URL, REFRESH_INTERVAL, AUDIENCE) plus ours.
 * Every bad value is refused with one sentence naming the variable, what is
 * wrong, and what is accepted. String fields point into the environment.
 */
#ifndef TB_CONFIG_H
#define TB_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "err.h"
#include "grant.h"
#include "log.h"
#include "url.h"

/* AUDIENCE and SUBJECT_TOKEN_TYPE: far beyond any real value; the request
 * buffer is sized so that any accepted value fits. */
#define CONFIG_FIELD_MAX 2048

/* Tokens one sidecar serves (CONFIG_PATH): every job's buffers are
 * static, so the bound is fixed at build time. */
#define CONFIG_TOKENS_MAX 8

#define CONFIG_DEFAULT_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
#define CONFIG_DEFAULT_SUBJECT_TOKEN_TYPE \
	"urn:ietf:params:oauth:token-type:id_token"

/* Where the health and metrics listener binds (HEALTH_ADDR). */
struct config_listen {
	bool set; /* unset: no listener */
	bool any; /* ":PORT": every address, IPv6 and IPv4 */
	struct sockaddr_storage addr;
	socklen_t len;
};

/* OUTPUT_FORMAT: what the token file holds. */
enum output_format {
	OUTPUT_TOKEN = 0, /* the raw access token (the default) */
	OUTPUT_JSON       /* {"access_token","token_type","expires_at"} */
};

/*
 * The token request's shape and client authentication (config_oauth()).
 * The secrets themselves are files, read where they are used: only their
 * paths are configuration.
 */
struct config_oauth {
	enum grant_type grant_type;  /* GRANT_TYPE */
	enum grant_auth client_auth; /* CLIENT_AUTH */
	const char *client_id;       /* NULL when unset */
	const char *client_secret_path;
	const char *client_key_path; /* private_key_jwt's signing key */
	const char *client_key_id;   /* its JWS kid, or NULL */
	const char *tls_client_cert_path;
	const char *tls_client_key_path;
	const char *scope;
	const char *resource;
	const char *requested_token_type;
	const char *actor_token_path;
	const char *actor_token_type;
	enum output_format output_format; /* OUTPUT_FORMAT */
};

struct config {
	const char *name; /* the token's, from CONFIG_PATH; NULL without */
	const char *sa_token_path;
	const char *output_token_path;
	const char *exchange_url; /* as given, for messages */
	struct url url;
	const char *audience; /* NULL when unset */
	const char *subject_token_type;
	const char *ca_bundle_path; /* NULL for plain http */
	uint64_t refresh_interval_ms;
	uint64_t exchange_timeout_ms;
	uint64_t ready_min_validity_ms; /* READY_MIN_VALIDITY, for check too */
	struct config_listen health;
	unsigned token_file_mode;
	bool allow_insecure_http;
	enum log_format log_format;
	enum log_level log_level;
	struct config_oauth oauth;
};

/* Looks a variable up; NULL when unset. getenv() in the program. */
typedef const char *(*config_lookup_fn)(const char *name);

/*
 * A lookup with a context: one token of the configuration file
 * (configfile.h), whose settings come from its JSON object and the
 * process-wide ones from the environment.
 */
struct config_source {
	const char *(*get)(const void *ctx, const char *name);
	const void *ctx;
};

/*
 * Read and validate every variable through `lookup`. Empty values count as
 * unset. Returns 0, or -1 with err set (kind ERR_CONFIG).
 */
int config_load(struct config *cfg, config_lookup_fn lookup, struct err *err);

/* The same through a lookup with a context; cfg->name is left NULL. */
int config_load_from(struct config *cfg, const struct config_source *src,
    struct err *err);

/*
 * Only LOG_FORMAT and LOG_LEVEL, the rest of cfg zeroed: the log set up as
 * asked when the configuration file cannot be read. Returns 0, or -1 with
 * err set (kind ERR_CONFIG).
 */
int config_load_logging(struct config *cfg, config_lookup_fn lookup,
    struct err *err);

/*
 * Parse a Go duration ("1h", "1h30m", "1.5h", "90s", "500ms", "2us",
 * "3ns", "4µs") into nanoseconds, as Go's time.ParseDuration reads them.
 * A minus sign, a missing unit (except for "0"), or a value past Go's
 * int64 range is refused. Returns 0 or -1 with err set (ERR_CONFIG);
 * `name` is the variable named in the message.
 */
int duration_parse(const char *text, const char *name, uint64_t *ns,
    struct err *err);

#endif
