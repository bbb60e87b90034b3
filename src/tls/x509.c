/*
 * x509.c: one certificate: its fields, its key, its signature.
 *
 * Every byte read here comes from a peer or from a mounted file: each
 * length is checked against what is left before it is used, and nothing
 * is copied.
 */
#include <string.h>

#include "date.h"
#include "x509.h"

#define DER_NULL 0x05
#define DER_UTC_TIME 0x17
#define DER_GENERALIZED_TIME 0x18
#define TAG_VERSION 0xa0    /* [0] EXPLICIT */
#define TAG_EXTENSIONS 0xa3 /* [3] EXPLICIT */
/* A certificate with more extensions than this is refused: the duplicate
 * check is quadratic, and real certificates carry about ten. */
#define EXTENSIONS_MAX 32
/* BearSSL's RSA code handles moduli up to 4096 bits (its inner.h). */
#define RSA_MAX_BYTES 512

static const unsigned char OID_BASIC_CONSTRAINTS[] = { 0x55, 0x1d, 0x13 };
static const unsigned char OID_KEY_USAGE[] = { 0x55, 0x1d, 0x0f };
static const unsigned char OID_EXT_KEY_USAGE[] = { 0x55, 0x1d, 0x25 };
static const unsigned char OID_SAN[] = { 0x55, 0x1d, 0x11 };
static const unsigned char OID_NAME_CONSTRAINTS[] = { 0x55, 0x1d, 0x1e };
static const unsigned char OID_NS_CERT_TYPE[] = { 0x60, 0x86, 0x48, 0x01, 0x86,
	0xf8, 0x42, 0x01, 0x01 };
/* Known, and harmless to ignore even when marked critical. */
static const unsigned char OID_POLICIES[] = { 0x55, 0x1d, 0x20 };
static const unsigned char OID_SERVER_AUTH[] = { 0x2b, 0x06, 0x01, 0x05, 0x05,
	0x07, 0x03, 0x01 };
static const unsigned char OID_CN[] = { 0x55, 0x04, 0x03 };

static const unsigned char OID_RSA[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
	0x01, 0x01, 0x01 };
static const unsigned char OID_EC[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
	0x01 };
static const unsigned char OID_P256[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03,
	0x01, 0x07 };
static const unsigned char OID_P384[] = { 0x2b, 0x81, 0x04, 0x00, 0x22 };
static const unsigned char OID_P521[] = { 0x2b, 0x81, 0x04, 0x00, 0x23 };

/* ---- time ---- */

/* n decimal digits at p, or -1. */
static int
digits(const unsigned char *p, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

static int
days_in_month(int year, int month)
{
	static const unsigned char days[] = { 31, 28, 31, 30, 31, 30, 31, 31,
		30, 31, 30, 31 };
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return days[month - 1] + (month == 2 && leap);
}

/*
 * UTCTime (YYMMDDHHMMSSZ, years 1950-2049) or GeneralizedTime
 * (YYYYMMDDHHMMSSZ), the only forms RFC 5280 allows.
 */
static int
read_time(struct der *d, int64_t *out)
{
	struct der v;
	struct date dt;
	unsigned tag;
	int y;
	size_t yl;

	if (der_take(d, &tag, &v, NULL) == -1)
		return -1;
	if (tag == DER_UTC_TIME && v.n == 13)
		yl = 2;
	else if (tag == DER_GENERALIZED_TIME && v.n == 15)
		yl = 4;
	else
		return -1;
	if (v.p[v.n - 1] != 'Z' || (y = digits(v.p, yl)) < 0)
		return -1;
	if (yl == 2)
		y += y < 50 ? 2000 : 1900;
	dt.year = y;
	dt.month = digits(v.p + yl, 2);
	dt.day = digits(v.p + yl + 2, 2);
	dt.hour = digits(v.p + yl + 4, 2);
	dt.minute = digits(v.p + yl + 6, 2);
	dt.second = digits(v.p + yl + 8, 2);
	/* No leap seconds and no 30 February, as Go's time parser. */
	if (dt.month < 1 || dt.month > 12 || dt.day < 1 ||
	    dt.day > days_in_month(y, dt.month) || dt.hour < 0 ||
	    dt.hour > 23 || dt.minute < 0 || dt.minute > 59 || dt.second < 0 ||
	    dt.second > 59)
		return -1;
	*out = date_to_unix(&dt);
	return 0;
}

/* ---- extensions ---- */

static int
read_basic_constraints(struct der v, struct x509_cert *c)
{
	struct der bc, el;
	unsigned tag;
	size_t i;

	if (der_expect(&v, DER_SEQUENCE, &bc, NULL) == -1 || v.n != 0)
		return -1;
	if (bc.n > 0 && bc.p[0] == DER_BOOLEAN) {
		if (der_take(&bc, &tag, &el, NULL) == -1 || el.n != 1)
			return -1;
		c->ca = el.p[0] != 0;
	}
	if (bc.n > 0) {
		if (der_expect(&bc, DER_INTEGER, &el, NULL) == -1 ||
		    el.n == 0 || el.n > 2 || (el.p[0] & 0x80) ||
		    (el.n == 2 && el.p[0] == 0 && !(el.p[1] & 0x80)) ||
		    bc.n != 0)
			return -1;
		c->path_len = 0;
		for (i = 0; i < el.n; i++)
			c->path_len = c->path_len << 8 | el.p[i];
	}
	return 0;
}

/*
 * A BIT STRING extension's first eight bits (keyUsage, the Netscape
 * type): the flags that matter here all live there.
 */
static int
read_bit_flags(struct der v, int *present, unsigned *flags)
{
	struct der bits;

	/* DER: unused bits within the last byte, and zero, as Go insists;
	 * a flag hidden in them must not count. */
	if (der_expect(&v, DER_BIT_STRING, &bits, NULL) == -1 || v.n != 0 ||
	    bits.n < 1 || bits.p[0] > 7 || (bits.n == 1 && bits.p[0] != 0) ||
	    (bits.n > 1 && (bits.p[bits.n - 1] & ((1u << bits.p[0]) - 1))))
		return -1;
	*present = 1;
	*flags = bits.n > 1 ? bits.p[1] : 0;
	return 0;
}

static int
read_eku(struct der v, struct x509_cert *c)
{
	struct der list, oid;

	if (der_expect(&v, DER_SEQUENCE, &list, NULL) == -1 || v.n != 0 ||
	    list.n == 0)
		return -1;
	c->has_eku = 1;
	while (list.n > 0) {
		if (der_expect(&list, DER_OID, &oid, NULL) == -1)
			return -1;
		/* anyExtendedKeyUsage alone does not do: OpenSSL's TLS
		 * server purpose wants serverAuth itself. */
		if (der_is(&oid, OID_SERVER_AUTH, sizeof OID_SERVER_AUTH))
			c->eku_server = 1;
	}
	return 0;
}

/* A SEQUENCE OF elements, each well formed. */
static int
read_list(struct der v, struct der *out)
{
	struct der el, walk;
	unsigned tag;

	if (der_expect(&v, DER_SEQUENCE, out, NULL) == -1 || v.n != 0)
		return -1;
	for (walk = *out; walk.n > 0;)
		if (der_take(&walk, &tag, &el, NULL) == -1)
			return -1;
	return 0;
}

/* Record one extension; -1 when it is malformed. */
static int
read_extension(const struct der *oid, int critical, struct der value,
    struct x509_cert *c)
{
	if (der_is(oid, OID_BASIC_CONSTRAINTS, sizeof OID_BASIC_CONSTRAINTS))
		return read_basic_constraints(value, c);
	if (der_is(oid, OID_KEY_USAGE, sizeof OID_KEY_USAGE))
		return read_bit_flags(value, &c->has_ku, &c->ku);
	if (der_is(oid, OID_EXT_KEY_USAGE, sizeof OID_EXT_KEY_USAGE))
		return read_eku(value, c);
	if (der_is(oid, OID_NS_CERT_TYPE, sizeof OID_NS_CERT_TYPE))
		return read_bit_flags(value, &c->has_ns_type, &c->ns_type);
	if (der_is(oid, OID_SAN, sizeof OID_SAN)) {
		c->has_san = 1;
		return read_list(value, &c->san);
	}
	if (der_is(oid, OID_NAME_CONSTRAINTS, sizeof OID_NAME_CONSTRAINTS)) {
		struct der seq;

		c->constraints = value;
		return read_list(value, &seq);
	}
	/* OpenSSL refuses a critical key identifier; policies it reads. */
	if (critical && !der_is(oid, OID_POLICIES, sizeof OID_POLICIES))
		c->unknown_critical = 1;
	return 0;
}

static int
read_extensions(struct der wrapped, struct x509_cert *c)
{
	struct der exts, ext, oid, value, flag, seen[EXTENSIONS_MAX];
	size_t n = 0, i;
	int critical;

	if (der_expect(&wrapped, DER_SEQUENCE, &exts, NULL) == -1 ||
	    wrapped.n != 0 || exts.n == 0)
		return -1;
	while (exts.n > 0) {
		if (n == EXTENSIONS_MAX ||
		    der_expect(&exts, DER_SEQUENCE, &ext, NULL) == -1 ||
		    der_expect(&ext, DER_OID, &oid, NULL) == -1)
			return -1;
		critical = 0;
		if (ext.n > 0 && ext.p[0] == DER_BOOLEAN) {
			if (der_expect(&ext, DER_BOOLEAN, &flag, NULL) == -1 ||
			    flag.n != 1)
				return -1;
			critical = flag.p[0] != 0;
		}
		if (der_expect(&ext, DER_OCTET_STRING, &value, NULL) == -1 ||
		    ext.n != 0)
			return -1;
		for (i = 0; i < n; i++)
			if (der_is(&seen[i], oid.p, oid.n))
				return -1;
		seen[n++] = oid;
		if (read_extension(&oid, critical, value, c) == -1)
			return -1;
	}
	return 0;
}

/* ---- the certificate ---- */

/* version [0], serialNumber, signature, issuer, validity, subject, spki */
static int
read_tbs_head(struct der *tbs, struct x509_cert *c, struct der *inner_alg,
    int *version)
{
	struct der el, v, validity;
	unsigned tag;

	*version = 1;
	if (tbs->n > 0 && tbs->p[0] == TAG_VERSION) {
		if (der_expect(tbs, TAG_VERSION, &el, NULL) == -1 ||
		    der_expect(&el, DER_INTEGER, &v, NULL) == -1 || el.n != 0 ||
		    v.n != 1 || v.p[0] > 2)
			return -1;
		*version = v.p[0] + 1;
	}
	if (der_expect(tbs, DER_INTEGER, &el, NULL) == -1 ||
	    der_expect(tbs, DER_SEQUENCE, &el, inner_alg) == -1 ||
	    der_expect(tbs, DER_SEQUENCE, &el, &c->issuer) == -1 ||
	    der_expect(tbs, DER_SEQUENCE, &validity, NULL) == -1 ||
	    read_time(&validity, &c->not_before) == -1 ||
	    read_time(&validity, &c->not_after) == -1 || validity.n != 0 ||
	    der_expect(tbs, DER_SEQUENCE, &el, &c->subject) == -1 ||
	    der_take(tbs, &tag, &el, &c->spki) == -1 || tag != DER_SEQUENCE)
		return -1;
	return 0;
}

unsigned
x509_anchor_flags(const struct x509_cert *c)
{
	/* An issuer needs cA, and keyCertSign when it has key usage. */
	return c->ca && (!c->has_ku || (c->ku & X509_KU_KEY_CERT_SIGN)) ?
	    X509_ANCHOR_CA :
	    0;
}

enum x509_code
x509_cert_parse(const unsigned char *der, size_t len, struct x509_cert *c)
{
	struct der all = { der, len }, body, tbs, inner_alg, el;
	unsigned tag;
	int version;

	memset(c, 0, sizeof *c);
	c->path_len = -1;
	if (der_expect(&all, DER_SEQUENCE, &body, &c->whole) == -1 ||
	    all.n != 0 ||
	    der_expect(&body, DER_SEQUENCE, &tbs, &c->tbs) == -1 ||
	    der_expect(&body, DER_SEQUENCE, &el, &c->sig_alg) == -1 ||
	    der_expect(&body, DER_BIT_STRING, &c->sig, NULL) == -1 ||
	    body.n != 0 || c->sig.n < 2 || c->sig.p[0] != 0)
		return X509_E_MALFORMED;
	c->sig.p++;
	c->sig.n--;
	/* A v1 certificate has no basicConstraints, so it is never a CA
	 * here, and no subjectAltName, so it is never a server's. */
	if (read_tbs_head(&tbs, c, &inner_alg, &version) == -1 ||
	    !der_is(&inner_alg, c->sig_alg.p, c->sig_alg.n))
		return X509_E_MALFORMED;
	/* issuerUniqueID [1] and subjectUniqueID [2] may come first. */
	while (tbs.n > 0) {
		if (der_take(&tbs, &tag, &el, NULL) == -1)
			return X509_E_MALFORMED;
		if (tag == TAG_EXTENSIONS) {
			if (version != 3 || tbs.n != 0 ||
			    read_extensions(el, c) == -1)
				return X509_E_MALFORMED;
		} else if (tag != 0x81 && tag != 0x82) {
			return X509_E_MALFORMED;
		}
	}
	return X509_OK;
}

/* ---- keys ---- */

/* An INTEGER's magnitude, without the sign byte BearSSL does not want. */
static int
unsigned_int(struct der *v)
{
	if (v->n == 0 || (v->p[0] & 0x80))
		return -1;
	while (v->n > 1 && v->p[0] == 0) {
		v->p++;
		v->n--;
	}
	return 0;
}

/* Bits in a big-endian magnitude without leading zeros. */
static size_t
bit_length(const unsigned char *p, size_t n)
{
	unsigned b;
	size_t bits;

	if (n == 0)
		return 0;
	bits = (n - 1) * 8;
	for (b = p[0]; b != 0; b >>= 1)
		bits++;
	return bits;
}

static enum x509_code
rsa_key(struct der bits, br_x509_pkey *pk)
{
	struct der key, n, e;

	if (der_expect(&bits, DER_SEQUENCE, &key, NULL) == -1 || bits.n != 0 ||
	    der_expect(&key, DER_INTEGER, &n, NULL) == -1 ||
	    der_expect(&key, DER_INTEGER, &e, NULL) == -1 || key.n != 0 ||
	    unsigned_int(&n) == -1 || unsigned_int(&e) == -1 ||
	    (e.n == 1 && e.p[0] < 3) || !(e.p[e.n - 1] & 1))
		return X509_E_MALFORMED;
	/* BearSSL's RSA code stops at 4096 bits; Go's minimum is 2048. */
	if (bit_length(n.p, n.n) < 2048)
		return X509_E_WEAK_KEY;
	if (n.n > RSA_MAX_BYTES || e.n > 4)
		return X509_E_KEY_TYPE;
	pk->key_type = BR_KEYTYPE_RSA;
	pk->key.rsa.n = (unsigned char *)n.p;
	pk->key.rsa.nlen = n.n;
	pk->key.rsa.e = (unsigned char *)e.p;
	pk->key.rsa.elen = e.n;
	return X509_OK;
}

static enum x509_code
ec_key(struct der params, struct der bits, br_x509_pkey *pk)
{
	int curve;
	size_t qlen;

	if (der_is(&params, OID_P256, sizeof OID_P256)) {
		curve = BR_EC_secp256r1;
		qlen = 65;
	} else if (der_is(&params, OID_P384, sizeof OID_P384)) {
		curve = BR_EC_secp384r1;
		qlen = 97;
	} else if (der_is(&params, OID_P521, sizeof OID_P521)) {
		curve = BR_EC_secp521r1;
		qlen = 133;
	} else {
		return X509_E_KEY_TYPE;
	}
	/* Uncompressed points only, as Go and BearSSL take them. */
	if (bits.n != qlen || bits.p[0] != 0x04)
		return X509_E_MALFORMED;
	pk->key_type = BR_KEYTYPE_EC;
	pk->key.ec.curve = curve;
	pk->key.ec.q = (unsigned char *)bits.p;
	pk->key.ec.qlen = bits.n;
	return X509_OK;
}

enum x509_code
x509_spki_key(struct der spki, br_x509_pkey *pk)
{
	struct der body, alg, oid, params, bits;
	unsigned tag;

	memset(pk, 0, sizeof *pk);
	if (der_expect(&spki, DER_SEQUENCE, &body, NULL) == -1 ||
	    der_expect(&body, DER_SEQUENCE, &alg, NULL) == -1 ||
	    der_expect(&body, DER_BIT_STRING, &bits, NULL) == -1 ||
	    body.n != 0 || der_expect(&alg, DER_OID, &oid, NULL) == -1 ||
	    bits.n < 2 || bits.p[0] != 0)
		return X509_E_MALFORMED;
	bits.p++;
	bits.n--;
	if (der_is(&oid, OID_RSA, sizeof OID_RSA)) {
		/* The parameters must be NULL (RFC 3279), as Go requires. */
		if (der_take(&alg, &tag, &params, NULL) == -1 ||
		    tag != DER_NULL || params.n != 0 || alg.n != 0)
			return X509_E_MALFORMED;
		return rsa_key(bits, pk);
	}
	if (der_is(&oid, OID_EC, sizeof OID_EC)) {
		if (der_take(&alg, &tag, &params, NULL) == -1 ||
		    tag != DER_OID || alg.n != 0)
			return X509_E_KEY_TYPE;
		return ec_key(params, bits, pk);
	}
	return X509_E_KEY_TYPE;
}

/* ---- names ---- */

void
x509_name_text(struct der name, char *out, size_t cap)
{
	struct der rdns, set, atv, oid, value, last = { NULL, 0 };
	unsigned tag;
	size_t i, o = 0;

	if (der_expect(&name, DER_SEQUENCE, &rdns, NULL) == 0)
		while (der_expect(&rdns, 0x31, &set, NULL) == 0)
			while (der_expect(&set, DER_SEQUENCE, &atv, NULL) == 0)
				if (der_expect(&atv, DER_OID, &oid, NULL) ==
				        0 &&
				    der_take(&atv, &tag, &value, NULL) == 0) {
					last = value;
					if (der_is(&oid, OID_CN, sizeof OID_CN))
						goto found;
				}
found:
	for (i = 0; i < last.n && o + 1 < cap; i++)
		out[o++] = (char)(last.p[i] >= 0x20 && last.p[i] < 0x7f ?
		        last.p[i] :
		        '?');
	if (last.n == 0 && cap > 2)
		out[o++] = '-';
	out[o] = '\0';
}

/* ---- signatures ---- */

static const unsigned char OID_RSA_SHA256[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7,
	0x0d, 0x01, 0x01, 0x0b };
static const unsigned char OID_RSA_SHA384[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7,
	0x0d, 0x01, 0x01, 0x0c };
static const unsigned char OID_RSA_SHA512[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7,
	0x0d, 0x01, 0x01, 0x0d };
static const unsigned char OID_RSA_PSS[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
	0x01, 0x01, 0x0a };
static const unsigned char OID_MGF1[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
	0x01, 0x01, 0x08 };
static const unsigned char OID_ECDSA_SHA256[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d,
	0x04, 0x03, 0x02 };
static const unsigned char OID_ECDSA_SHA384[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d,
	0x04, 0x03, 0x03 };
static const unsigned char OID_ECDSA_SHA512[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d,
	0x04, 0x03, 0x04 };
static const unsigned char OID_SHA256[] = { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
	0x04, 0x02, 0x01 };
static const unsigned char OID_SHA384[] = { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
	0x04, 0x02, 0x02 };
static const unsigned char OID_SHA512[] = { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
	0x04, 0x02, 0x03 };

enum sig_kind { SIG_RSA, SIG_PSS, SIG_ECDSA };

struct sig_alg {
	enum sig_kind kind;
	const br_hash_class *hash;
	const unsigned char *digest_info; /* PKCS#1 DigestInfo prefix */
};

/*
 * The DER of DigestInfo up to the hash (RFC 8017, 9.2, note 1), with
 * the NULL parameters: the only encoding Go and OpenSSL accept, where
 * br_rsa_pkcs1_vrfy also takes it without them.
 */
#define DIGEST_INFO_LEN 19
static const unsigned char DI_SHA256[DIGEST_INFO_LEN] = { 0x30, 0x31, 0x30,
	0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
	0x05, 0x00, 0x04, 0x20 };
static const unsigned char DI_SHA384[DIGEST_INFO_LEN] = { 0x30, 0x41, 0x30,
	0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02,
	0x05, 0x00, 0x04, 0x30 };
static const unsigned char DI_SHA512[DIGEST_INFO_LEN] = { 0x30, 0x51, 0x30,
	0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03,
	0x05, 0x00, 0x04, 0x40 };

static const struct {
	const unsigned char *oid;
	size_t len;
	struct sig_alg alg;
} sig_algs[] = {
	{ OID_RSA_SHA256, sizeof OID_RSA_SHA256,
	    { SIG_RSA, &br_sha256_vtable, DI_SHA256 } },
	{ OID_RSA_SHA384, sizeof OID_RSA_SHA384,
	    { SIG_RSA, &br_sha384_vtable, DI_SHA384 } },
	{ OID_RSA_SHA512, sizeof OID_RSA_SHA512,
	    { SIG_RSA, &br_sha512_vtable, DI_SHA512 } },
	{ OID_ECDSA_SHA256, sizeof OID_ECDSA_SHA256,
	    { SIG_ECDSA, &br_sha256_vtable, NULL } },
	{ OID_ECDSA_SHA384, sizeof OID_ECDSA_SHA384,
	    { SIG_ECDSA, &br_sha384_vtable, NULL } },
	{ OID_ECDSA_SHA512, sizeof OID_ECDSA_SHA512,
	    { SIG_ECDSA, &br_sha512_vtable, NULL } },
};

static const br_hash_class *
hash_by_oid(const struct der *oid)
{
	if (der_is(oid, OID_SHA256, sizeof OID_SHA256))
		return &br_sha256_vtable;
	if (der_is(oid, OID_SHA384, sizeof OID_SHA384))
		return &br_sha384_vtable;
	if (der_is(oid, OID_SHA512, sizeof OID_SHA512))
		return &br_sha512_vtable;
	return NULL;
}

/* A hash AlgorithmIdentifier's content: OID, then NULL or nothing. */
static const br_hash_class *
read_hash_alg(struct der alg)
{
	struct der oid, null;
	unsigned tag;

	if (der_expect(&alg, DER_OID, &oid, NULL) == -1)
		return NULL;
	if (alg.n > 0 &&
	    (der_take(&alg, &tag, &null, NULL) == -1 || tag != DER_NULL ||
	        null.n != 0 || alg.n != 0))
		return NULL;
	return hash_by_oid(&oid);
}

/*
 * RSASSA-PSS parameters as Go accepts them: SHA-256, -384 or -512, MGF1
 * with the same hash, a salt as long as the hash, trailer 1. Anything
 * else (SHA-1 by default) is refused.
 */
static enum x509_code
read_pss(struct der params, struct sig_alg *alg)
{
	struct der seq, el, inner, mgf_oid, mgf_hash;
	const br_hash_class *hash = NULL, *mgf = NULL;
	unsigned tag;
	size_t salt = 0;

	if (der_expect(&params, DER_SEQUENCE, &seq, NULL) == -1 ||
	    params.n != 0)
		return X509_E_MALFORMED;
	while (seq.n > 0) {
		if (der_take(&seq, &tag, &el, NULL) == -1)
			return X509_E_MALFORMED;
		if (tag == 0xa0 && hash == NULL) {
			if (der_expect(&el, DER_SEQUENCE, &inner, NULL) == -1 ||
			    el.n != 0 || (hash = read_hash_alg(inner)) == NULL)
				return X509_E_PSS;
		} else if (tag == 0xa1 && mgf == NULL) {
			if (der_expect(&el, DER_SEQUENCE, &inner, NULL) == -1 ||
			    der_expect(&inner, DER_OID, &mgf_oid, NULL) == -1 ||
			    !der_is(&mgf_oid, OID_MGF1, sizeof OID_MGF1) ||
			    der_expect(&inner, DER_SEQUENCE, &mgf_hash, NULL) ==
			        -1 ||
			    inner.n != 0 ||
			    (mgf = read_hash_alg(mgf_hash)) == NULL)
				return X509_E_PSS;
		} else if (tag == 0xa2 && salt == 0) {
			if (der_expect(&el, DER_INTEGER, &inner, NULL) == -1 ||
			    inner.n != 1 || el.n != 0)
				return X509_E_PSS;
			salt = inner.p[0];
		} else if (tag == 0xa3) {
			if (der_expect(&el, DER_INTEGER, &inner, NULL) == -1 ||
			    inner.n != 1 || inner.p[0] != 1 || el.n != 0)
				return X509_E_PSS;
		} else {
			return X509_E_MALFORMED;
		}
	}
	if (hash == NULL || mgf != hash ||
	    salt !=
	        ((hash->desc >> BR_HASHDESC_OUT_OFF) & BR_HASHDESC_OUT_MASK))
		return X509_E_PSS;
	alg->kind = SIG_PSS;
	alg->hash = hash;
	alg->digest_info = NULL;
	return X509_OK;
}

static enum x509_code
read_sig_alg(struct der whole, struct sig_alg *alg)
{
	struct der body, oid;
	size_t i;

	if (der_expect(&whole, DER_SEQUENCE, &body, NULL) == -1 ||
	    der_expect(&body, DER_OID, &oid, NULL) == -1)
		return X509_E_MALFORMED;
	if (der_is(&oid, OID_RSA_PSS, sizeof OID_RSA_PSS))
		return read_pss(body, alg);
	for (i = 0; i < sizeof sig_algs / sizeof sig_algs[0]; i++)
		if (der_is(&oid, sig_algs[i].oid, sig_algs[i].len)) {
			*alg = sig_algs[i].alg;
			return X509_OK;
		}
	return X509_E_SIG_ALGORITHM;
}

static size_t
hash_len(const br_hash_class *h)
{
	return (h->desc >> BR_HASHDESC_OUT_OFF) & BR_HASHDESC_OUT_MASK;
}

static void
hash_parts(const br_hash_class *h, const void *a, size_t alen, const void *b,
    size_t blen, const void *c, size_t clen, unsigned char *out)
{
	br_hash_compat_context ctx;

	h->init(&ctx.vtable);
	h->update(&ctx.vtable, a, alen);
	h->update(&ctx.vtable, b, blen);
	h->update(&ctx.vtable, c, clen);
	h->out(&ctx.vtable, out);
}

/* db ^= MGF1(seed) over db's length (RFC 8017, B.2.1). */
static void
mgf1_xor(const br_hash_class *h, const unsigned char *seed, size_t hlen,
    unsigned char *db, size_t len)
{
	unsigned char mask[64], counter[4];
	uint32_t c;
	size_t off, i;

	for (c = 0, off = 0; off < len; c++) {
		counter[0] = (unsigned char)(c >> 24);
		counter[1] = (unsigned char)(c >> 16);
		counter[2] = (unsigned char)(c >> 8);
		counter[3] = (unsigned char)c;
		hash_parts(h, seed, hlen, counter, 4, NULL, 0, mask);
		for (i = 0; i < hlen && off < len; i++)
			db[off++] ^= mask[i];
	}
}

/*
 * The encoded message EM of EMSA-PSS-VERIFY (RFC 8017, 9.1.2) in `em`,
 * of emBits = modBits - 1 bits: the signature raised to the public
 * exponent. Returns EM's length in bytes (EM ends the buffer), or 0.
 */
static size_t
pss_open(const br_rsa_public_key *pk, const struct der *sig, unsigned char *em,
    size_t *bits)
{
	size_t len;

	*bits = bit_length(pk->n, pk->nlen) - 1;
	if (sig->n != pk->nlen || sig->n > RSA_MAX_BYTES)
		return 0;
	memcpy(em, sig->p, sig->n);
	if (!br_rsa_public_get_default()(em, sig->n, pk))
		return 0;
	len = (*bits + 7) / 8;
	/* A modulus of 8k+1 bits leaves a leading zero byte outside EM. */
	if (sig->n > len && em[0] != 0)
		return 0;
	return len;
}

/* DB = PS (zeros) || 0x01 || salt of hlen bytes: the salt, or NULL. */
static const unsigned char *
pss_salt(const unsigned char *db, size_t db_len, size_t hlen)
{
	size_t i, pad = db_len - hlen - 1;

	for (i = 0; i < pad; i++)
		if (db[i] != 0)
			return NULL;
	return db[pad] == 0x01 ? db + pad + 1 : NULL;
}

/*
 * EMSA-PSS-VERIFY's checks over EM = maskedDB || H || 0xbc, with a salt
 * as long as the hash: Debian's BearSSL 0.6 has no PSS code of its own.
 */
static int
pss_verify(const br_rsa_public_key *pk, const struct der *sig,
    const br_hash_class *h, const unsigned char *mhash)
{
	static const unsigned char zeros[8];
	unsigned char buf[RSA_MAX_BYTES], check[64], *db, top;
	const unsigned char *salt;
	size_t hlen = hash_len(h), bits, em_len, db_len;

	if ((em_len = pss_open(pk, sig, buf, &bits)) == 0)
		return 0;
	db = buf + (sig->n - em_len);
	if (em_len < 2 * hlen + 2 || db[em_len - 1] != 0xbc)
		return 0;
	db_len = em_len - hlen - 1;
	top = (unsigned char)(0xff >> (8 * em_len - bits));
	if (db[0] & ~top)
		return 0;
	mgf1_xor(h, db + db_len, hlen, db, db_len);
	db[0] &= top;
	if ((salt = pss_salt(db, db_len, hlen)) == NULL)
		return 0;
	hash_parts(h, zeros, sizeof zeros, mhash, hlen, salt, hlen, check);
	return memcmp(check, db + db_len, hlen) == 0;
}

/*
 * RSASSA-PKCS1-v1_5 by comparing the whole encoded message, as Go does:
 * 00 01 FF..FF 00 DigestInfo hash, at least 8 bytes of padding.
 */
static int
pkcs1_verify(const br_rsa_public_key *pk, const struct der *sig,
    const unsigned char *digest_info, const unsigned char *hash, size_t hlen)
{
	unsigned char em[RSA_MAX_BYTES];
	size_t k = sig->n, t = DIGEST_INFO_LEN + hlen, i;

	if (k != pk->nlen || k > sizeof em || k < t + 11)
		return 0;
	memcpy(em, sig->p, k);
	if (!br_rsa_public_get_default()(em, k, pk) || em[0] != 0 ||
	    em[1] != 1 || em[k - t - 1] != 0)
		return 0;
	for (i = 2; i < k - t - 1; i++)
		if (em[i] != 0xff)
			return 0;
	return memcmp(em + k - t, digest_info, DIGEST_INFO_LEN) == 0 &&
	    memcmp(em + k - hlen, hash, hlen) == 0;
}

/* A minimal positive INTEGER, as DER wants it. */
static int
strict_uint(struct der *d)
{
	struct der v;

	return der_expect(d, DER_INTEGER, &v, NULL) == 0 && v.n > 0 &&
	    !(v.p[0] & 0x80) && !(v.n > 1 && v.p[0] == 0 && !(v.p[1] & 0x80));
}

/*
 * ECDSA-Sig-Value in DER only: BearSSL's decoder takes other encodings
 * of the same (r, s), which Go and OpenSSL refuse.
 */
static int
ecdsa_sig_der(const struct der *sig)
{
	struct der all = *sig, seq;

	return der_expect(&all, DER_SEQUENCE, &seq, NULL) == 0 && all.n == 0 &&
	    strict_uint(&seq) && strict_uint(&seq) && seq.n == 0;
}

/*
 * Each step is a bijection of the state for a given word and of the word
 * for a given state, so bytes changed within one word always change the
 * sum, and other changes miss it about once in 2^64.
 */
uint64_t
x509_sum(const struct der *d)
{
	const uint64_t k = 0x9e3779b97f4a7c15u;
	uint64_t h = (uint64_t)d->n * k, w;
	size_t i, n;

	for (i = 0; i < d->n; i += 8) {
		n = d->n - i < 8 ? d->n - i : 8;
		w = 0;
		memcpy(&w, d->p + i, n);
		h ^= w;
		h = (h << 31 | h >> 33) * k;
	}
	return h ^ h >> 29;
}

void
x509_hash(const struct der *d, unsigned char out[32])
{
	br_sha256_context h;

	br_sha256_init(&h);
	br_sha256_update(&h, d->p, d->n);
	br_sha256_out(&h, out);
}

void
x509_key_id(const br_x509_pkey *pk, unsigned char out[32])
{
	unsigned char head[5] = { pk->key_type };
	br_sha256_context h;

	br_sha256_init(&h);
	if (pk->key_type == BR_KEYTYPE_RSA) {
		/* The modulus's length keeps (n, e) from reading as another
		 * split of the same bytes. */
		head[1] = (unsigned char)(pk->key.rsa.nlen >> 8);
		head[2] = (unsigned char)pk->key.rsa.nlen;
		br_sha256_update(&h, head, sizeof head);
		br_sha256_update(&h, pk->key.rsa.n, pk->key.rsa.nlen);
		br_sha256_update(&h, pk->key.rsa.e, pk->key.rsa.elen);
	} else {
		head[1] = (unsigned char)pk->key.ec.curve;
		br_sha256_update(&h, head, sizeof head);
		br_sha256_update(&h, pk->key.ec.q, pk->key.ec.qlen);
	}
	br_sha256_out(&h, out);
}

enum x509_code
x509_check_signature(const struct x509_cert *c, const br_x509_pkey *key)
{
	struct sig_alg alg;
	unsigned char hash[64];
	enum x509_code code;
	size_t hlen;
	int ok;

	if ((code = read_sig_alg(c->sig_alg, &alg)) != X509_OK)
		return code;
	hlen = hash_len(alg.hash);
	hash_parts(alg.hash, c->tbs.p, c->tbs.n, NULL, 0, NULL, 0, hash);
	if (alg.kind == SIG_ECDSA) {
		if (key->key_type != BR_KEYTYPE_EC)
			return X509_E_SIGNATURE;
		ok = ecdsa_sig_der(&c->sig) &&
		    br_ecdsa_i31_vrfy_asn1(&br_ec_all_m31, hash, hlen,
		        &key->key.ec, c->sig.p, c->sig.n) == 1;
	} else if (key->key_type != BR_KEYTYPE_RSA) {
		return X509_E_SIGNATURE;
	} else if (alg.kind == SIG_PSS) {
		ok = pss_verify(&key->key.rsa, &c->sig, alg.hash, hash);
	} else {
		ok = pkcs1_verify(&key->key.rsa, &c->sig, alg.digest_info, hash,
		    hlen);
	}
	return ok ? X509_OK : X509_E_SIGNATURE;
}
