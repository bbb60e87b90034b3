/*
 * jwt.c: the RFC 7523 client assertion, signed with BearSSL.
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "base64.h"
#include "jsonw.h"
#include "jwt.h"

/* The token being written: base64url segments and dots. */
struct out {
	char *buf;
	size_t cap;
	size_t len;
	int full;
};

static void
put(struct out *o, const char *s, size_t n)
{
	if (o->full || n > o->cap - o->len) {
		o->full = 1;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void
put_str(struct jsonw *j, const char *key, const char *value)
{
	jsonw_string(j, key, value, strlen(value));
}

static int
field_ok(const char *name, const char *v, struct err *err)
{
	const char *p;

	if (v == NULL || *v == '\0')
		return err_set(err, ERR_CONFIG,
		    "the client assertion's %s is empty", name);
	if (strlen(v) > JWT_FIELD_MAX)
		return err_set(err, ERR_CONFIG,
		    "the client assertion's %s is longer than %d bytes", name,
		    JWT_FIELD_MAX);
	for (p = v; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return err_set(err, ERR_CONFIG,
			    "the client assertion's %s holds a control "
			    "character",
			    name);
	return 0;
}

int
jwt_stamp(struct jwt_claims *c, int64_t now, struct err *err)
{
	size_t got = 0;
	ssize_t n;

	while (got < sizeof c->jti) {
		n = getrandom(c->jti + got, sizeof c->jti - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return err_set(err, ERR_SYSTEM,
			    "getrandom for the client assertion's jti: %s",
			    strerror(errno));
		got += (size_t)n;
	}
	c->iat = now;
	c->lifetime = JWT_LIFETIME;
	return 0;
}

/* The JSON text of header or claims, base64url-encoded onto `o`. */
static void
put_segment(struct out *o, const char *json, size_t n)
{
	long w;

	if (o->full)
		return;
	w = base64_encode(o->buf + o->len, o->cap - o->len,
	    (const unsigned char *)json, n, BASE64_URL, 0);
	if (w < 0)
		o->full = 1;
	else
		o->len += (size_t)w;
}

static const char *
alg_name(const struct keyfile_key *key)
{
	if (key->type == BR_KEYTYPE_RSA)
		return "RS256";
	return key->ec.curve == BR_EC_secp384r1 ? "ES384" : "ES256";
}

/* A JSON object, base64url-encoded onto `o`. */
static void
put_object(struct out *o, struct jsonw *j)
{
	size_t n;

	if (jsonw_end(j, &n) == -1)
		o->full = 1;
	else
		put_segment(o, j->buf, n);
}

static void
header_and_claims(const struct keyfile_key *key, const struct jwt_claims *c,
    struct out *o)
{
	char json[3 * JWT_FIELD_MAX * 2 + 256], jti[32];
	struct jsonw j;
	long w;

	jsonw_begin(&j, json, sizeof json);
	put_str(&j, "alg", alg_name(key));
	put_str(&j, "typ", "JWT");
	if (c->kid != NULL)
		put_str(&j, "kid", c->kid);
	put_object(o, &j);
	put(o, ".", 1);
	jsonw_begin(&j, json, sizeof json);
	put_str(&j, "iss", c->client_id);
	put_str(&j, "sub", c->client_id);
	put_str(&j, "aud", c->audience);
	w = base64_encode(jti, sizeof jti - 1, c->jti, sizeof c->jti,
	    BASE64_URL, 0);
	jti[w > 0 ? w : 0] = '\0';
	put_str(&j, "jti", jti);
	jsonw_int(&j, "iat", c->iat);
	jsonw_int(&j, "nbf", c->iat);
	jsonw_int(&j, "exp", c->iat + (int64_t)c->lifetime);
	put_object(o, &j);
}

/* Sign o->buf[0..o->len) into sig; returns the signature's length or 0. */
static size_t
sign(const struct keyfile_key *key, const struct out *o, unsigned char *sig)
{
	br_hash_compat_context h;
	const br_hash_class *hc = &br_sha256_vtable;
	unsigned char hash[64];

	if (key->type == BR_KEYTYPE_EC && key->ec.curve == BR_EC_secp384r1)
		hc = &br_sha384_vtable;
	hc->init(&h.vtable);
	hc->update(&h.vtable, o->buf, o->len);
	hc->out(&h.vtable, hash);
	if (key->type == BR_KEYTYPE_EC)
		return br_ecdsa_sign_raw_get_default()(br_ec_get_default(), hc,
		    hash, &key->ec, sig);
	if (br_rsa_pkcs1_sign_get_default()(BR_HASH_OID_SHA256, hash, 32,
	        &key->rsa, sig) != 1)
		return 0;
	return (key->rsa.n_bitlen + 7) / 8;
}

int
jwt_sign(const struct keyfile_key *key, const struct jwt_claims *c, char *out,
    size_t cap, size_t *len, struct err *err)
{
	unsigned char sig[512];
	struct out o = { out, cap > 0 ? cap - 1 : 0, 0, 0 };
	size_t n;

	if (key->type != BR_KEYTYPE_RSA && key->type != BR_KEYTYPE_EC)
		return err_set(err, ERR_CONFIG,
		    "no private key is loaded to sign the client assertion");
	if (field_ok("client id", c->client_id, err) == -1 ||
	    field_ok("audience", c->audience, err) == -1 ||
	    (c->kid != NULL && field_ok("kid", c->kid, err) == -1))
		return -1;
	header_and_claims(key, c, &o);
	if (o.full)
		return err_set(err, ERR_SYSTEM,
		    "the client assertion is longer than %zu bytes", cap);
	if ((n = sign(key, &o, sig)) == 0)
		return err_set(err, ERR_SYSTEM,
		    "BearSSL could not sign the client assertion with the %s "
		    "key",
		    alg_name(key));
	put(&o, ".", 1);
	put_segment(&o, (const char *)sig, n);
	if (o.full)
		return err_set(err, ERR_SYSTEM,
		    "the client assertion is longer than %zu bytes", cap);
	out[o.len] = '\0';
	*len = o.len;
	return 0;
}
