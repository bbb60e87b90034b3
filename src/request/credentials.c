/*
 * credentials.c: what a token request carries besides the ServiceAccount
 * token, and how the client proves who it is.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "credentials.h"
#include "log.h"
#include "tokenfile.h"
#include "wipe.h"

/* The file's identity; all zero when it cannot be read. */
static struct credentials_stamp
stamp(const char *path)
{
	struct credentials_stamp s;
	struct stat st;

	memset(&s, 0, sizeof s);
	if (path == NULL || stat(path, &st) == -1)
		return s;
	s.dev = st.st_dev;
	s.ino = st.st_ino;
	s.size = (unsigned long long)st.st_size;
	s.mtime_s = st.st_mtim.tv_sec;
	s.mtime_ns = st.st_mtim.tv_nsec;
	return s;
}

/* Has the file changed since `old` was taken? Sets *old to now. */
static bool
changed(const char *path, struct credentials_stamp *old)
{
	struct credentials_stamp now = stamp(path);
	bool diff = memcmp(&now, old, sizeof now) != 0;

	*old = now;
	return diff;
}

/* A certificate and key, read into the free slot and checked together
 * before they replace the pair in use. */
static int
load_pair(struct credentials *c, struct err *err)
{
	const struct config_oauth *o = &c->cfg->oauth;
	int next = c->has_tls ? 1 - c->cur : c->cur;
	struct tls_client *n = &c->pair[next];

	if (keyfile_chain_read(&n->chain, "TLS_CLIENT_CERT_PATH",
	        o->tls_client_cert_path, err) == -1 ||
	    keyfile_key_read(&n->key, "TLS_CLIENT_KEY_PATH",
	        o->tls_client_key_path, err) == -1 ||
	    keyfile_pair_check(&n->chain, &n->key, "TLS_CLIENT_CERT_PATH",
	        err) == -1) {
		keyfile_key_wipe(&n->key);
		return -1;
	}
	if (c->has_tls && next != c->cur)
		keyfile_key_wipe(&c->pair[c->cur].key);
	c->cur = next;
	c->has_tls = true;
	return 0;
}

int
credentials_load(struct credentials *c, const struct config *cfg,
    struct err *err)
{
	const struct config_oauth *o = &cfg->oauth;

	memset(&c->key_stamp, 0, sizeof c->key_stamp);
	c->cfg = cfg;
	c->cur = 0;
	c->has_tls = false;
	c->actor_len = c->secret_len = c->assertion_len = 0;
	if (o->client_key_path != NULL) {
		(void)changed(o->client_key_path, &c->key_stamp);
		if (keyfile_key_read(&c->sign_key, "CLIENT_KEY_PATH",
		        o->client_key_path, err) == -1)
			return -1;
	}
	if (o->tls_client_cert_path == NULL)
		return 0;
	(void)changed(o->tls_client_cert_path, &c->cert_stamp);
	(void)changed(o->tls_client_key_path, &c->tls_key_stamp);
	return load_pair(c, err);
}

/* Reload what changed; a bad new file is logged and the old one kept. */
static void
reload(struct credentials *c)
{
	const struct config_oauth *o = &c->cfg->oauth;
	struct err err;
	bool cert, key;

	if (o->client_key_path != NULL &&
	    changed(o->client_key_path, &c->key_stamp)) {
		if (keyfile_key_read(&c->sign_key, "CLIENT_KEY_PATH",
		        o->client_key_path, &err) == -1)
			log_event(LOG_ERROR,
			    "the new client signing key is not usable: "
			    "signing with the previous one",
			    "error", err.msg, (char *)NULL);
		else
			log_event(LOG_INFO, "client signing key reloaded",
			    "path", o->client_key_path, (char *)NULL);
	}
	if (o->tls_client_cert_path == NULL)
		return;
	/* Both stamps move on, so that a pair caught mid-update is tried
	 * again once the second file lands. */
	cert = changed(o->tls_client_cert_path, &c->cert_stamp);
	key = changed(o->tls_client_key_path, &c->tls_key_stamp);
	if (!cert && !key)
		return;
	if (load_pair(c, &err) == -1)
		log_event(LOG_ERROR,
		    "the new TLS client certificate and key are not usable: "
		    "offering the previous pair",
		    "error", err.msg, (char *)NULL);
	else
		log_event(LOG_INFO, "TLS client certificate reloaded", "path",
		    o->tls_client_cert_path, (char *)NULL);
}

/* Read a secret file anew; `what` names it in messages. */
static int
read_secret(const char *what, const char *path, char *buf, size_t cap,
    size_t *len, enum log_secret_slot slot, struct err *err)
{
	if (tokenfile_read_secret(what, path, buf, cap, len, err) == -1)
		return -1;
	log_secret(slot, buf, *len);
	return 0;
}

static int
sign(struct credentials *c, struct grant *g, struct err *err)
{
	struct jwt_claims claims;

	memset(&claims, 0, sizeof claims);
	claims.client_id = c->cfg->oauth.client_id;
	claims.audience = c->cfg->exchange_url;
	claims.kid = c->cfg->oauth.client_key_id;
	if (jwt_stamp(&claims, (int64_t)time(NULL), err) == -1 ||
	    jwt_sign(&c->sign_key, &claims, c->assertion, sizeof c->assertion,
	        &c->assertion_len, err) == -1)
		return -1;
	log_secret(LOG_SECRET_ASSERTION, c->assertion, c->assertion_len);
	g->assertion = c->assertion;
	g->assertion_len = c->assertion_len;
	return 0;
}

int
credentials_grant(struct credentials *c, const char *subject,
    size_t subject_len, struct grant *g, struct err *err)
{
	const struct config *cfg = c->cfg;
	const struct config_oauth *o = &cfg->oauth;

	reload(c);
	memset(g, 0, sizeof *g);
	g->type = o->grant_type;
	g->auth = o->client_auth;
	g->audience = cfg->audience;
	g->subject_token_type = cfg->subject_token_type;
	g->requested_token_type = o->requested_token_type;
	g->actor_token_type = o->actor_token_type;
	g->scope = o->scope;
	g->resource = o->resource;
	g->client_id = o->client_id;
	g->subject = subject;
	g->subject_len = subject_len;
	if (o->actor_token_path != NULL) {
		if (read_secret("the actor token (ACTOR_TOKEN_PATH)",
		        o->actor_token_path, c->actor, sizeof c->actor,
		        &c->actor_len, LOG_SECRET_ACTOR, err) == -1)
			return -1;
		g->actor = c->actor;
		g->actor_len = c->actor_len;
	}
	if (o->client_secret_path != NULL) {
		if (read_secret("the client secret (CLIENT_SECRET_PATH)",
		        o->client_secret_path, c->secret, sizeof c->secret,
		        &c->secret_len, LOG_SECRET_CLIENT, err) == -1)
			return -1;
		g->secret = c->secret;
		g->secret_len = c->secret_len;
	}
	return o->client_auth == GRANT_AUTH_PRIVATE_KEY_JWT ? sign(c, g, err) :
	                                                      0;
}

const struct tls_client *
credentials_tls(const struct credentials *c)
{
	return c->has_tls ? &c->pair[c->cur] : NULL;
}

void
credentials_forget(struct credentials *c)
{
	log_secret(LOG_SECRET_ACTOR, NULL, 0);
	log_secret(LOG_SECRET_CLIENT, NULL, 0);
	log_secret(LOG_SECRET_ASSERTION, NULL, 0);
	wipe(c->actor, c->actor_len);
	wipe(c->secret, c->secret_len);
	wipe(c->assertion, c->assertion_len);
	c->actor_len = c->secret_len = c->assertion_len = 0;
}

void
credentials_wipe(struct credentials *c)
{
	credentials_forget(c);
	keyfile_key_wipe(&c->sign_key);
	keyfile_key_wipe(&c->pair[0].key);
	keyfile_key_wipe(&c->pair[1].key);
	c->has_tls = false;
}
