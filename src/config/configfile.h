/*
 * configfile.h: several tokens from one sidecar (CONFIG_PATH).
 *
 * The file is one JSON object, {"tokens": [ {...}, ... ]}, read with the
 * strict reader (json.h). Each entry has a `name` ([a-z0-9-], unique: the
 * metrics label and the log lines' token=) and the per-token settings of
 * the environment, keyed by the variable's name in lower case
 * ("sa_token_path" for SA_TOKEN_PATH). Every value is a JSON string holding
 * what the variable would hold ("1h", "0640"), but allow_insecure_http,
 * a JSON boolean. Unknown keys, other types, null, duplicate keys and
 * duplicate names are refused.
 *
 * Each token's struct config is then read by config_load_from() through
 * a lookup over its entry: every check and message of the environment is
 * shared. Process-wide settings (HEALTH_ADDR, READY_MIN_VALIDITY,
 * LOG_FORMAT, LOG_LEVEL, SSL_CERT_FILE, the proxy variables) stay in the
 * environment, and a per-token variable set there as well is refused:
 * neither would win.
 */
#ifndef TB_CONFIGFILE_H
#define TB_CONFIGFILE_H

#include <stddef.h>

#include "config.h"
#include "err.h"
#include "json.h"

#define CONFIGFILE_MAX 65536u /* bytes of the file: 64 KiB */
#define CONFIGFILE_NAME_MAX 63
#define CONFIGFILE_KEYS 24     /* per-token settings, `name` aside */
#define CONFIGFILE_VALUES 1024 /* JSON values: room for 8 full entries */

/* One entry of "tokens"; values point into the file's arena. */
struct configfile_token {
	const struct configfile *file;
	char name[CONFIGFILE_NAME_MAX + 1];
	const char *value[CONFIGFILE_KEYS]; /* NULL: the key is absent */
};

/* The file read and checked, owned by the caller (large: keep static). */
struct configfile {
	const char *path;     /* CONFIG_PATH, for messages */
	config_lookup_fn env; /* the process-wide settings */
	size_t count;
	struct configfile_token token[CONFIG_TOKENS_MAX];
	char text[CONFIGFILE_MAX + 1];
	char arena[CONFIGFILE_MAX + 1]; /* decoded strings, NUL-ended */
	jsmntok_t tok[CONFIGFILE_VALUES];
};

/*
 * Read the file at `path` and configfile_parse() it. Returns 0, or -1 with
 * err set (ERR_CONFIG) naming CONFIG_PATH and what is wrong.
 */
int configfile_read(struct configfile *f, const char *path,
    config_lookup_fn env, struct err *err);

/*
 * Check text[0..len) (`path` names it in messages) and keep what it says
 * in `f`; `env` is the environment, refused when it sets a per-token
 * variable too. Returns 0, or -1 with err set (ERR_CONFIG).
 */
int configfile_parse(struct configfile *f, const char *path, const char *text,
    size_t len, config_lookup_fn env, struct err *err);

/*
 * config_load_from() for token i (< f->count), cfg->name its name; the
 * strings of cfg point into f. A message names CONFIG_PATH, the token and
 * the key in lower case. Returns 0, or -1 with err set (ERR_CONFIG).
 */
int configfile_config(const struct configfile *f, size_t i, struct config *cfg,
    struct err *err);

#endif
