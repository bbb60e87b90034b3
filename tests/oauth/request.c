/*
 * request.c: the token request the sidecar will send, built from the
 * environment by config.c, keyfile.c, jwt.c and grant.c, printed as two
 * lines: the Authorization header's value (empty when none) and the form.
 *
 * test_oauth_harness.py posts them to oidc-provider with curl, so that the
 * request shapes and the signed client assertion are checked against a
 * certified server before phase 2 of issue 13 wires them into the
 * exchange. Not a part of the sidecar.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "grant.h"
#include "jwt.h"
#include "keyfile.h"

static char form[GRANT_FORM_MAX];
static char authz[GRANT_AUTHORIZATION_MAX];
static char assertion[JWT_ASSERTION_MAX];
static char subject[GRANT_TOKEN_MAX + 2];
static char secret[GRANT_SECRET_MAX + 2];
static struct keyfile_key key;

static const char *
lookup(const char *name)
{
	return getenv(name);
}

/* The file's bytes without one trailing newline, as Secrets are made. */
static size_t
slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL) {
		perror(path);
		exit(1);
	}
	n = fread(buf, 1, cap - 1, f);
	(void)fclose(f);
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return n;
}

static int
sign(const struct config *cfg, struct grant *g, struct err *err)
{
	struct jwt_claims c;

	memset(&c, 0, sizeof c);
	c.client_id = cfg->oauth.client_id;
	c.audience = cfg->exchange_url;
	c.kid = getenv("TEST_JWT_KID");
	if (keyfile_key_read(&key, "CLIENT_KEY_PATH",
	        cfg->oauth.client_key_path, err) == -1 ||
	    jwt_stamp(&c, (int64_t)time(NULL), err) == -1 ||
	    jwt_sign(&key, &c, assertion, sizeof assertion, &g->assertion_len,
	        err) == -1)
		return -1;
	g->assertion = assertion;
	return 0;
}

int
main(void)
{
	struct config cfg;
	struct grant g;
	struct err err;
	size_t len;

	if (config_load(&cfg, lookup, &err) == -1) {
		(void)fprintf(stderr, "%s\n", err.msg);
		return 2;
	}
	memset(&g, 0, sizeof g);
	g.type = cfg.oauth.grant_type;
	g.auth = cfg.oauth.client_auth;
	g.audience = cfg.audience;
	if (g.type == GRANT_TOKEN_EXCHANGE)
		g.subject_token_type = cfg.subject_token_type;
	g.requested_token_type = cfg.oauth.requested_token_type;
	g.scope = cfg.oauth.scope;
	g.resource = cfg.oauth.resource;
	g.client_id = cfg.oauth.client_id;
	g.subject = subject;
	g.subject_len = slurp(cfg.sa_token_path, subject, sizeof subject);
	if (cfg.oauth.client_secret_path != NULL) {
		g.secret = secret;
		g.secret_len = slurp(cfg.oauth.client_secret_path, secret,
		    sizeof secret);
	}
	if ((g.auth == GRANT_AUTH_PRIVATE_KEY_JWT &&
	        sign(&cfg, &g, &err) == -1) ||
	    grant_form(&g, form, sizeof form, &len, authz, sizeof authz,
	        &err) == -1) {
		(void)fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	if (printf("%s\n%.*s\n", authz, (int)len, form) < 0)
		return 1;
	keyfile_key_wipe(&key);
	return 0;
}
