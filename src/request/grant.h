/*
 * grant.h: the token request's form and Authorization header, for each
 * grant shape and client authentication, as data the exchange sends.
 *
 * Shapes (GRANT_TYPE):
 * - token-exchange, RFC 8693: the ServiceAccount token as subject_token;
 *   Google's STS takes this shape (subject_token_type ...:jwt, scope, an
 *   audience naming the workload identity provider).
 * - client-assertion: grant_type=client_credentials with the
 *   ServiceAccount token as a jwt-bearer client_assertion (Entra ID
 *   workload identity federation, Keycloak's federated clients).
 * - jwt-bearer, RFC 7523 section 2.1: the token as `assertion`.
 *
 * Client authentication (RFC 6749 section 2.3, RFC 7523, RFC 8705):
 * client_secret_basic (an Authorization: Basic header of the
 * form-urlencoded id and secret, as RFC 6749 section 2.3.1 says),
 * client_secret_post (client_id and client_secret in the form),
 * private_key_jwt (client_assertion_type and a client_assertion from
 * jwt_sign()), tls_client_auth (client_id in the form, the certificate at
 * the TLS layer) and none (client_id in the form when there is one).
 *
 * The keys are always in the order Go's url.Values.Encode sorts them
 * (byte order), as the original sidecar sends them: actor_token,
 * actor_token_type, assertion, audience, client_assertion,
 * client_assertion_type, client_id, client_secret, grant_type,
 * requested_token_type, resource, scope, subject_token,
 * subject_token_type. With nothing new set, the token-exchange form is
 * the original's byte for byte.
 */
#ifndef TB_GRANT_H
#define TB_GRANT_H

#include <stddef.h>

#include "err.h"

enum grant_type {
	GRANT_TOKEN_EXCHANGE = 0, /* the default */
	GRANT_CLIENT_ASSERTION,
	GRANT_JWT_BEARER
};

enum grant_auth {
	GRANT_AUTH_NONE = 0,
	GRANT_AUTH_SECRET_BASIC,
	GRANT_AUTH_SECRET_POST,
	GRANT_AUTH_PRIVATE_KEY_JWT,
	GRANT_AUTH_TLS
};

#define GRANT_TOKEN_MAX (16u * 1024)     /* subject or actor token */
#define GRANT_FIELD_MAX 2048u            /* client id, scope, audience... */
#define GRANT_SECRET_MAX 1024u           /* the client secret */
#define GRANT_ASSERTION_MAX (24u * 1024) /* jwt_sign's output */
/* A form buffer this large holds any request within the limits above:
 * every byte percent-encoded, plus the keys and constants. */
#define GRANT_FORM_MAX \
	(3 * \
	        (2 * GRANT_TOKEN_MAX + GRANT_ASSERTION_MAX + \
	            GRANT_SECRET_MAX + 6 * GRANT_FIELD_MAX) + \
	    1024)
/* "Basic " and the base64 of the encoded "id:secret", and the NUL. */
#define GRANT_AUTHORIZATION_MAX \
	(6 + (3 * (GRANT_FIELD_MAX + GRANT_SECRET_MAX) + 1 + 2) / 3 * 4 + 1)

struct grant {
	enum grant_type type;
	enum grant_auth auth;
	/* Optional strings, NUL-terminated; NULL leaves the key out. */
	const char *audience;             /* token-exchange */
	const char *subject_token_type;   /* token-exchange: required */
	const char *requested_token_type; /* token-exchange */
	const char *actor_token_type;     /* token-exchange, with actor */
	const char *scope;
	const char *resource; /* RFC 8707 */
	const char *client_id;
	/* Byte strings; the secrets, never logged. */
	const char *subject; /* the ServiceAccount token */
	size_t subject_len;
	const char *actor; /* token-exchange's actor_token; NULL for none */
	size_t actor_len;
	const char *secret; /* client_secret_basic, client_secret_post */
	size_t secret_len;
	const char *assertion; /* private_key_jwt: from jwt_sign() */
	size_t assertion_len;
};

/*
 * Write the form for `g` into form[0..cap), its length in *len, and the
 * Authorization header's value (NUL-terminated; "" when there is none)
 * into authorization[0..acap). Returns 0, or -1 with err set (ERR_CONFIG)
 * when a setting the shape or method needs is missing, two client
 * authentications would be sent at once, or the result does not fit.
 * Callers wipe both buffers after use: they hold the credentials.
 */
int grant_form(const struct grant *g, char *form, size_t cap, size_t *len,
    char *authorization, size_t acap, struct err *err);

#endif
