/*
 * credentials.h: what a token request carries besides the ServiceAccount
 * token, and how the client proves who it is.
 *
 * The actor token and the client secret are files (Kubernetes mounts
 * Secrets and projected tokens as files, and rotates them in place): both
 * are read anew for every exchange, like the subject token, and wiped
 * after it. The signing key of private_key_jwt and the TLS client pair are
 * parsed once and parsed again only when their files change (cert-manager
 * rotates them): a new file that does not parse, or a certificate and key
 * from two different rotations, is logged and the previous one stays in
 * use; a replaced key is wiped from memory.
 */
#ifndef TB_CREDENTIALS_H
#define TB_CREDENTIALS_H

#include <stdbool.h>

#include "config.h"
#include "err.h"
#include "grant.h"
#include "jwt.h"
#include "keyfile.h"
#include "tls.h"

/* A file's identity, to tell when it was replaced or rewritten. */
struct credentials_stamp {
	unsigned long long dev, ino, size;
	long long mtime_s, mtime_ns;
};

struct credentials {
	const struct config *cfg;
	size_t actor_len;
	size_t secret_len;
	size_t assertion_len;
	struct credentials_stamp key_stamp;
	struct credentials_stamp cert_stamp;
	struct credentials_stamp tls_key_stamp;
	struct keyfile_key sign_key; /* private_key_jwt */
	/* TLS_CLIENT_CERT_PATH and ..._KEY_PATH: the pair in use, and the
	 * slot a new pair is read into and checked in before it takes over
	 * (both hold pointers into themselves, so they are never copied). */
	struct tls_client pair[2];
	int cur;      /* pair[cur] is in use */
	bool has_tls; /* a pair is configured and loaded */
	char actor[GRANT_TOKEN_MAX];
	char secret[GRANT_SECRET_MAX];
	char assertion[GRANT_ASSERTION_MAX];
};

/*
 * Load the keys cfg->oauth names, for the first time: a bad file is a
 * configuration error (ERR_CONFIG or ERR_FILE, naming the variable and the
 * file). Returns 0, or -1 with err set. cfg outlives c.
 */
int credentials_load(struct credentials *c, const struct config *cfg,
    struct err *err);

/*
 * For one exchange of `subject` (which outlives the request): read the
 * actor token and the client secret, reload a key whose file changed,
 * sign a fresh client assertion when private_key_jwt is used, and fill
 * `g`. The secrets are registered with the logger. Returns 0, or -1 with
 * err set (ERR_FILE naming the file).
 */
int credentials_grant(struct credentials *c, const char *subject,
    size_t subject_len, struct grant *g, struct err *err);

/* The TLS client pair to offer, or NULL when none is configured. */
const struct tls_client *credentials_tls(const struct credentials *c);

/* After the exchange: wipe the per-request secrets and unregister them. */
void credentials_forget(struct credentials *c);

/* At exit: wipe the keys too. */
void credentials_wipe(struct credentials *c);

#endif
