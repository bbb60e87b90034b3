/*
 * trust.c: the CA bundle as BearSSL trust anchors.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base64.h"
#include "der.h"
#include "trust.h"

/* An anchor while loading: offsets into the builder's byte store. */
struct anchor_rec {
	size_t dn_off, dn_len;
	size_t a_off, a_len;   /* RSA modulus, or EC point */
	size_t b_off, b_len;   /* RSA exponent */
	int key_type, curve;
	unsigned flags;
};

struct builder {
	unsigned char *bytes;
	size_t len, cap;
	struct anchor_rec *recs;
	size_t count, rcap;
	size_t skipped;
	int oom;
};

static size_t
store(struct builder *b, const void *data, size_t len)
{
	size_t off = b->len, ncap;
	unsigned char *p;

	if (b->oom)
		return 0;
	if (len > b->cap - b->len) {
		ncap = b->cap ? b->cap * 2 : 16384;
		while (ncap - b->len < len)
			ncap *= 2;
		if ((p = realloc(b->bytes, ncap)) == NULL) {
			b->oom = 1;
			return 0;
		}
		b->bytes = p;
		b->cap = ncap;
	}
	memcpy(b->bytes + b->len, data, len);
	b->len += len;
	return off;
}

static struct anchor_rec *
new_rec(struct builder *b)
{
	struct anchor_rec *p;
	size_t ncap;

	if (b->count == b->rcap) {
		ncap = b->rcap ? b->rcap * 2 : 64;
		if ((p = realloc(b->recs, ncap * sizeof *p)) == NULL) {
			b->oom = 1;
			return NULL;
		}
		b->recs = p;
		b->rcap = ncap;
	}
	return &b->recs[b->count];
}

/*
 * Reading the DER directly costs a few thousand instructions per
 * certificate, where br_x509_decoder costs half a million; chain
 * validation still runs in BearSSL.
 */

/* An INTEGER's magnitude, without the sign byte BearSSL does not want. */
static void
der_unsigned(struct der *v)
{
	while (v->n > 1 && v->p[0] == 0) {
		v->p++;
		v->n--;
	}
}

static const unsigned char OID_RSA[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
	0x01, 0x01, 0x01 };
static const unsigned char OID_EC[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
	0x01 };
static const unsigned char OID_P256[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03,
	0x01, 0x07 };
static const unsigned char OID_P384[] = { 0x2b, 0x81, 0x04, 0x00, 0x22 };
static const unsigned char OID_P521[] = { 0x2b, 0x81, 0x04, 0x00, 0x23 };
static const unsigned char OID_BASIC_CONSTRAINTS[] = { 0x55, 0x1d, 0x13 };

/* SubjectPublicKeyInfo into rec (offsets into b's store). */
static int
read_key(struct builder *b, struct anchor_rec *rec, struct der spki)
{
	struct der alg, oid, params, bits, key, n, e;
	unsigned tag;

	if (der_expect(&spki, DER_SEQUENCE, &alg, NULL) == -1 ||
	    der_expect(&spki, DER_BIT_STRING, &bits, NULL) == -1 ||
	    der_expect(&alg, DER_OID, &oid, NULL) == -1 ||
	    bits.n < 2 || bits.p[0] != 0)
		return -1;
	bits.p++;
	bits.n--;
	if (der_is(&oid, OID_RSA, sizeof OID_RSA)) {
		if (der_expect(&bits, DER_SEQUENCE, &key, NULL) == -1 ||
		    der_expect(&key, DER_INTEGER, &n, NULL) == -1 ||
		    der_expect(&key, DER_INTEGER, &e, NULL) == -1)
			return -1;
		der_unsigned(&n);
		der_unsigned(&e);
		rec->key_type = BR_KEYTYPE_RSA;
		rec->a_len = n.n;
		rec->a_off = store(b, n.p, n.n);
		rec->b_len = e.n;
		rec->b_off = store(b, e.p, e.n);
		return 0;
	}
	if (!der_is(&oid, OID_EC, sizeof OID_EC) ||
	    der_take(&alg, &tag, &params, NULL) == -1 || tag != DER_OID)
		return -1;
	if (der_is(&params, OID_P256, sizeof OID_P256))
		rec->curve = BR_EC_secp256r1;
	else if (der_is(&params, OID_P384, sizeof OID_P384))
		rec->curve = BR_EC_secp384r1;
	else if (der_is(&params, OID_P521, sizeof OID_P521))
		rec->curve = BR_EC_secp521r1;
	else
		return -1;
	rec->key_type = BR_KEYTYPE_EC;
	rec->a_len = bits.n;
	rec->a_off = store(b, bits.p, bits.n);
	return 0;
}

/* basicConstraints cA, as br_x509_decoder reads it. */
static int
is_ca(struct der exts)
{
	struct der value, bc, flag;

	return der_extension(exts, OID_BASIC_CONSTRAINTS,
	    sizeof OID_BASIC_CONSTRAINTS, &value) == 1 &&
	    der_expect(&value, DER_SEQUENCE, &bc, NULL) == 0 &&
	    der_expect(&bc, DER_BOOLEAN, &flag, NULL) == 0 &&
	    flag.n == 1 && flag.p[0] != 0;
}

/*
 * Read one certificate's subject and key into the builder. A certificate
 * that does not parse, or has a key type BearSSL cannot use, is counted
 * as skipped, not fatal: one odd entry must not take down a whole system
 * bundle.
 */
static void
add_cert(struct builder *b, const unsigned char *der, size_t len)
{
	struct der_cert cert;
	struct anchor_rec *rec;
	size_t start = b->len;

	if (der_cert_fields(der, len, &cert) == -1 ||
	    (rec = new_rec(b)) == NULL)
		goto skip;
	memset(rec, 0, sizeof *rec);
	rec->dn_off = store(b, cert.subject.p, cert.subject.n);
	rec->dn_len = cert.subject.n;
	if (read_key(b, rec, cert.spki) == -1)
		goto skip;
	if (is_ca(cert.extensions))
		rec->flags = BR_X509_TA_CA;
	if (b->oom)
		goto skip;
	b->count++;
	return;
skip:
	b->len = start;
	b->skipped++;
}

/*
 * The first `s` (which starts with '-') in p[0..end). Dashes are rare in
 * base64 text, so a memchr() scan for them beats a general memmem().
 */
static const unsigned char *
find(const unsigned char *p, const unsigned char *end, const char *s)
{
	size_t n = strlen(s);

	while ((p = memchr(p, '-', (size_t)(end - p))) != NULL) {
		if ((size_t)(end - p) < n)
			return NULL;
		if (memcmp(p, s, n) == 0)
			return p;
		p++;
	}
	return NULL;
}

/* Does the BEGIN label at p (up to its dashes) name a certificate? */
static int
cert_label(const unsigned char *p, const unsigned char *end)
{
	static const char *const labels[] = { "CERTIFICATE-----",
		"X509 CERTIFICATE-----", "TRUSTED CERTIFICATE-----" };
	size_t i, n;

	for (i = 0; i < sizeof labels / sizeof labels[0]; i++) {
		n = strlen(labels[i]);
		if ((size_t)(end - p) >= n && memcmp(p, labels[i], n) == 0)
			return 1;
	}
	return 0;
}

/* Bytes of a marker that may straddle the end of what has been read. */
#define MARKER_TAIL (sizeof "-----BEGIN " - 2)

/*
 * Read the complete PEM blocks in data[0..len) (decoding each block's
 * base64 over itself) and return how many leading bytes are done with: a
 * block whose END line has not arrived yet is kept for the next call.
 * Text outside BEGIN/END lines is ignored, and line ends may be LF or
 * CRLF, since a label is matched up to its dashes, not to the line end.
 */
static size_t
load_pem(struct builder *b, unsigned char *data, size_t len, int eof)
{
	const unsigned char *end = data + len, *p = data, *q, *stop;
	long n;

	while ((q = find(p, end, "-----BEGIN ")) != NULL) {
		if ((stop = find(q + 11, end, "-----END ")) == NULL)
			return eof ? len : (size_t)(q - data);
		p = stop + 9;
		q += 11;
		if (!cert_label(q, stop))
			continue;
		/* The body starts on the line after BEGIN. */
		while (q < stop && *q != '\n')
			q++;
		n = base64_decode((unsigned char *)q, q, (size_t)(stop - q),
		    BASE64_STD);
		if (n <= 0)
			b->skipped++;
		else
			add_cert(b, q, (size_t)n);
	}
	if (eof || (size_t)(end - p) <= MARKER_TAIL)
		return eof ? len : (size_t)(p - data);
	return len - MARKER_TAIL;
}

/* The same for DER certificates back to back. */
static size_t
load_der(struct builder *b, const unsigned char *data, size_t len, int eof)
{
	struct der rest = { data, len }, content, whole;
	unsigned tag;

	while (rest.n > 0) {
		if (der_take(&rest, &tag, &content, &whole) == -1) {
			if (!eof)
				break;
			b->skipped++;
			return len;
		}
		add_cert(b, whole.p, whole.n);
	}
	return len - rest.n;
}

/* Move the builder's anchors into one block owned by t. */
static int
finish(struct trust *t, struct builder *b, const char *name,
    struct err *err)
{
	br_x509_trust_anchor *ta;
	unsigned char *bytes;
	size_t i, head;

	if (b->oom)
		return err_set(err, ERR_TRUST, "loading the CA bundle %s: "
		    "out of memory", name);
	if (b->count == 0)
		return err_set(err, ERR_TRUST, "the CA bundle %s holds no "
		    "usable certificate (%zu could not be decoded): it must "
		    "be PEM (-----BEGIN CERTIFICATE-----) or DER", name,
		    b->skipped);
	head = b->count * sizeof *ta;
	if ((ta = malloc(head + b->len)) == NULL)
		return err_set(err, ERR_TRUST, "loading the CA bundle %s: "
		    "out of memory", name);
	bytes = (unsigned char *)ta + head;
	memcpy(bytes, b->bytes, b->len);
	for (i = 0; i < b->count; i++) {
		const struct anchor_rec *r = &b->recs[i];

		ta[i].dn.data = bytes + r->dn_off;
		ta[i].dn.len = r->dn_len;
		ta[i].flags = r->flags;
		ta[i].pkey.key_type = (unsigned char)r->key_type;
		if (r->key_type == BR_KEYTYPE_RSA) {
			ta[i].pkey.key.rsa.n = bytes + r->a_off;
			ta[i].pkey.key.rsa.nlen = r->a_len;
			ta[i].pkey.key.rsa.e = bytes + r->b_off;
			ta[i].pkey.key.rsa.elen = r->b_len;
		} else {
			ta[i].pkey.key.ec.curve = r->curve;
			ta[i].pkey.key.ec.q = bytes + r->a_off;
			ta[i].pkey.key.ec.qlen = r->a_len;
		}
	}
	trust_free(t);
	t->anchors = ta;
	t->block = ta;
	t->count = b->count;
	t->skipped = b->skipped;
	return 0;
}

/* Where a bundle comes from: a file, or memory (tests, fuzzing). */
struct source {
	int fd;
	const unsigned char *mem;
	size_t left;
};

static ssize_t
source_read(struct source *src, unsigned char *buf, size_t cap)
{
	ssize_t r;

	if (src->fd == -1) {
		if (cap > src->left)
			cap = src->left;
		memcpy(buf, src->mem, cap);
		src->mem += cap;
		src->left -= cap;
		return (ssize_t)cap;
	}
	while ((r = read(src->fd, buf, cap)) == -1 && errno == EINTR)
		;
	return r;
}

/*
 * Load through a window of TRUST_WINDOW bytes rather than the whole file:
 * peak memory stays flat whatever the bundle's size. A DER bundle is told
 * from PEM by its first bytes: a SEQUENCE with a long-form length.
 */
static int
load_source(struct trust *t, struct source *src, const char *name,
    struct err *err)
{
	struct builder b;
	unsigned char *win;
	size_t have = 0, used, total = 0;
	ssize_t r;
	int der = -1, rc = -1;

	memset(&b, 0, sizeof b);
	if ((win = malloc(TRUST_WINDOW)) == NULL)
		return err_set(err, ERR_TRUST, "loading the CA bundle %s: "
		    "out of memory", name);
	for (;;) {
		if ((r = source_read(src, win + have, TRUST_WINDOW - have)) ==
		    -1) {
			err_set(err, ERR_TRUST, "reading the CA bundle %s: %s",
			    name, strerror(errno));
			goto out;
		}
		have += (size_t)r;
		if ((total += (size_t)r) > TRUST_BUNDLE_MAX) {
			err_set(err, ERR_TRUST, "the CA bundle %s is larger "
			    "than %u bytes", name, TRUST_BUNDLE_MAX);
			goto out;
		}
		if (der == -1 && have >= 2)
			der = win[0] == 0x30 && win[1] >= 0x80;
		used = der == 1 ? load_der(&b, win, have, r == 0) :
		    load_pem(&b, win, have, r == 0);
		memmove(win, win + used, have - used);
		have -= used;
		if (r == 0)
			break;
		if (have == TRUST_WINDOW) {
			err_set(err, ERR_TRUST, "the CA bundle %s holds a "
			    "certificate larger than %u bytes", name,
			    TRUST_WINDOW);
			goto out;
		}
	}
	rc = finish(t, &b, name, err);
out:
	free(win);
	free(b.bytes);
	free(b.recs);
	return rc;
}

int
trust_load_mem(struct trust *t, const unsigned char *data, size_t len,
    const char *name, struct err *err)
{
	struct source src = { -1, data, len };

	if (load_source(t, &src, name, err) == -1)
		return -1;
	t->dev = 0;
	t->ino = 0;
	t->size = 0;
	t->mtime_ns = 0;
	return 0;
}

static int64_t
mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

int
trust_load_file(struct trust *t, const char *path, struct err *err)
{
	struct source src = { -1, NULL, 0 };
	struct stat st;
	int rc;

	if ((src.fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return err_set(err, ERR_TRUST, "opening the CA bundle %s: %s "
		    "(set CA_BUNDLE_PATH to the mounted bundle)", path,
		    strerror(errno));
	if (fstat(src.fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(src.fd);
		return err_set(err, ERR_TRUST, "the CA bundle %s is not a "
		    "regular file", path);
	}
	rc = load_source(t, &src, path, err);
	close(src.fd);
	if (rc == 0) {
		t->dev = st.st_dev;
		t->ino = st.st_ino;
		t->size = st.st_size;
		t->mtime_ns = mtime_ns(&st);
	}
	return rc;
}

int
trust_changed(const struct trust *t, const char *path)
{
	struct stat st;

	if (stat(path, &st) == -1)
		return 1;
	return st.st_dev != t->dev || st.st_ino != t->ino ||
	    st.st_size != t->size || mtime_ns(&st) != t->mtime_ns;
}

void
trust_free(struct trust *t)
{
	free(t->block);
	t->block = NULL;
	t->anchors = NULL;
	t->count = 0;
	t->skipped = 0;
}
