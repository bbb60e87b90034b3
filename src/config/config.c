/*
 * config.c: the environment, read once into one validated struct config.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "config.h"

#define NS_PER_MS 1000000ull
#define CONFIG_PATH_MAX 4096
#define GO_DURATION_MAX ((uint64_t)INT64_MAX)

static const struct unit {
	const char *name;
	uint64_t ns;
} units[] = {
	{ "ns", 1 },
	{ "us", 1000 },
	{ "\xc2\xb5s", 1000 },
	{ "\xce\xbcs", 1000 },
	{ "ms", 1000000 },
	{ "s", 1000000000ull },
	{ "m", 60000000000ull },
	{ "h", 3600000000000ull },
};

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Match the longest unit at *p; NULL when none. */
static const struct unit *
unit_at(const char **p)
{
	const struct unit *best = NULL;
	size_t i, n, best_n = 0;

	for (i = 0; i < sizeof units / sizeof units[0]; i++) {
		n = strlen(units[i].name);
		if (n > best_n && strncmp(*p, units[i].name, n) == 0) {
			best = &units[i];
			best_n = n;
		}
	}
	*p += best_n;
	return best;
}

static int
duration_error(struct err *err, const char *name, const char *text,
    const char *why)
{
	return err_set(err, ERR_CONFIG,
	    "%s=\"%.40s\" is not a valid duration: %s (use Go syntax such as "
	    "1h, 30m, 1h30m, 1.5h, 90s or 500ms)",
	    name, text, why);
}

int
duration_parse(const char *text, const char *name, uint64_t *ns,
    struct err *err)
{
	const char *p = text;
	const struct unit *u;
	unsigned __int128 total = 0, whole, frac, scale, part;
	int digits;

	if (*p == '-')
		return duration_error(err, name, text, "it is negative");
	if (*p == '+')
		p++;
	if (strcmp(p, "0") == 0) {
		*ns = 0;
		return 0;
	}
	if (*p == '\0')
		return duration_error(err, name, text, "it is empty");
	while (*p != '\0') {
		whole = frac = 0;
		scale = 1;
		digits = 0;
		for (; is_digit(*p); p++, digits++) {
			whole = whole * 10 + (unsigned)(*p - '0');
			if (whole > GO_DURATION_MAX)
				return duration_error(err, name, text,
				    "it is too large");
		}
		if (*p == '.') {
			for (p++; is_digit(*p); p++, digits++) {
				/* Digits past ns precision change nothing. */
				if (scale < 1000000000000000000ull) {
					frac = frac * 10 + (unsigned)(*p - '0');
					scale *= 10;
				}
			}
		}
		if (digits == 0)
			return duration_error(err, name, text,
			    "a number is missing");
		if ((u = unit_at(&p)) == NULL)
			return duration_error(err, name, text,
			    *p == '\0' ? "a unit is missing" :
			                 "the unit is unknown");
		part = whole * u->ns + frac * u->ns / scale;
		total += part;
		if (total > GO_DURATION_MAX)
			return duration_error(err, name, text,
			    "it is too large");
	}
	*ns = (uint64_t)total;
	return 0;
}

/* Empty values count as unset, as in the original sidecar. */
static const char *
lookup_set(const struct config_source *lookup, const char *name)
{
	const char *v = lookup->get(lookup->ctx, name);

	return v != NULL && *v != '\0' ? v : NULL;
}

static int
required(const struct config_source *lookup, const char *name, const char **out,
    struct err *err)
{
	if ((*out = lookup_set(lookup, name)) == NULL)
		return err_set(err, ERR_CONFIG, "%s is not set: it is required",
		    name);
	return 0;
}

static int
duration_ms(const struct config_source *lookup, const char *name,
    const char *def, uint64_t *ms, struct err *err)
{
	const char *v = lookup_set(lookup, name);
	uint64_t ns;

	if (v == NULL)
		v = def;
	if (duration_parse(v, name, &ns, err) == -1)
		return -1;
	if (ns < NS_PER_MS)
		return err_set(err, ERR_CONFIG,
		    "%s=\"%.40s\" is too short: it must be at least 1ms "
		    "(for example 30s or 1h)",
		    name, v);
	*ms = ns / NS_PER_MS;
	return 0;
}

/* The values Go's strconv.ParseBool takes, so settings carry over. */
static int
boolean(const struct config_source *lookup, const char *name, bool *out,
    struct err *err)
{
	static const char *const yes[] = { "1", "t", "T", "true", "TRUE",
		"True" };
	static const char *const no[] = { "0", "f", "F", "false", "FALSE",
		"False" };
	const char *v = lookup_set(lookup, name);
	size_t i;

	*out = false;
	if (v == NULL)
		return 0;
	for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strcmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(v, no[i]) == 0)
			return 0;
	}
	return err_set(err, ERR_CONFIG,
	    "%s=\"%.20s\" is not a boolean: use true or false", name, v);
}

static int
file_mode(const struct config_source *lookup, unsigned *mode, struct err *err)
{
	const char *v = lookup_set(lookup, "TOKEN_FILE_MODE"), *p;
	unsigned m = 0;

	*mode = 0600;
	if (v == NULL)
		return 0;
	for (p = v; *p != '\0'; p++) {
		if (*p < '0' || *p > '7' || p - v >= 4)
			return err_set(err, ERR_CONFIG,
			    "TOKEN_FILE_MODE=\"%.20s\" is not an octal file "
			    "mode: use three or four octal digits such as "
			    "0600 or 0640",
			    v);
		m = m * 8 + (unsigned)(*p - '0');
	}
	if (m > 0777)
		return err_set(err, ERR_CONFIG,
		    "TOKEN_FILE_MODE=%s sets setuid, setgid or sticky bits: "
		    "use permission bits only, such as 0600 or 0640",
		    v);
	if ((m & 0400) == 0)
		return err_set(err, ERR_CONFIG,
		    "TOKEN_FILE_MODE=%s does not let the owner read the "
		    "token: include 0400, as in 0600 or 0640",
		    v);
	if ((m & 0022) != 0)
		return err_set(err, ERR_CONFIG,
		    "TOKEN_FILE_MODE=%s lets the group or others write the "
		    "token: use 0600, 0640 or 0644",
		    v);
	*mode = m;
	return 0;
}

static int
choice(const struct config_source *lookup, const char *name,
    const char *const *names, size_t count, int def, int *out,
    const char *accepted, struct err *err)
{
	const char *v = lookup_set(lookup, name);
	size_t i;

	*out = def;
	if (v == NULL)
		return 0;
	for (i = 0; i < count; i++)
		if (strcmp(v, names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	return err_set(err, ERR_CONFIG, "%s=\"%.20s\" is not known: use %s",
	    name, v, accepted);
}

static int
logging(const struct config_source *lookup, struct config *cfg, struct err *err)
{
	static const char *const formats[] = { "text", "json" };
	static const char *const levels[] = { "debug", "info", "warn",
		"error" };
	int f, l;

	if (choice(lookup, "LOG_FORMAT", formats, 2, LOG_TEXT, &f,
	        "text or json", err) == -1 ||
	    choice(lookup, "LOG_LEVEL", levels, 4, LOG_INFO, &l,
	        "debug, info, warn or error", err) == -1)
		return -1;
	cfg->log_format = (enum log_format)f;
	cfg->log_level = (enum log_level)l;
	return 0;
}

static int
exchange_url(const struct config_source *lookup, struct config *cfg,
    struct err *err)
{
	if (required(lookup, "EXCHANGE_URL", &cfg->exchange_url, err) == -1)
		return -1;
	if (url_parse(&cfg->url, cfg->exchange_url, err) == -1)
		return err_wrap(err, "EXCHANGE_URL");
	if (boolean(lookup, "ALLOW_INSECURE_HTTP", &cfg->allow_insecure_http,
	        err) == -1)
		return -1;
	if (!cfg->url.tls && !cfg->allow_insecure_http)
		return err_set(err, ERR_CONFIG,
		    "EXCHANGE_URL uses http://, which sends the "
		    "ServiceAccount token unencrypted: use https://, or set "
		    "ALLOW_INSECURE_HTTP=true where a service mesh encrypts "
		    "the traffic");
	return 0;
}

static void
ca_bundle(const struct config_source *lookup, struct config *cfg)
{
	cfg->ca_bundle_path = NULL;
	if (!cfg->url.tls)
		return;
	cfg->ca_bundle_path = lookup_set(lookup, "CA_BUNDLE_PATH");
	if (cfg->ca_bundle_path == NULL)
		cfg->ca_bundle_path = lookup_set(lookup, "SSL_CERT_FILE");
	if (cfg->ca_bundle_path == NULL)
		cfg->ca_bundle_path = CONFIG_DEFAULT_CA_BUNDLE;
}

/* Form fields go into a bounded request: refuse at start what cannot fit. */
static int
bounded(const char *name, const char *value, size_t max, struct err *err)
{
	if (value != NULL && strlen(value) > max)
		return err_set(err, ERR_CONFIG, "%s is longer than %zu bytes",
		    name, max);
	return 0;
}

static int
file_path(const char *name, const char *value, struct err *err)
{
	size_t n = strlen(value);

	if (n >= CONFIG_PATH_MAX)
		return err_set(err, ERR_CONFIG, "%s is longer than %d bytes",
		    name, CONFIG_PATH_MAX - 1);
	if (value[n - 1] == '/')
		return err_set(err, ERR_CONFIG,
		    "%s=\"%.80s\" names a "
		    "directory: give the path of the file itself",
		    name, value);
	return 0;
}

static int
bad_listen(const char *v, const char *why, struct err *err)
{
	return err_set(err, ERR_CONFIG,
	    "HEALTH_ADDR=\"%.64s\" %s: use :PORT (every address), "
	    "IPv4:PORT or [IPv6]:PORT, such as :8081, 127.0.0.1:8081 or "
	    "[::]:8081",
	    v, why);
}

/* HEALTH_ADDR as Go's net.Listen reads an address, numeric hosts only. */
static int
health_addr(const struct config_source *lookup, struct config_listen *l,
    struct err *err)
{
	const char *v = lookup_set(lookup, "HEALTH_ADDR"), *colon;
	char host[INET6_ADDRSTRLEN + 1];
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&l->addr;
	struct sockaddr_in *sin = (struct sockaddr_in *)&l->addr;
	unsigned long port = 0;
	size_t hlen;
	const char *p;

	memset(l, 0, sizeof *l);
	if (v == NULL)
		return 0;
	if ((colon = strrchr(v, ':')) == NULL)
		return bad_listen(v, "has no port", err);
	for (p = colon + 1; *p >= '0' && *p <= '9' && port <= 65535; p++)
		port = port * 10 + (unsigned long)(*p - '0');
	if (p == colon + 1 || *p != '\0' || port == 0 || port > 65535)
		return bad_listen(v, "has no port from 1 to 65535", err);
	hlen = (size_t)(colon - v);
	if (hlen >= 2 && v[0] == '[' && v[hlen - 1] == ']') {
		v++;
		hlen -= 2;
	}
	if (hlen >= sizeof host)
		return bad_listen(v, "has a host that is not an IP address",
		    err);
	memcpy(host, v, hlen);
	host[hlen] = '\0';
	l->set = true;
	l->any = hlen == 0;
	if (l->any || inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		l->len = sizeof *sin6;
		return 0;
	}
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		l->len = sizeof *sin;
		return 0;
	}
	return bad_listen(lookup_set(lookup, "HEALTH_ADDR"),
	    "has a host that is not an IP address", err);
}

/* ---- client authentication and grant shapes (issue 13) ---- */

static int
oauth_choices(const struct config_source *lookup, struct config_oauth *o,
    struct err *err)
{
	static const char *const grants[] = { "token-exchange",
		"client-assertion", "jwt-bearer" };
	static const char *const auths[] = { "none", "client_secret_basic",
		"client_secret_post", "private_key_jwt", "tls_client_auth" };
	static const char *const formats[] = { "token", "json" };
	int g, a, f;

	if (choice(lookup, "GRANT_TYPE", grants, 3, GRANT_TOKEN_EXCHANGE, &g,
	        "token-exchange, client-assertion or jwt-bearer", err) == -1 ||
	    choice(lookup, "CLIENT_AUTH", auths, 5,
	        o->client_secret_path != NULL ? GRANT_AUTH_SECRET_BASIC :
	                                        GRANT_AUTH_NONE,
	        &a,
	        "none, client_secret_basic, client_secret_post, "
	        "private_key_jwt or tls_client_auth",
	        err) == -1 ||
	    choice(lookup, "OUTPUT_FORMAT", formats, 2, OUTPUT_TOKEN, &f,
	        "token or json", err) == -1)
		return -1;
	o->grant_type = (enum grant_type)g;
	o->client_auth = (enum grant_auth)a;
	o->output_format = (enum output_format)f;
	return 0;
}

/* `name` is set only when `ok`; else say why, naming `why`. */
static int
only_with(const struct config_source *lookup, const char *name, int ok,
    const char *why, struct err *err)
{
	if (ok || lookup_set(lookup, name) == NULL)
		return 0;
	return err_set(err, ERR_CONFIG, "%s is set but %s", name, why);
}

static int
needs(const char *what, const char *value, const char *name, struct err *err)
{
	if (value != NULL)
		return 0;
	return err_set(err, ERR_CONFIG, "%s needs %s: set it", what, name);
}

static int
oauth_auth(const struct config_oauth *o, struct err *err)
{
	const char *a = o->client_auth == GRANT_AUTH_SECRET_BASIC ?
	    "CLIENT_AUTH=client_secret_basic" :
	    o->client_auth == GRANT_AUTH_SECRET_POST ?
	    "CLIENT_AUTH=client_secret_post" :
	    o->client_auth == GRANT_AUTH_PRIVATE_KEY_JWT ?
	    "CLIENT_AUTH=private_key_jwt" :
	    "CLIENT_AUTH=tls_client_auth";
	int secret = o->client_auth == GRANT_AUTH_SECRET_BASIC ||
	    o->client_auth == GRANT_AUTH_SECRET_POST;

	if ((o->tls_client_cert_path == NULL) !=
	    (o->tls_client_key_path == NULL))
		return err_set(err, ERR_CONFIG,
		    "TLS_CLIENT_CERT_PATH and TLS_CLIENT_KEY_PATH go together: "
		    "set both or neither");
	if (o->client_auth == GRANT_AUTH_NONE)
		return 0;
	if (needs(a, o->client_id, "CLIENT_ID", err) == -1 ||
	    (secret &&
	        needs(a, o->client_secret_path, "CLIENT_SECRET_PATH", err) ==
	            -1) ||
	    (o->client_auth == GRANT_AUTH_PRIVATE_KEY_JWT &&
	        needs(a, o->client_key_path, "CLIENT_KEY_PATH", err) == -1) ||
	    (o->client_auth == GRANT_AUTH_TLS &&
	        needs(a, o->tls_client_cert_path,
	            "TLS_CLIENT_CERT_PATH and TLS_CLIENT_KEY_PATH", err) == -1))
		return -1;
	if (o->grant_type == GRANT_CLIENT_ASSERTION &&
	    o->client_auth != GRANT_AUTH_TLS)
		return err_set(err, ERR_CONFIG,
		    "GRANT_TYPE=client-assertion authenticates the client "
		    "with the ServiceAccount token itself: %s would send a "
		    "second client authentication; use CLIENT_AUTH=none",
		    a);
	return 0;
}

/* Settings that one shape or method reads, refused where none does. */
static int
oauth_combinations(const struct config_source *lookup,
    const struct config_oauth *o, struct err *err)
{
	int te = o->grant_type == GRANT_TOKEN_EXCHANGE;
	const char *only_te = "only GRANT_TYPE=token-exchange sends it";

	if (lookup_set(lookup, "CLIENT_SECRET") != NULL)
		return err_set(err, ERR_CONFIG,
		    "CLIENT_SECRET is set in the environment, where process "
		    "listings and crash reports show it: mount the secret as "
		    "a file and set CLIENT_SECRET_PATH instead");
	if (oauth_auth(o, err) == -1 ||
	    only_with(lookup, "CLIENT_SECRET_PATH",
	        o->client_auth == GRANT_AUTH_SECRET_BASIC ||
	            o->client_auth == GRANT_AUTH_SECRET_POST,
	        "CLIENT_AUTH is neither client_secret_basic nor "
	        "client_secret_post",
	        err) == -1 ||
	    only_with(lookup, "CLIENT_KEY_PATH",
	        o->client_auth == GRANT_AUTH_PRIVATE_KEY_JWT,
	        "CLIENT_AUTH is not private_key_jwt", err) == -1 ||
	    only_with(lookup, "CLIENT_KEY_ID",
	        o->client_auth == GRANT_AUTH_PRIVATE_KEY_JWT,
	        "CLIENT_AUTH is not private_key_jwt", err) == -1 ||
	    only_with(lookup, "AUDIENCE", te, only_te, err) == -1 ||
	    only_with(lookup, "SUBJECT_TOKEN_TYPE", te, only_te, err) == -1 ||
	    only_with(lookup, "REQUESTED_TOKEN_TYPE", te, only_te, err) == -1 ||
	    only_with(lookup, "ACTOR_TOKEN_PATH", te, only_te, err) == -1)
		return -1;
	if ((o->actor_token_path == NULL) != (o->actor_token_type == NULL))
		return err_set(err, ERR_CONFIG,
		    "ACTOR_TOKEN_PATH and ACTOR_TOKEN_TYPE go together (RFC "
		    "8693 section 2.1): set both or neither");
	return 0;
}

static int
oauth_sizes(const struct config_oauth *o, struct err *err)
{
	return bounded("CLIENT_ID", o->client_id, CONFIG_FIELD_MAX, err) ==
	            -1 ||
	        bounded("CLIENT_KEY_ID", o->client_key_id, CONFIG_FIELD_MAX,
	            err) == -1 ||
	        bounded("SCOPE", o->scope, CONFIG_FIELD_MAX, err) == -1 ||
	        bounded("RESOURCE", o->resource, CONFIG_FIELD_MAX, err) == -1 ||
	        bounded("REQUESTED_TOKEN_TYPE", o->requested_token_type,
	            CONFIG_FIELD_MAX, err) == -1 ||
	        bounded("ACTOR_TOKEN_TYPE", o->actor_token_type,
	            CONFIG_FIELD_MAX, err) == -1 ?
	    -1 :
	    0;
}

static int
oauth_paths(const struct config_oauth *o, struct err *err)
{
	const char *const paths[][2] = {
		{ "CLIENT_SECRET_PATH", o->client_secret_path },
		{ "CLIENT_KEY_PATH", o->client_key_path },
		{ "TLS_CLIENT_CERT_PATH", o->tls_client_cert_path },
		{ "TLS_CLIENT_KEY_PATH", o->tls_client_key_path },
		{ "ACTOR_TOKEN_PATH", o->actor_token_path },
	};
	size_t i;

	for (i = 0; i < sizeof paths / sizeof paths[0]; i++)
		if (paths[i][1] != NULL &&
		    file_path(paths[i][0], paths[i][1], err) == -1)
			return -1;
	return 0;
}

/*
 * GRANT_TYPE, CLIENT_AUTH and what they read, OUTPUT_FORMAT. The default
 * (nothing set) is today's request: token-exchange, no client
 * authentication.
 */
static int
config_oauth(const struct config_source *lookup, struct config_oauth *o,
    struct err *err)
{
	_Static_assert(CONFIG_FIELD_MAX <= GRANT_FIELD_MAX,
	    "a configured field fits the grant's form");
	o->client_id = lookup_set(lookup, "CLIENT_ID");
	o->client_secret_path = lookup_set(lookup, "CLIENT_SECRET_PATH");
	o->client_key_path = lookup_set(lookup, "CLIENT_KEY_PATH");
	o->client_key_id = lookup_set(lookup, "CLIENT_KEY_ID");
	o->tls_client_cert_path = lookup_set(lookup, "TLS_CLIENT_CERT_PATH");
	o->tls_client_key_path = lookup_set(lookup, "TLS_CLIENT_KEY_PATH");
	o->scope = lookup_set(lookup, "SCOPE");
	o->resource = lookup_set(lookup, "RESOURCE");
	o->requested_token_type = lookup_set(lookup, "REQUESTED_TOKEN_TYPE");
	o->actor_token_path = lookup_set(lookup, "ACTOR_TOKEN_PATH");
	o->actor_token_type = lookup_set(lookup, "ACTOR_TOKEN_TYPE");
	return oauth_choices(lookup, o, err) == -1 ||
	        oauth_combinations(lookup, o, err) == -1 ||
	        oauth_sizes(o, err) == -1 || oauth_paths(o, err) == -1 ?
	    -1 :
	    0;
}

int
config_load_from(struct config *cfg, const struct config_source *lookup,
    struct err *err)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->log_level = LOG_INFO;
	if (logging(lookup, cfg, err) == -1 ||
	    required(lookup, "SA_TOKEN_PATH", &cfg->sa_token_path, err) == -1 ||
	    required(lookup, "OUTPUT_TOKEN_PATH", &cfg->output_token_path,
	        err) == -1 ||
	    exchange_url(lookup, cfg, err) == -1 ||
	    duration_ms(lookup, "REFRESH_INTERVAL", "1h",
	        &cfg->refresh_interval_ms, err) == -1 ||
	    duration_ms(lookup, "EXCHANGE_TIMEOUT", "30s",
	        &cfg->exchange_timeout_ms, err) == -1 ||
	    file_mode(lookup, &cfg->token_file_mode, err) == -1 ||
	    duration_ms(lookup, "READY_MIN_VALIDITY", "10s",
	        &cfg->ready_min_validity_ms, err) == -1 ||
	    health_addr(lookup, &cfg->health, err) == -1)
		return -1;
	ca_bundle(lookup, cfg);
	cfg->audience = lookup_set(lookup, "AUDIENCE");
	cfg->subject_token_type = lookup_set(lookup, "SUBJECT_TOKEN_TYPE");
	if (cfg->subject_token_type == NULL)
		cfg->subject_token_type = CONFIG_DEFAULT_SUBJECT_TOKEN_TYPE;
	return bounded("AUDIENCE", cfg->audience, CONFIG_FIELD_MAX, err) ==
	            -1 ||
	        bounded("SUBJECT_TOKEN_TYPE", cfg->subject_token_type,
	            CONFIG_FIELD_MAX, err) == -1 ||
	        file_path("OUTPUT_TOKEN_PATH", cfg->output_token_path, err) ==
	            -1 ||
	        file_path("SA_TOKEN_PATH", cfg->sa_token_path, err) == -1 ||
	        config_oauth(lookup, &cfg->oauth, err) == -1 ?
	    -1 :
	    0;
}

static const char *
plain_get(const void *ctx, const char *name)
{
	const config_lookup_fn *fn = ctx;

	return (*fn)(name);
}

int
config_load(struct config *cfg, config_lookup_fn lookup, struct err *err)
{
	const struct config_source src = { plain_get, &lookup };

	return config_load_from(cfg, &src, err);
}

int
config_load_logging(struct config *cfg, config_lookup_fn lookup,
    struct err *err)
{
	const struct config_source src = { plain_get, &lookup };

	memset(cfg, 0, sizeof *cfg);
	cfg->log_level = LOG_INFO;
	return logging(&src, cfg, err);
}
