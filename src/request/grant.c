/*
 * grant.c: the token request's form and Authorization header.
 *
 * Each shape and method fills slots of one table, indexed in the keys'
 * sorted order; the form is the filled slots, in that order.
 */
#include <string.h>

#include "base64.h"
#include "grant.h"
#include "url.h"

#define TOKEN_EXCHANGE "urn:ietf:params:oauth:grant-type:token-exchange"
#define JWT_BEARER "urn:ietf:params:oauth:grant-type:jwt-bearer"
#define ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

/* Slots in Go's url.Values.Encode order (sorted by key, byte order). */
enum slot {
	S_ACTOR_TOKEN,
	S_ACTOR_TOKEN_TYPE,
	S_ASSERTION,
	S_AUDIENCE,
	S_CLIENT_ASSERTION,
	S_CLIENT_ASSERTION_TYPE,
	S_CLIENT_ID,
	S_CLIENT_SECRET,
	S_GRANT_TYPE,
	S_REQUESTED_TOKEN_TYPE,
	S_RESOURCE,
	S_SCOPE,
	S_SUBJECT_TOKEN,
	S_SUBJECT_TOKEN_TYPE,
	S_COUNT
};

static const char *const keys[S_COUNT] = {
	"actor_token",
	"actor_token_type",
	"assertion",
	"audience",
	"client_assertion",
	"client_assertion_type",
	"client_id",
	"client_secret",
	"grant_type",
	"requested_token_type",
	"resource",
	"scope",
	"subject_token",
	"subject_token_type",
};

struct slots {
	const char *v[S_COUNT]; /* NULL: left out */
	size_t n[S_COUNT];
};

static void
set(struct slots *s, enum slot k, const char *v, size_t n)
{
	s->v[k] = v;
	s->n[k] = n;
}

/* An optional NUL-terminated value: left out when NULL. */
static void
set_str(struct slots *s, enum slot k, const char *v)
{
	if (v != NULL)
		set(s, k, v, strlen(v));
}

static int
token_exchange(const struct grant *g, struct slots *s, struct err *err)
{
	if (g->subject_token_type == NULL)
		return err_set(err, ERR_CONFIG,
		    "a token exchange needs a subject_token_type");
	if ((g->actor == NULL) != (g->actor_token_type == NULL))
		return err_set(err, ERR_CONFIG,
		    "an actor token needs its actor_token_type, and the other "
		    "way round (RFC 8693 section 2.1): set both or neither");
	set_str(s, S_GRANT_TYPE, TOKEN_EXCHANGE);
	set(s, S_SUBJECT_TOKEN, g->subject, g->subject_len);
	set_str(s, S_SUBJECT_TOKEN_TYPE, g->subject_token_type);
	set_str(s, S_AUDIENCE, g->audience);
	set_str(s, S_REQUESTED_TOKEN_TYPE, g->requested_token_type);
	if (g->actor != NULL)
		set(s, S_ACTOR_TOKEN, g->actor, g->actor_len);
	set_str(s, S_ACTOR_TOKEN_TYPE, g->actor_token_type);
	return 0;
}

static int
shape(const struct grant *g, struct slots *s, struct err *err)
{
	set_str(s, S_SCOPE, g->scope);
	set_str(s, S_RESOURCE, g->resource);
	switch (g->type) {
	case GRANT_TOKEN_EXCHANGE:
		return token_exchange(g, s, err);
	case GRANT_CLIENT_ASSERTION:
		/* The assertion is the client authentication: a second one
		 * is forbidden (RFC 6749 section 2.3). */
		if (g->auth != GRANT_AUTH_NONE && g->auth != GRANT_AUTH_TLS)
			return err_set(err, ERR_CONFIG,
			    "the client-assertion grant authenticates with the "
			    "ServiceAccount token itself: use CLIENT_AUTH=none "
			    "(or tls_client_auth)");
		set_str(s, S_GRANT_TYPE, "client_credentials");
		set_str(s, S_CLIENT_ASSERTION_TYPE, ASSERTION_TYPE);
		set(s, S_CLIENT_ASSERTION, g->subject, g->subject_len);
		return 0;
	case GRANT_JWT_BEARER:
		set_str(s, S_GRANT_TYPE, JWT_BEARER);
		set(s, S_ASSERTION, g->subject, g->subject_len);
		return 0;
	}
	return err_set(err, ERR_CONFIG, "unknown grant type %d", (int)g->type);
}

/* "Basic " + base64("urlencoded id:urlencoded secret"), RFC 6749 2.3.1. */
static int
basic(const struct grant *g, char *out, size_t cap, struct err *err)
{
	char raw[3 * (GRANT_FIELD_MAX + GRANT_SECRET_MAX) + 1];
	size_t len = 0;
	long n = -1;

	if (g->client_id != NULL && cap > 6 &&
	    strlen(g->client_id) <= GRANT_FIELD_MAX &&
	    g->secret_len <= GRANT_SECRET_MAX &&
	    form_escape(raw, sizeof raw, &len, g->client_id,
	        strlen(g->client_id)) == 0) {
		raw[len++] = ':';
		if (form_escape(raw, sizeof raw, &len, g->secret,
		        g->secret_len) == 0)
			n = base64_encode(out + 6, cap - 7,
			    (const unsigned char *)raw, len, BASE64_STD, 1);
	}
	explicit_bzero(raw, len);
	if (n < 0)
		return err_set(err, ERR_CONFIG,
		    "the client id and secret do not fit in an Authorization "
		    "header of %zu bytes",
		    cap);
	memcpy(out, "Basic ", 6);
	out[6 + n] = '\0';
	return 0;
}

static int
client_auth(const struct grant *g, struct slots *s, char *authorization,
    size_t acap, struct err *err)
{
	int need_secret = g->auth == GRANT_AUTH_SECRET_BASIC ||
	    g->auth == GRANT_AUTH_SECRET_POST;

	if (g->auth != GRANT_AUTH_NONE && g->client_id == NULL)
		return err_set(err, ERR_CONFIG,
		    "this client authentication needs a client id: set "
		    "CLIENT_ID");
	if (need_secret && g->secret == NULL)
		return err_set(err, ERR_CONFIG,
		    "client_secret_basic and client_secret_post need the "
		    "client secret: set CLIENT_SECRET_PATH");
	if (g->auth == GRANT_AUTH_PRIVATE_KEY_JWT && g->assertion == NULL)
		return err_set(err, ERR_CONFIG,
		    "private_key_jwt needs a signed client assertion");
	if (g->auth == GRANT_AUTH_SECRET_BASIC)
		return basic(g, authorization, acap, err);
	set_str(s, S_CLIENT_ID, g->client_id);
	if (g->auth == GRANT_AUTH_SECRET_POST)
		set(s, S_CLIENT_SECRET, g->secret, g->secret_len);
	if (g->auth == GRANT_AUTH_PRIVATE_KEY_JWT) {
		set_str(s, S_CLIENT_ASSERTION_TYPE, ASSERTION_TYPE);
		set(s, S_CLIENT_ASSERTION, g->assertion, g->assertion_len);
	}
	return 0;
}

int
grant_form(const struct grant *g, char *form, size_t cap, size_t *len,
    char *authorization, size_t acap, struct err *err)
{
	struct slots s;
	size_t i;

	memset(&s, 0, sizeof s);
	*len = 0;
	if (acap == 0)
		return err_set(err, ERR_CONFIG,
		    "no room for the Authorization header");
	authorization[0] = '\0';
	if (shape(g, &s, err) == -1 ||
	    client_auth(g, &s, authorization, acap, err) == -1)
		return -1;
	for (i = 0; i < S_COUNT; i++)
		if (s.v[i] != NULL &&
		    form_append(form, cap, len, keys[i], s.v[i], s.n[i]) == -1)
			return err_set(err, ERR_CONFIG,
			    "the request form is larger than %zu bytes", cap);
	return 0;
}
