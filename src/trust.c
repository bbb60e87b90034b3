/*
 * trust.c: the CA bundle as BearSSL trust anchors.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static void
append_dn(void *ctx, const void *buf, size_t len)
{
	store(ctx, buf, len);
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

/* Length of the DER element at der (its header included), or 0. */
static size_t
der_len(const unsigned char *der, size_t n)
{
	size_t len, hdr, i, k;

	if (n < 2 || der[0] != 0x30)
		return 0;
	if (der[1] < 0x80) {
		len = der[1];
		hdr = 2;
	} else {
		k = der[1] & 0x7f;
		if (k == 0 || k > 3 || n < 2 + k)
			return 0;
		for (len = 0, i = 0; i < k; i++)
			len = len << 8 | der[2 + i];
		hdr = 2 + k;
	}
	return len <= n - hdr ? hdr + len : 0;
}

/*
 * Decode one certificate and keep its subject and key. A certificate
 * BearSSL cannot decode is counted as skipped, not fatal: one odd entry
 * must not take down a whole system bundle.
 */
static void
add_cert(struct builder *b, const unsigned char *der, size_t n)
{
	br_x509_decoder_context dc;
	struct anchor_rec *rec;
	const br_x509_pkey *pk;
	size_t dn_start = b->len;

	if ((n = der_len(der, n)) == 0 || (rec = new_rec(b)) == NULL) {
		b->skipped++;
		return;
	}
	br_x509_decoder_init(&dc, append_dn, b);
	br_x509_decoder_push(&dc, der, n);
	pk = br_x509_decoder_get_pkey(&dc);
	if (b->oom || pk == NULL || br_x509_decoder_last_error(&dc) != 0) {
		b->len = dn_start;
		b->skipped++;
		return;
	}
	memset(rec, 0, sizeof *rec);
	rec->dn_off = dn_start;
	rec->dn_len = b->len - dn_start;
	rec->flags = br_x509_decoder_isCA(&dc) ? BR_X509_TA_CA : 0;
	rec->key_type = pk->key_type;
	/* The key points into the decoder context: copy it now. */
	if (pk->key_type == BR_KEYTYPE_RSA) {
		rec->a_len = pk->key.rsa.nlen;
		rec->a_off = store(b, pk->key.rsa.n, rec->a_len);
		rec->b_len = pk->key.rsa.elen;
		rec->b_off = store(b, pk->key.rsa.e, rec->b_len);
	} else if (pk->key_type == BR_KEYTYPE_EC) {
		rec->curve = pk->key.ec.curve;
		rec->a_len = pk->key.ec.qlen;
		rec->a_off = store(b, pk->key.ec.q, rec->a_len);
	} else {
		b->len = dn_start;
		b->skipped++;
		return;
	}
	if (!b->oom)
		b->count++;
}

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Decode base64 from in[0..n) into out (which may be `in` itself: the
 * output never overtakes the input). White space is skipped; decoding
 * stops at '='. Returns the decoded length, or -1 on a foreign byte.
 */
static long
b64_decode(unsigned char *out, const unsigned char *in, size_t n)
{
	unsigned acc = 0;
	size_t i, o = 0;
	int bits = 0, v;

	for (i = 0; i < n; i++) {
		if (in[i] == ' ' || in[i] == '\t' || in[i] == '\r' ||
		    in[i] == '\n')
			continue;
		if (in[i] == '=')
			break;
		if ((v = b64_value(in[i])) < 0)
			return -1;
		acc = acc << 6 | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	return (long)o;
}

static const unsigned char *
find(const unsigned char *p, const unsigned char *end, const char *s)
{
	size_t n = strlen(s);

	for (; (size_t)(end - p) >= n; p++)
		if (*p == (unsigned char)s[0] && memcmp(p, s, n) == 0)
			return p;
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

/*
 * Walk the PEM blocks in data (modified in place: each block's base64 is
 * decoded over itself). Anything outside BEGIN/END lines is ignored, and
 * line ends may be LF or CRLF, since the label is matched up to its dashes
 * rather than to the end of the line.
 */
static void
load_pem(struct builder *b, unsigned char *data, size_t len)
{
	const unsigned char *end = data + len, *p = data, *q, *stop;
	long n;

	while ((q = find(p, end, "-----BEGIN ")) != NULL) {
		q += 11;
		if ((stop = find(q, end, "-----END ")) == NULL)
			return;
		p = stop + 9;
		if (!cert_label(q, stop))
			continue;
		/* The body starts on the line after BEGIN. */
		while (q < stop && *q != '\n')
			q++;
		n = b64_decode((unsigned char *)q, q, (size_t)(stop - q));
		if (n <= 0)
			b->skipped++;
		else
			add_cert(b, q, (size_t)n);
	}
}

static void
load_der(struct builder *b, const unsigned char *data, size_t len)
{
	size_t n;

	while (len > 0 && (n = der_len(data, len)) > 0) {
		add_cert(b, data, n);
		data += n;
		len -= n;
	}
	if (len > 0)
		b->skipped++;
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

/* Like trust_load_mem, but free to decode in place. */
static int
load_buffer(struct trust *t, unsigned char *data, size_t len,
    const char *name, struct err *err)
{
	struct builder b;
	int rc;

	memset(&b, 0, sizeof b);
	if (find(data, data + len, "-----BEGIN ") != NULL)
		load_pem(&b, data, len);
	else
		load_der(&b, data, len);
	rc = finish(t, &b, name, err);
	free(b.bytes);
	free(b.recs);
	return rc;
}

int
trust_load_mem(struct trust *t, const unsigned char *data, size_t len,
    const char *name, struct err *err)
{
	unsigned char *copy;
	int rc;

	if ((copy = malloc(len + 1)) == NULL)
		return err_set(err, ERR_TRUST, "loading the CA bundle %s: "
		    "out of memory", name);
	memcpy(copy, data, len);
	rc = load_buffer(t, copy, len, name, err);
	free(copy);
	if (rc == 0)
		t->dev = 0, t->ino = 0, t->size = 0, t->mtime_ns = 0;
	return rc;
}

static int64_t
mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

static int
read_all(int fd, unsigned char *buf, size_t len)
{
	size_t got = 0;
	ssize_t r;

	while (got < len) {
		r = read(fd, buf + got, len - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

int
trust_load_file(struct trust *t, const char *path, struct err *err)
{
	struct stat st;
	unsigned char *data;
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return err_set(err, ERR_TRUST, "opening the CA bundle %s: %s "
		    "(set CA_BUNDLE_PATH to the mounted bundle)", path,
		    strerror(errno));
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(err, ERR_TRUST, "the CA bundle %s is not a "
		    "regular file", path);
	}
	if ((uintmax_t)st.st_size > TRUST_BUNDLE_MAX) {
		close(fd);
		return err_set(err, ERR_TRUST, "the CA bundle %s is larger "
		    "than %u bytes", path, TRUST_BUNDLE_MAX);
	}
	if ((data = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return err_set(err, ERR_TRUST, "loading the CA bundle %s: "
		    "out of memory", path);
	}
	rc = read_all(fd, data, (size_t)st.st_size);
	close(fd);
	if (rc == -1) {
		free(data);
		return err_set(err, ERR_TRUST, "reading the CA bundle %s "
		    "failed", path);
	}
	rc = load_buffer(t, data, (size_t)st.st_size, path, err);
	free(data);
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
