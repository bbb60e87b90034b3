/*
 * jwt.h: the client assertion of RFC 7523 section 3, signed as a JWS
 * (RFC 7515 compact serialization), for CLIENT_AUTH=private_key_jwt.
 *
 * Header {"alg","typ":"JWT","kid"?}; claims iss = sub = the client id,
 * aud = the token endpoint's URL, jti (128 random bits), iat, nbf = iat
 * (Entra ID requires nbf) and exp = iat + a short lifetime. The algorithm
 * follows the key: ES256 for P-256, ES384 for P-384 (the signature as the
 * raw r || s that JWS wants, not DER), RS256 for RSA (PKCS#1 v1.5).
 * BearSSL's ECDSA takes its nonce from the key and the hash (RFC 6979),
 * so signing needs no random source; only the jti does.
 */
#ifndef TB_JWT_H
#define TB_JWT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "keyfile.h"

#define JWT_JTI_BYTES 16        /* 128 bits */
#define JWT_LIFETIME 60         /* seconds: one exchange, with clock skew */
#define JWT_FIELD_MAX 2048      /* client id, audience or kid, unescaped */
#define JWT_ASSERTION_MAX 24576 /* the largest fields, RSA-4096 */

struct jwt_claims {
	const char *client_id; /* iss and sub */
	const char *audience;  /* aud: the token endpoint URL */
	const char *kid;       /* the header's kid; NULL for none */
	int64_t iat;           /* Unix seconds; nbf too */
	unsigned lifetime;     /* exp = iat + lifetime */
	unsigned char jti[JWT_JTI_BYTES];
};

/*
 * Stamp `c` for a new assertion: iat = `now`, lifetime JWT_LIFETIME, and
 * a fresh jti from getrandom(). Returns 0, or -1 with err set (ERR_SYSTEM)
 * when the kernel gives no randomness.
 */
int jwt_stamp(struct jwt_claims *c, int64_t now, struct err *err);

/*
 * Sign the assertion for `c` with `key` into out[0..cap), NUL-terminated,
 * its length in *len. Returns 0, or -1 with err set: ERR_CONFIG when a
 * field is longer than JWT_FIELD_MAX, holds a control character, or the
 * key is empty; ERR_SYSTEM when it does not fit or BearSSL fails.
 */
int jwt_sign(const struct keyfile_key *key, const struct jwt_claims *c,
    char *out, size_t cap, size_t *len, struct err *err);

#endif
