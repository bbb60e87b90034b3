/*
 * trust.c: the CA bundle as BearSSL trust anchors.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base64.h"
#include "der.h"
#include "regular.h"
#include "trust.h"
#include "x509.h"

/*
 * The store is built where it stays: one private mapping reserved at its
 * largest, anchor records filled upwards from its start and the other
 * bytes (the bundle's name, the distrusted key ids) downwards from its
 * end. Only the pages written become resident; at the end the records
 * move up to the bytes and the rest is unmapped. A record is what finds
 * and proves an anchor, not the anchor: its name, key and constraints
 * are read again from the bundle when a chain names it
 * (x509_anchor_read()).
 *
 * A certificate of L bytes gives at most one record and its hash, or one
 * key id, smaller than any certificate that parses: twice the largest
 * bundle always suffices. It is checked all the same.
 */
#define STORE_RESERVE (2 * (size_t)TRUST_BUNDLE_MAX)

/*
 * The refused key ids get a reservation of their own, mapped at the first
 * one: each comes from a certificate, more than its 32 bytes of the
 * bundle, so the largest bundle's size always suffices.
 */
#define REFUSED_RESERVE ((size_t)TRUST_BUNDLE_MAX)

struct builder {
	unsigned char *block; /* the mapping: STORE_RESERVE bytes... */
	size_t mapped;        /* ...until pack() gives back its start */
	size_t count;         /* records at the start of block */
	size_t top;           /* stored bytes are block[top..STORE_RESERVE) */
	size_t largest;       /* the largest record's len */
	size_t skipped;
	struct trust_note notes[TRUST_NOTES];
	size_t nnotes;
	/* key_ids of certificates whose trust settings refuse TLS servers:
	 * every other copy of them in the bundle goes too. */
	unsigned char (*refused)[32]; /* NULL, or REFUSED_RESERVE bytes */
	size_t nrefused;
	int bad_trusted; /* a TRUSTED CERTIFICATE that cannot be read */
	int oom;
};

/* Where a certificate lies in the bundle, as its record keeps it. */
struct place {
	uint32_t off, len;
	unsigned flags; /* X509_ANCHOR_PEM or 0 */
};

static struct x509_anchor_ref *
refs(const struct builder *b)
{
	return (struct x509_anchor_ref *)(void *)b->block;
}

/* Is there room for `len` more bytes beside count + `more` records? */
static int
room(const struct builder *b, size_t more, size_t len)
{
	size_t low = (b->count + more) * sizeof(struct x509_anchor_ref);

	return low <= b->top && len <= b->top - low;
}

/* Take len bytes of the store: where they are, or NULL when full. */
static unsigned char *
reserve(struct builder *b, size_t len)
{
	/* The anchor being built takes the slot at index count. */
	if (b->oom || !room(b, 1, len)) {
		b->oom = 1;
		return NULL;
	}
	b->top -= len;
	return b->block + b->top;
}

/* Copy data[0..len) into the store: the copy, or NULL when full. */
static unsigned char *
store(struct builder *b, const void *data, size_t len)
{
	unsigned char *p = reserve(b, len);

	if (p != NULL && len > 0)
		memcpy(p, data, len);
	return p;
}

static const unsigned char OID_SERVER_AUTH[] = { 0x2b, 0x06, 0x01, 0x05, 0x05,
	0x07, 0x03, 0x01 };
static const unsigned char OID_ANY_EKU[] = { 0x55, 0x1d, 0x25, 0x00 };

/* Does a SEQUENCE OF OID's content name serverAuth or any purpose? */
static int
names_server_auth(struct der list)
{
	struct der oid;

	while (der_expect(&list, DER_OID, &oid, NULL) == 0)
		if (der_is(&oid, OID_SERVER_AUTH, sizeof OID_SERVER_AUTH) ||
		    der_is(&oid, OID_ANY_EKU, sizeof OID_ANY_EKU))
			return 1;
	return 0;
}

/* Is a SEQUENCE OF OID's content made of OIDs only? */
static int
oid_list_ok(struct der list)
{
	struct der oid;

	while (list.n > 0)
		if (der_expect(&list, DER_OID, &oid, NULL) == -1)
			return 0;
	return 1;
}

/*
 * OpenSSL's trust settings after a TRUSTED CERTIFICATE's DER (its
 * X509_CERT_AUX: trust SEQUENCE OF OID, then reject [0]). Returns NULL
 * when the anchor may serve TLS servers, else why not.
 */
static const char *
aux_refusal(struct der aux)
{
	struct der seq, list;

	static const char malformed[] = "its OpenSSL trust settings are "
	                                "malformed";

	/* Fail closed: settings that cannot be read may reject. */
	if (aux.n == 0)
		return NULL;
	if (der_expect(&aux, DER_SEQUENCE, &seq, NULL) == -1 || aux.n != 0)
		return malformed;
	if (seq.n > 0 && seq.p[0] == DER_SEQUENCE) {
		if (der_expect(&seq, DER_SEQUENCE, &list, NULL) == -1 ||
		    !oid_list_ok(list))
			return malformed;
		if (!names_server_auth(list))
			return "its OpenSSL trust settings leave out serverAuth";
	}
	if (seq.n > 0 && seq.p[0] == 0xa0) {
		if (der_expect(&seq, 0xa0, &list, NULL) == -1 ||
		    !oid_list_ok(list))
			return malformed;
		if (names_server_auth(list))
			return "its OpenSSL trust settings reject serverAuth";
	}
	return NULL;
}

/* Why a parsed certificate cannot anchor TLS server chains, or NULL. */
static const char *
anchor_refusal(const struct x509_cert *c, enum x509_code key)
{
	if (key == X509_E_WEAK_KEY)
		return "its RSA key is shorter than 2048 bits";
	if (key != X509_OK)
		return "its key type is not supported";
	if (c->has_eku && !c->eku_server)
		return "its extended key usage leaves out serverAuth";
	if (c->unknown_critical)
		return "it has a critical extension this client does not know";
	return NULL;
}

static void
note(struct builder *b, const struct x509_cert *c, const char *why)
{
	struct trust_note *n;

	b->skipped++;
	if (b->nnotes == TRUST_NOTES)
		return;
	n = &b->notes[b->nnotes++];
	x509_name_text(c->subject, n->subject, sizeof n->subject);
	n->why = why;
}

/*
 * An anonymous mapping of len bytes, reserved but backed only where it is
 * touched (the builder's store, the window, the refused ids: no
 * allocator), or NULL. Where transparent huge pages are always on, the
 * first byte stored would make 2 MiB resident; kernels without them
 * refuse the advice, which is then not needed.
 */
static void *
map_reserve(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	(void)madvise(p, len, MADV_NOHUGEPAGE);
	return p;
}

static void
refuse_key(struct builder *b, const unsigned char id[32])
{
	if ((b->refused == NULL &&
	        (b->refused = map_reserve(REFUSED_RESERVE)) == NULL) ||
	    b->nrefused == REFUSED_RESERVE / 32) {
		b->oom = 1;
		return;
	}
	memcpy(b->refused[b->nrefused++], id, 32);
}

static int
key_refused(const struct builder *b, const unsigned char id[32])
{
	size_t i;

	for (i = 0; i < b->nrefused; i++)
		if (memcmp(b->refused[i], id, 32) == 0)
			return 1;
	return 0;
}

/*
 * Refuse the key of a SubjectPublicKeyInfo. One this code cannot read
 * or use (another algorithm, RSA under 2048 bits) can never sign or
 * serve on a path here, so there is nothing to refuse.
 */
static void
refuse_spki(struct builder *b, struct der spki)
{
	br_x509_pkey pk;
	unsigned char id[32];

	if (x509_spki_key(spki, &pk) != X509_OK)
		return;
	x509_key_id(&pk, id);
	refuse_key(b, id);
}

/*
 * A TRUSTED CERTIFICATE that refuses TLS servers, whose certificate this
 * code cannot read: its key is refused all the same, found by a lenient
 * walk to the SubjectPublicKeyInfo. A distrust that cannot be honoured
 * fails the whole load: OpenSSL refuses such a file too.
 */
static void
refuse_unreadable(struct builder *b, struct der whole)
{
	struct der body, tbs, el, spki;
	unsigned tag;
	int i;

	if (der_take(&whole, &tag, &body, NULL) == -1 ||
	    der_take(&body, &tag, &tbs, NULL) == -1 ||
	    (tbs.n > 0 && tbs.p[0] == 0xa0 &&
	        der_take(&tbs, &tag, &el, NULL) == -1)) {
		b->bad_trusted = 1;
		return;
	}
	/* serialNumber, signature, issuer, validity, subject */
	for (i = 0; i < 5; i++)
		if (der_take(&tbs, &tag, &el, NULL) == -1) {
			b->bad_trusted = 1;
			return;
		}
	if (der_take(&tbs, &tag, &el, &spki) == -1) {
		b->bad_trusted = 1;
		return;
	}
	refuse_spki(b, spki);
}

/*
 * Read one certificate (and, from a TRUSTED CERTIFICATE block, the trust
 * settings after it) into the builder. A certificate that does not parse
 * is counted as skipped; one that parses but cannot anchor a server's
 * chain is skipped with a note naming it: one odd entry must not take
 * down a whole system bundle.
 */
static void
add_cert(struct builder *b, const unsigned char *der, size_t len, int trusted,
    const struct place *at)
{
	struct der all = { der, len }, content, whole;
	struct x509_cert c;
	struct x509_anchor_ref *r;
	br_x509_pkey pk;
	unsigned char *hash = NULL;
	const char *why;
	unsigned tag;

	if (der_take(&all, &tag, &content, &whole) == -1 ||
	    (!trusted && all.n != 0)) {
		b->skipped++;
		b->bad_trusted |= trusted;
		return;
	}
	if (x509_cert_parse(whole.p, whole.n, &c) != X509_OK) {
		if (trusted && aux_refusal(all) != NULL)
			refuse_unreadable(b, whole);
		b->skipped++;
		return;
	}
	if (trusted && (why = aux_refusal(all)) != NULL) {
		refuse_spki(b, c.spki);
		note(b, &c, why);
		return;
	}
	if ((why = anchor_refusal(&c, x509_spki_key(c.spki, &pk))) != NULL) {
		note(b, &c, why);
		return;
	}
	/* Only a non-CA anchor can stand for the leaf itself: a CA's own
	 * certificate as a leaf is checked by its signature. */
	if (!x509_anchor_flags(&c) && (hash = reserve(b, 32)) != NULL)
		x509_hash(&whole, hash);
	if (b->oom || !room(b, 1, 0)) {
		b->oom = 1;
		return;
	}
	r = &refs(b)[b->count++];
	r->dn_sum = x509_sum(&c.subject);
	r->sum = x509_sum(&whole);
	r->off = at->off;
	r->len = at->len;
	r->flags = at->flags | x509_anchor_flags(&c);
	r->cert_hash = hash;
	if (at->len > b->largest)
		b->largest = at->len;
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

/*
 * Does the BEGIN label at p (up to its dashes) name a certificate?
 * Returns 0 when not, 1 for a plain one, 2 for OpenSSL's TRUSTED
 * CERTIFICATE (the DER followed by trust settings).
 */
static int
cert_label(const unsigned char *p, const unsigned char *end)
{
	static const char *const labels[] = { "CERTIFICATE-----",
		"X509 CERTIFICATE-----", "TRUSTED CERTIFICATE-----" };
	size_t i, n;

	for (i = 0; i < sizeof labels / sizeof labels[0]; i++) {
		n = strlen(labels[i]);
		if ((size_t)(end - p) >= n && memcmp(p, labels[i], n) == 0)
			return i == 2 ? 2 : 1;
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
load_pem(struct builder *b, unsigned char *data, size_t len, int eof,
    size_t base)
{
	const unsigned char *end = data + len, *p = data, *q, *stop;
	struct place at = { 0, 0, X509_ANCHOR_PEM };
	long n;
	int label;

	while ((q = find(p, end, "-----BEGIN ")) != NULL) {
		if ((stop = find(q + 11, end, "-----END ")) == NULL)
			return eof ? len : (size_t)(q - data);
		p = stop + 9;
		q += 11;
		if ((label = cert_label(q, stop)) == 0)
			continue;
		/* The body starts on the line after BEGIN. */
		while (q < stop && *q != '\n')
			q++;
		at.off = (uint32_t)(base + (size_t)(q - data));
		at.len = (uint32_t)(stop - q);
		n = base64_decode((unsigned char *)q, q, (size_t)(stop - q),
		    BASE64_STD);
		if (n <= 0) {
			b->skipped++;
			b->bad_trusted |= label == 2;
		} else
			add_cert(b, q, (size_t)n, label == 2, &at);
	}
	if (eof || (size_t)(end - p) <= MARKER_TAIL)
		return eof ? len : (size_t)(p - data);
	return len - MARKER_TAIL;
}

/* The same for DER certificates back to back. */
static size_t
load_der(struct builder *b, const unsigned char *data, size_t len, int eof,
    size_t base)
{
	struct der rest = { data, len }, content, whole;
	struct place at = { 0, 0, 0 };
	unsigned tag;

	while (rest.n > 0) {
		if (der_take(&rest, &tag, &content, &whole) == -1) {
			if (!eof)
				break;
			b->skipped++;
			return len;
		}
		at.off = (uint32_t)(base + (size_t)(whole.p - data));
		at.len = (uint32_t)whole.n;
		add_cert(b, whole.p, whole.n, 0, &at);
	}
	return len - rest.n;
}

/* Where a bundle comes from: a file, or memory (tests, fuzzing). */
struct source {
	int fd;                    /* -1 for memory */
	const unsigned char *base; /* the memory... */
	size_t len;
	size_t at; /* ...and how much of it was read */
};

/* The store of the records built so far, to read anchors from. */
static struct x509_store
view(const struct builder *b, const struct source *src, const char *name)
{
	struct x509_store s = { .refs = refs(b),
		.count = b->count,
		.fd = src->fd,
		.mem = src->base,
		.mem_len = src->len,
		.name = name };

	return s;
}

/*
 * Drop every anchor another copy of which in the bundle has trust
 * settings refusing TLS servers, in whichever order they came: OpenSSL
 * keeps whichever copy comes first, and a rejection must not depend on
 * that. The keys are read again from the bundle into buf[0..cap), which
 * held every block. Returns 0, or -1 when the bundle changed meanwhile.
 */
static int
drop_refused(struct builder *b, const struct source *src, const char *name,
    unsigned char *buf, size_t cap)
{
	struct x509_store s = view(b, src, name);
	struct x509_anchor_ref *r = refs(b);
	struct x509_anchor a;
	struct trust_note *n;
	unsigned char id[32];
	size_t i, kept = 0;

	/* Read only here, and only when there is a distrust: the Debian
	 * bundle's 144 keys cost 2.8 M instructions to hash. */
	if (b->nrefused == 0)
		return 0;
	for (i = 0; i < b->count; i++) {
		if (x509_anchor_read(&s, &r[i], buf, cap, &a) != X509_OK)
			return -1;
		x509_key_id(&a.pkey, id);
		if (!key_refused(b, id)) {
			r[kept++] = r[i];
			continue;
		}
		b->skipped++;
		if (b->nnotes == TRUST_NOTES)
			continue;
		n = &b->notes[b->nnotes++];
		x509_name_text(a.dn, n->subject, sizeof n->subject);
		n->why = "another copy of it in the bundle has OpenSSL trust "
		         "settings that refuse TLS servers";
	}
	b->count = kept;
	return 0;
}

/*
 * Move the records up to just below the other bytes and give back the
 * pages under them: the store ends as one run of pages, a small one (a
 * one-root bundle) as a single page. Returns the records' new place.
 */
static struct x509_anchor_ref *
pack(struct builder *b)
{
	size_t page = (size_t)getauxval(AT_PAGESZ);
	size_t len = b->count * sizeof(struct x509_anchor_ref);
	size_t at = (b->top - len) / _Alignof(struct x509_anchor_ref) *
	    _Alignof(struct x509_anchor_ref);
	size_t drop = at / page * page;

	memmove(b->block + at, b->block, len);
	/* The mapping now starts past what is given back: the kernel may
	 * place the next load's mapping there. A failure to unmap would
	 * only leave the pages mapped. */
	if (drop > 0 && munmap(b->block, drop) == 0) {
		b->block += drop;
		b->mapped -= drop;
		at -= drop;
	}
	return (struct x509_anchor_ref *)(void *)(b->block + at);
}

/* len rounded up to whole pages. */
static size_t
whole_pages(size_t len)
{
	size_t page = (size_t)getauxval(AT_PAGESZ);

	return (len + page - 1) / page * page;
}

/*
 * `len` bytes (whole pages) of the store, page-aligned, never written but
 * by a verification: resident only once it does. Returns them, or NULL
 * when the store is full.
 */
static unsigned char *
store_pages(struct builder *b, size_t len)
{
	size_t page = (size_t)getauxval(AT_PAGESZ);
	size_t low = b->count * sizeof(struct x509_anchor_ref);
	size_t top = b->top / page * page;

	if (b->oom || top < low || len > top - low) {
		b->oom = 1;
		return NULL;
	}
	b->top = top - len;
	return b->block + b->top;
}

/*
 * The bundle's name, the distrusted key ids, the scratch for the largest
 * record (its pages given back by wipe() after each verification) and
 * the anchor cache (a fresh mapping's bytes are zero: empty) into the
 * store.
 */
static void
store_tail(struct builder *b, const char *name, struct x509_store *s)
{
	s->cache = (struct x509_anchor_cache *)(void *)store_pages(b,
	    whole_pages(sizeof *s->cache));
	s->scratch_len = whole_pages(b->largest);
	s->scratch = store_pages(b, s->scratch_len);
	s->name = (const char *)store(b, name, strlen(name) + 1);
	/* A fresh mapping's byte is zero: not changed. */
	s->changed = reserve(b, 1);
	s->distrusted = (const unsigned char(*)[32])(void *)store(b, b->refused,
	    b->nrefused * 32);
	s->ndistrusted = b->nrefused;
}

/*
 * Hand the builder's store to t, with the source it reads anchors from;
 * buf[0..cap) held every block of the bundle.
 */
static int
finish(struct trust *t, struct builder *b, const struct source *src,
    const char *name, unsigned char *buf, size_t cap, struct err *err)
{
	struct x509_store s = view(b, src, name);

	if (drop_refused(b, src, name, buf, cap) == -1)
		return err_set(err, ERR_TRUST,
		    "the CA bundle %s changed while it was loaded: it is "
		    "loaded again when it next changes",
		    name);
	if (b->bad_trusted)
		return err_set(err, ERR_TRUST,
		    "the CA bundle %s holds a TRUSTED "
		    "CERTIFICATE whose certificate or trust settings cannot be "
		    "read, so a distrust in it could not be honoured: fix or "
		    "remove that block",
		    name);
	store_tail(b, name, &s);
	if (b->oom)
		return err_set(err, ERR_TRUST,
		    "loading the CA bundle %s: out of memory", name);
	if (b->count == 0)
		return err_set(err, ERR_TRUST,
		    "the CA bundle %s holds no "
		    "usable certificate (%zu skipped): it must be PEM "
		    "(-----BEGIN CERTIFICATE-----) or DER, with CA "
		    "certificates usable for TLS servers",
		    name, b->skipped);
	s.count = b->count;
	s.refs = pack(b);
	trust_free(t);
	t->store = s;
	t->block = b->block;
	t->block_len = b->mapped;
	b->block = NULL;
	t->skipped = b->skipped;
	memcpy(t->notes, b->notes, sizeof t->notes);
	t->nnotes = b->nnotes;
	return 0;
}

static ssize_t
source_read(struct source *src, unsigned char *buf, size_t cap)
{
	ssize_t r;

	if (src->fd == -1) {
		if (cap > src->len - src->at)
			cap = src->len - src->at;
		memcpy(buf, src->base + src->at, cap);
		src->at += cap;
		return (ssize_t)cap;
	}
	while ((r = read(src->fd, buf, cap)) == -1 && errno == EINTR)
		;
	return r;
}
/* An empty builder, its store reserved. Returns 0 or -1 with err set. */
static int
builder_init(struct builder *b, const char *name, struct err *err)
{
	memset(b, 0, sizeof *b);
	b->top = STORE_RESERVE;
	b->mapped = STORE_RESERVE;
	if ((b->block = map_reserve(STORE_RESERVE)) == NULL)
		return err_set(err, ERR_TRUST,
		    "loading the CA bundle %s: out of memory", name);
	return 0;
}

/*
 * Double the window, full without a whole certificate in it: its
 * reservation is TRUST_WINDOW bytes, the pages past cap untouched until
 * then. Returns 0, or -1 with err set when it is at TRUST_WINDOW already.
 */
static int
grow(size_t *cap, const char *name, struct err *err)
{
	if (*cap == TRUST_WINDOW)
		return err_set(err, ERR_TRUST,
		    "the CA bundle %s holds a certificate larger than %u bytes",
		    name, TRUST_WINDOW);
	*cap *= 2;
	return 0;
}

/*
 * Load through a window rather than the whole file: peak memory stays
 * flat whatever the bundle's size. The window starts at TRUST_WINDOW_MIN
 * and doubles, up to TRUST_WINDOW, only for a certificate that does not
 * fit. A DER bundle is told from PEM by its first bytes: a SEQUENCE with
 * a long-form length.
 */
static int
load_source(struct trust *t, struct source *src, const char *name,
    struct err *err)
{
	struct builder b;
	unsigned char *win;
	size_t have = 0, used, total = 0, cap = TRUST_WINDOW_MIN;
	ssize_t r;
	int der = -1, rc = -1;

	if (builder_init(&b, name, err) == -1)
		return -1;
	if ((win = map_reserve(TRUST_WINDOW)) == NULL) {
		err_set(err, ERR_TRUST,
		    "loading the CA bundle %s: out of memory", name);
		goto out;
	}
	for (;;) {
		if ((r = source_read(src, win + have, cap - have)) == -1) {
			err_set(err, ERR_TRUST, "reading the CA bundle %s: %s",
			    name, strerror(errno));
			goto out;
		}
		have += (size_t)r;
		if ((total += (size_t)r) > TRUST_BUNDLE_MAX) {
			err_set(err, ERR_TRUST,
			    "the CA bundle %s is larger than %u bytes", name,
			    TRUST_BUNDLE_MAX);
			goto out;
		}
		if (der == -1 && have >= 2)
			der = win[0] == 0x30 && win[1] >= 0x80;
		/* win[0] is at offset total - have of the bundle. */
		used = der == 1 ?
		    load_der(&b, win, have, r == 0, total - have) :
		    load_pem(&b, win, have, r == 0, total - have);
		memmove(win, win + used, have - used);
		have -= used;
		if (r == 0)
			break;
		if (have == cap && grow(&cap, name, err) == -1)
			goto out;
	}
	rc = finish(t, &b, src, name, win, cap, err);
out:
	if (win != NULL)
		(void)munmap(win, TRUST_WINDOW);
	if (b.refused != NULL)
		(void)munmap(b.refused, REFUSED_RESERVE);
	if (b.block != NULL)
		(void)munmap(b.block, b.mapped);
	return rc;
}

int
trust_load_mem(struct trust *t, const unsigned char *data, size_t len,
    const char *name, struct err *err)
{
	struct source src = { -1, data, len, 0 };

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
	struct source src = { -1, NULL, 0, 0 };
	struct stat st;

	/* Its type is known before it is opened: a FIFO put at the path
	 * would block the event loop in open(). O_NONBLOCK does not change
	 * how a regular file reads. */
	if ((src.fd = regular_open(path)) == -1)
		return errno == EINVAL ?
		    err_set(err, ERR_TRUST,
		        "the CA bundle %s is not a regular file (set "
		        "CA_BUNDLE_PATH to the mounted bundle)",
		        path) :
		    err_set(err, ERR_TRUST,
		        "opening the CA bundle %s: %s "
		        "(set CA_BUNDLE_PATH to the mounted bundle)",
		        path, strerror(errno));
	if (fstat(src.fd, &st) == -1) {
		err_set(err, ERR_TRUST, "reading the CA bundle %s: %s", path,
		    strerror(errno));
		(void)close(src.fd);
		return -1;
	}
	/* On success the store keeps the descriptor, to read anchors. */
	if (load_source(t, &src, path, err) == -1) {
		close(src.fd);
		return -1;
	}
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	t->size = st.st_size;
	t->mtime_ns = mtime_ns(&st);
	return 0;
}

/* Is st another file than the one loaded into t, or the same changed? */
static int
differs(const struct trust *t, const struct stat *st)
{
	return st->st_dev != t->dev || st->st_ino != t->ino ||
	    st->st_size != t->size || mtime_ns(st) != t->mtime_ns;
}

int
trust_changed(const struct trust *t, const char *path)
{
	struct stat st;

	if (t->store.changed != NULL && *t->store.changed)
		return 1;
	if (stat(path, &st) == -1)
		return 1;
	return differs(t, &st);
}

int
trust_stale(const struct trust *t)
{
	struct stat st;

	if (t->block == NULL || t->store.fd == -1)
		return 0;
	if (t->store.changed != NULL && *t->store.changed)
		return 1;
	return fstat(t->store.fd, &st) == -1 || differs(t, &st);
}

void
trust_free(struct trust *t)
{
	/* A store from a file holds its descriptor; one from memory, -1. */
	if (t->block != NULL && t->store.fd != -1)
		(void)close(t->store.fd);
	if (t->block != NULL)
		(void)munmap(t->block, t->block_len);
	t->block = NULL;
	t->block_len = 0;
	memset(&t->store, 0, sizeof t->store);
	t->store.fd = -1;
	t->skipped = 0;
	t->nnotes = 0;
}

/*
 * Bytes [off, off+len) of the file, all of them. Returns 0, or -1 when
 * they cannot be read: the file is shorter than when it was loaded.
 */
static int
read_at(int fd, unsigned char *buf, size_t len, off_t off)
{
	size_t got = 0;
	ssize_t r;

	while (got < len) {
		r = pread(fd, buf + got, len - got, off + (off_t)got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* The DER of r's certificate, decoded into buf, or p->n 0 when not. */
static struct der
anchor_der(const struct x509_store *s, const struct x509_anchor_ref *r,
    unsigned char *buf)
{
	struct der d = { buf, 0 };
	const unsigned char *in = buf;
	long n;

	/* From memory the bytes are read where they are: the caller keeps
	 * them as loaded. */
	if (s->mem != NULL && r->len <= s->mem_len &&
	    r->off <= s->mem_len - r->len)
		in = s->mem + r->off;
	else if (s->mem != NULL ||
	    read_at(s->fd, buf, r->len, (off_t)r->off) == -1)
		return d;
	if (!(r->flags & X509_ANCHOR_PEM)) {
		d.p = in;
		d.n = r->len;
	} else if ((n = base64_decode(buf, in, r->len, BASE64_STD)) > 0)
		d.n = (size_t)n;
	return d;
}

/* An anchor's fields from its certificate's DER, pointing into it. */
static enum x509_code
anchor_parse(const unsigned char *der, size_t len, unsigned flags,
    struct x509_anchor *a)
{
	struct x509_cert c;
	enum x509_code code;

	if ((code = x509_cert_parse(der, len, &c)) != X509_OK ||
	    (code = x509_spki_key(c.spki, &a->pkey)) != X509_OK)
		return code;
	a->dn = c.subject;
	a->not_before = c.not_before;
	a->not_after = c.not_after;
	a->constraints = c.constraints;
	a->path_len = c.path_len;
	a->flags = flags & X509_ANCHOR_CA;
	return X509_OK;
}

/* r's anchor in the cache, or NULL. */
static const struct x509_anchor *
cache_find(const struct x509_anchor_cache *c, const struct x509_anchor_ref *r)
{
	size_t i;

	for (i = 0; c != NULL && i < c->count; i++)
		if (c->ref[i] == r)
			return &c->anchor[i];
	return NULL;
}

/*
 * Keep r's certificate, just read and proved (`whole`), in the cache
 * when it has room: parsed again from the copy, so the anchor points
 * into the cache. A full cache keeps what it has: each anchor in it was
 * named by a chain already, and the next chain most likely names it too.
 */
static void
cache_put(struct x509_anchor_cache *c, const struct x509_anchor_ref *r,
    const struct der *whole)
{
	unsigned char *copy;

	if (c == NULL || c->count == X509_CACHE_ANCHORS ||
	    whole->n > X509_CACHE_BYTES - c->used)
		return;
	copy = c->bytes + c->used;
	memcpy(copy, whole->p, whole->n);
	if (anchor_parse(copy, whole->n, r->flags, &c->anchor[c->count]) !=
	    X509_OK)
		return;
	c->ref[c->count++] = r;
	c->used += whole->n;
}

enum x509_code
x509_anchor_read(const struct x509_store *s, const struct x509_anchor_ref *r,
    unsigned char *buf, size_t cap, struct x509_anchor *a)
{
	return x509_anchor_named(s, r, NULL, buf, cap, a);
}

enum x509_code
x509_anchor_named(const struct x509_store *s, const struct x509_anchor_ref *r,
    const struct der *name, unsigned char *buf, size_t cap,
    struct x509_anchor *a)
{
	const struct x509_anchor *kept = cache_find(s->cache, r);
	struct der all, content, whole;
	unsigned tag;

	if (kept != NULL) {
		if (name != NULL && !der_is(name, kept->dn.p, kept->dn.n))
			return X509_E_UNTRUSTED;
		*a = *kept;
		return X509_OK;
	}
	/* The certificate is the first element: a TRUSTED CERTIFICATE's
	 * trust settings follow it. The same bytes as at the load parse as
	 * they did then; anything else is another file. */
	if (r->len <= cap && (all = anchor_der(s, r, buf)).n > 0 &&
	    der_take(&all, &tag, &content, &whole) == 0 &&
	    x509_sum(&whole) == r->sum &&
	    anchor_parse(whole.p, whole.n, r->flags, a) == X509_OK) {
		/* Only the name wanted is kept: names that merely share its
		 * sum, which a server can craft, must not fill the cache. */
		if (name != NULL && !der_is(name, a->dn.p, a->dn.n))
			return X509_E_UNTRUSTED;
		cache_put(s->cache, r, &whole);
		return X509_OK;
	}
	if (s->changed != NULL)
		*s->changed = 1;
	return X509_E_BUNDLE_CHANGED;
}
