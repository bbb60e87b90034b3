/*
 * x509.h: the server's certificate chain, judged as Go's crypto/x509 (the
 * original sidecar's verifier) and OpenSSL judge it.
 *
 * Everything here reads bytes the server controls. The certificates of
 * one TLS Certificate message are buffered (bounded in count and bytes),
 * a path is built from the leaf through the certificates sent, in any
 * order, to a trust anchor, and the whole path is checked: signatures,
 * validity (the anchor's too), basic constraints and path length, key
 * usage, extended key usage, unknown critical extensions, name
 * constraints (the anchor's too) and the server's name against the
 * leaf's subjectAltName (DNS names and IP addresses; the Common Name is
 * never used).
 *
 * x509_verify() is a pure function of the DER, the anchors, the name and
 * the time; struct x509_ctx wraps it as the br_x509_class BearSSL calls.
 */
#ifndef TB_X509_H
#define TB_X509_H

#include <stddef.h>
#include <stdint.h>

#include <bearssl.h>

#include "der.h"

/* What one Certificate message may hold; past this the chain is refused. */
#define X509_CHAIN_CERTS 12
#define X509_CHAIN_BYTES 49152
/* Certificates in one path, the leaf included and the anchor not. */
#define X509_PATH_MAX 8

/* The anchor may issue certificates (basicConstraints cA). */
#define X509_ANCHOR_CA 0x01
/* Its certificate lies in the bundle as a PEM block's base64 body (the
 * bytes after the BEGIN line, up to the END line); else as DER. */
#define X509_ANCHOR_PEM 0x02

/*
 * A trust anchor with what validation needs beyond BearSSL's: its
 * validity, its name constraints and its path length limit. Made by
 * x509_anchor_read() for one verification; every pointer points into the
 * buffer it was read into.
 */
struct x509_anchor {
	br_x509_pkey pkey;
	struct der dn;      /* subject Name, outer SEQUENCE included */
	int64_t not_before; /* Unix seconds */
	int64_t not_after;
	struct der constraints; /* nameConstraints' value, or empty */
	int path_len;           /* pathLenConstraint, or -1 for none */
	unsigned flags;         /* X509_ANCHOR_CA or 0 */
};

/*
 * What the store keeps of an anchor between verifications: enough to
 * find the candidates for an issuer and to read and prove the anchor
 * again, not the anchor itself (its name, key and constraints stay in
 * the bundle file: with Debian's bundle, 76 KiB less per process).
 */
struct x509_anchor_ref {
	/* x509_sum() of the subject Name, whole: a candidate for an issuer
	 * is then read and its name compared byte for byte. */
	uint64_t dn_sum;
	/* x509_sum() of the whole certificate: a re-read is that
	 * certificate or is refused. */
	uint64_t sum;
	uint32_t off; /* its bytes in the bundle: bundle[off..off+len) */
	uint32_t len;
	unsigned flags; /* X509_ANCHOR_* */
	/* SHA-256 of the whole certificate, for a non-CA anchor: a server
	 * may present it as its leaf (a pinned self-signed certificate),
	 * but only byte for byte, as Go's pool compares certificates. NULL
	 * for a CA, whose own certificate as a leaf is checked by its
	 * signature instead. */
	const unsigned char *cert_hash;
};

/*
 * One certificate's fields, as x509_cert_parse() reads them. Every
 * struct der points into the certificate's bytes.
 */
struct x509_cert {
	struct der whole;   /* the Certificate, header included */
	struct der tbs;     /* the signed bytes: TBSCertificate, whole */
	struct der sig_alg; /* AlgorithmIdentifier, whole */
	struct der sig;     /* the signature, unused-bits byte removed */
	struct der issuer;  /* Names, outer SEQUENCE included */
	struct der subject;
	int64_t not_before; /* Unix seconds */
	int64_t not_after;
	struct der spki; /* SubjectPublicKeyInfo, whole */
	int ca;          /* basicConstraints cA */
	int path_len;    /* pathLenConstraint, or -1 */
	int has_ku;      /* keyUsage present... */
	unsigned ku;     /* ...with these X509_KU_* bits */
	int has_eku;     /* extKeyUsage present... */
	int eku_server;  /* ...allowing serverAuth (or any) */
	int has_san;
	struct der san;         /* GeneralNames' content */
	struct der constraints; /* nameConstraints' value, or empty */
	int unknown_critical;   /* an extension this code cannot honour */
	int has_ns_type;        /* Netscape certificate type present... */
	unsigned ns_type;       /* ...with these X509_NS_* bits */
};

/* The Netscape certificate type OpenSSL still honours on a leaf. */
#define X509_NS_SSL_SERVER 0x40

#define X509_KU_DIGITAL_SIGNATURE 0x80
#define X509_KU_KEY_ENCIPHERMENT 0x20
#define X509_KU_KEY_AGREEMENT 0x08
#define X509_KU_KEY_CERT_SIGN 0x04

/*
 * Read the certificate at der[0..len) (exactly one element). Returns
 * X509_OK, or X509_E_MALFORMED when it is not a well-formed X.509 v3
 * certificate (a duplicate extension, a bad time, a malformed known
 * extension, trailing bytes).
 */
enum x509_code x509_cert_parse(const unsigned char *der, size_t len,
    struct x509_cert *c);

/*
 * The key of a SubjectPublicKeyInfo (whole element), pointing into it:
 * RSA, or EC on P-256, P-384 or P-521. Returns X509_OK, X509_E_KEY_TYPE
 * for another algorithm or curve, X509_E_WEAK_KEY for RSA under 2048
 * bits, X509_E_MALFORMED.
 */
enum x509_code x509_spki_key(struct der spki, br_x509_pkey *pk);

/*
 * Does `key` sign `c`? Returns X509_OK, X509_E_SIGNATURE,
 * X509_E_SIG_ALGORITHM (SHA-1, MD5 or an unknown algorithm) or
 * X509_E_PSS (RSASSA-PSS parameters other than those Go accepts).
 */
enum x509_code x509_check_signature(const struct x509_cert *c,
    const br_x509_pkey *key);

/*
 * The printable form of a Name (whole element) for messages: its Common
 * Name, else its last attribute, with bytes outside printable ASCII
 * replaced by '?'. Always NUL-terminates out (cap > 0).
 */
void x509_name_text(struct der name, char *out, size_t cap);

/*
 * The anchors verifications have read, kept in the store's own memory:
 * a server's chain almost always ends at the same root, which is then
 * used without reading the bundle again, so a bundle broken in place
 * after that (a reload that failed keeps the old store) does not matter
 * to it. Bounded: an RSA-4096 root is about 1.5 KB of DER; once full,
 * other anchors are read from the bundle each time, as before.
 */
#define X509_CACHE_ANCHORS 4
#define X509_CACHE_BYTES 8192u

struct x509_anchor_cache {
	size_t count; /* anchors kept */
	size_t used;  /* bytes[0..used) hold their certificates */
	const struct x509_anchor_ref *ref[X509_CACHE_ANCHORS];
	struct x509_anchor anchor[X509_CACHE_ANCHORS]; /* into bytes */
	unsigned char bytes[X509_CACHE_BYTES];
};

/*
 * What the CA bundle says: the anchors, and the keys its trust settings
 * refuse for TLS servers (no certificate for a distrusted key may
 * appear on any path), known by x509_key_id(); and the bundle the
 * anchors are read again from, as it was loaded. Filled by trust.c.
 */
struct x509_store {
	const struct x509_anchor_ref *refs;
	size_t count;
	const unsigned char (*distrusted)[32];
	size_t ndistrusted;
	int fd;                   /* the bundle file, open since the load... */
	const unsigned char *mem; /* ...or, when NULL, the caller's bytes */
	size_t mem_len;
	const char *name;       /* the bundle, for messages */
	unsigned char *changed; /* set once a re-read found other bytes */
	/* Where a verification reads its candidates, one at a time: whole
	 * pages, as large as the largest anchor's bytes, resident only
	 * while a verification runs (one runs at a time per store). */
	unsigned char *scratch;
	size_t scratch_len;
	/* The anchors verifications have read, or NULL: none kept. */
	struct x509_anchor_cache *cache;
};

/*
 * Read anchor `r` of `s` again into buf[0..cap) (cap at least r->len)
 * and fill `a`, pointing into buf: by pread() from the descriptor kept
 * since the load, so a ConfigMap's symlink swap does not matter, or from
 * the caller's memory. An anchor in s->cache is not read: `a` points
 * into the cache; one read while the cache has room is kept there.
 * Returns X509_OK, or X509_E_BUNDLE_CHANGED with
 * *s->changed set when the bytes are not the certificate loaded (the
 * file was rewritten in place) or cannot be read. In trust.c, which
 * knows the bundle's forms.
 */
enum x509_code x509_anchor_read(const struct x509_store *s,
    const struct x509_anchor_ref *r, unsigned char *buf, size_t cap,
    struct x509_anchor *a);

/*
 * The same for a chain that names `name` (a Name, whole element; NULL
 * for none): an anchor whose subject is not `name` byte for byte, which
 * only shares the sum its ref was found by, is refused with
 * X509_E_UNTRUSTED and never kept in the cache, so that crafted names
 * cannot crowd out the anchors in use.
 */
enum x509_code x509_anchor_named(const struct x509_store *s,
    const struct x509_anchor_ref *r, const struct der *name, unsigned char *buf,
    size_t cap, struct x509_anchor *a);

/* The X509_ANCHOR_CA flag a parsed certificate earns, or 0. */
unsigned x509_anchor_flags(const struct x509_cert *c);

/* The name the client asked for: a DNS name or an IP address. */
struct x509_name {
	char dns[254]; /* lower case, no trailing dot; "" for an IP */
	unsigned char ip[16];
	size_t ip_len; /* 4 or 16 for an IP address, else 0 */
};

/* Why a chain was refused. */
enum x509_code {
	X509_OK = 0,
	X509_E_EMPTY,           /* no certificate */
	X509_E_TOO_LARGE,       /* over X509_CHAIN_CERTS or _BYTES */
	X509_E_MALFORMED,       /* not DER X.509 v3 as RFC 5280 says */
	X509_E_UNTRUSTED,       /* no path to an anchor */
	X509_E_PATH_TOO_LONG,   /* no path within X509_PATH_MAX */
	X509_E_SIGNATURE,       /* a signature does not verify */
	X509_E_SIG_ALGORITHM,   /* SHA-1, MD5, Ed25519... */
	X509_E_PSS,             /* RSASSA-PSS with parameters Go refuses too */
	X509_E_WEAK_KEY,        /* RSA under 2048 bits */
	X509_E_KEY_TYPE,        /* a key type or curve not supported */
	X509_E_EXPIRED,         /* a certificate outside its validity */
	X509_E_ANCHOR_EXPIRED,  /* the CA in the bundle outside its validity */
	X509_E_NOT_CA,          /* an issuer without cA */
	X509_E_PATH_LEN,        /* a pathLenConstraint exceeded */
	X509_E_KEY_USAGE,       /* an issuer without keyCertSign */
	X509_E_EKU,             /* extended key usage without serverAuth */
	X509_E_CRITICAL,        /* an unknown critical extension */
	X509_E_NAME_CONSTRAINT, /* a name outside the constraints */
	X509_E_CONSTRAINT_TYPE, /* a constraint that cannot be checked */
	X509_E_CONSTRAINT_WORK, /* more name comparisons than Go allows */
	X509_E_NO_SAN,          /* a leaf without subjectAltName */
	X509_E_NAME_MISMATCH,   /* the leaf does not name the server */
	X509_E_DISTRUSTED,      /* a certificate the bundle refuses */
	X509_E_BUNDLE_CHANGED   /* the bundle is not the file loaded */
};

/* The outcome of a refusal: what, and on which certificate. */
struct x509_fail {
	enum x509_code code;
	int depth;        /* 0 for the leaf, -1 for the anchor */
	char subject[96]; /* that certificate's subject, printable */
	char issuer[96];  /* its issuer's name, printable */
};

/* The leaf's key, for BearSSL's handshake: points into the chain's DER. */
struct x509_leaf {
	br_x509_pkey pkey;
	unsigned usages; /* BR_KEYTYPE_KEYX and/or BR_KEYTYPE_SIGN */
};

/*
 * Fill `n` from a URL host: an IPv4 dotted quad or an IPv6 literal
 * (without brackets) becomes an address, anything else a DNS name, lower
 * cased with one trailing dot removed. Returns 0, or -1 when the name is
 * empty or longer than a DNS name may be.
 */
int x509_name_set(struct x509_name *n, const char *host);

/*
 * Judge `count` certificates as the server sent them (certs[0] is the
 * leaf, the others in any order, unrelated ones ignored) against the
 * anchors and distrusts of `store` for `name` at Unix time `now`. The
 * anchors named as the top certificate's issuer (or, for a leaf alone,
 * equal to it) are read again one by one into the store's scratch, whose
 * pages are given back before returning, or taken from its cache.
 * Returns X509_OK and fills
 * `leaf`, or the code of the refusal with `fail` filled. When several
 * paths exist, the first that passes every check wins; when none does,
 * the refusal of the most complete attempt is reported.
 */
enum x509_code x509_verify(const struct der *certs, size_t count,
    const struct x509_store *store, const struct x509_name *name, int64_t now,
    struct x509_leaf *leaf, struct x509_fail *fail);

/*
 * A 64-bit checksum of DER bytes, a twentieth of SHA-256's cost: what a
 * store finds and proves its anchors by. Not collision-resistant, and
 * not needed to be: only the bundle's writer chooses a certificate's
 * bytes, and an issuer name a server makes collide with an anchor's only
 * has that anchor read and its name compared.
 */
uint64_t x509_sum(const struct der *d);

/* SHA-256 of DER bytes (a whole certificate, say). */
void x509_hash(const struct der *d, unsigned char out[32]);

/*
 * SHA-256 of a public key as BearSSL holds it (type, then RSA modulus and
 * exponent or EC curve and point): what a distrust is bound to, so that
 * no re-encoding of the name or of the SubjectPublicKeyInfo, and no
 * other certificate for the same key, escapes it.
 */
void x509_key_id(const br_x509_pkey *pk, unsigned char out[32]);

/* A sentence for a code, with the fix where there is one. Static. */
const char *x509_strerror(enum x509_code code);

/*
 * The br_x509_class BearSSL calls during the handshake: certificates are
 * buffered through start_cert/append/end_cert, and end_chain runs
 * x509_verify(). Caller-owned; the vtable pointer must come first.
 */
struct x509_ctx {
	const br_x509_class *vtable;
	const struct x509_store *store;
	struct x509_name name;
	int64_t now;
	unsigned char buf[X509_CHAIN_BYTES];
	size_t used; /* bytes of buf in use */
	struct der certs[X509_CHAIN_CERTS];
	size_t count;            /* certificates ended so far */
	size_t cert_start;       /* where the current one began */
	size_t cert_declared;    /* its length from start_cert */
	enum x509_code overflow; /* X509_E_TOO_LARGE once over */
	struct x509_leaf leaf;
	struct x509_fail fail;
	int done; /* end_chain returned X509_OK */
};

/*
 * Prepare `x` for one handshake. `store` must stay valid until the
 * handshake ends; `name` is copied.
 */
void x509_ctx_init(struct x509_ctx *x, const struct x509_store *store,
    const struct x509_name *name, int64_t now);

/* Wipe the buffered certificates (they are public, but the buffer is
 * reused) and forget the outcome. */
void x509_ctx_clear(struct x509_ctx *x);

extern const br_x509_class x509_class;

/*
 * The BearSSL error code end_chain returns for an x509_code: one of
 * BR_ERR_X509_*, never BR_ERR_X509_OK for a refusal.
 */
unsigned x509_br_error(enum x509_code code);

#endif
