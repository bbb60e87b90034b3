/*
 * keyfile.c: a PEM private key and a PEM certificate chain.
 *
 * One walker feeds a file or a buffer through BearSSL's PEM decoder, CRs
 * dropped first (BearSSL's decoder reads "KEY-----\r" as part of the
 * name), and hands each block to the key or the chain reader. Decoded
 * bytes pass through small buffers on the stack, wiped before returning.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "fmt.h"
#include "keyfile.h"
#include "regular.h"
#include "x509.h"
#include "wipe.h"

#define READ_CHUNK 4096

struct walk;

/* What the walker does with blocks: `begin` returns 1 to capture, 0 to
 * skip, -1 with err set to stop; `end` closes a captured block. */
struct walk_ops {
	int (*begin)(struct walk *w, const char *name);
	int (*end)(struct walk *w);
};

struct walk {
	br_pem_decoder_context pem;
	const struct walk_ops *ops;
	const char *what;
	struct err *err;
	int in_block;
	int captured; /* blocks captured so far */
	/* the key reader's state */
	br_skey_decoder_context skey;
	/* the chain reader's state */
	struct keyfile_chain *chain;
	size_t start; /* where the open certificate's bytes began */
	int overflow; /* bytes past the chain's buffer or after the key */
};

static int
walk_block(struct walk *w, int event)
{
	int rc;

	switch (event) {
	case BR_PEM_BEGIN_OBJ:
		w->in_block = 1;
		rc = w->ops->begin(w, br_pem_decoder_name(&w->pem));
		if (rc == -1)
			return -1;
		if (rc == 0)
			br_pem_decoder_setdest(&w->pem, NULL, NULL);
		w->captured += rc;
		w->in_block = rc == 1 ? 2 : 1;
		return 0;
	case BR_PEM_END_OBJ:
		rc = w->in_block == 2 ? w->ops->end(w) : 0;
		w->in_block = 0;
		return rc;
	case BR_PEM_ERROR:
		return err_set(w->err, ERR_CONFIG,
		    "%s: not valid PEM (a damaged block, or a traditional "
		    "encrypted key: encrypted keys are not supported)",
		    w->what);
	default:
		return 0;
	}
}

/* Push data[0..len) with CRs dropped. */
static int
walk_push(struct walk *w, const unsigned char *data, size_t len)
{
	unsigned char tmp[512];
	size_t i, n, done;
	int rc = 0;

	while (len > 0 && rc == 0) {
		for (i = n = 0; i < len && n < sizeof tmp; i++)
			if (data[i] != '\r')
				tmp[n++] = data[i];
		data += i;
		len -= i;
		for (done = 0; done < n && rc == 0;) {
			done += br_pem_decoder_push(&w->pem, tmp + done,
			    n - done);
			rc = walk_block(w, br_pem_decoder_event(&w->pem));
		}
	}
	explicit_bzero(tmp, sizeof tmp);
	return rc;
}

/* A file ends with a newline that BearSSL needs to see the last END. */
static int
walk_finish(struct walk *w, const char *kind)
{
	static const unsigned char nl = '\n';

	if (walk_push(w, &nl, 1) == -1)
		return -1;
	if (w->in_block)
		return err_set(w->err, ERR_CONFIG,
		    "%s: the PEM file ends inside a block: it is truncated",
		    w->what);
	if (w->captured == 0)
		return err_set(w->err, ERR_CONFIG, "%s: not a PEM %s", w->what,
		    kind);
	return 0;
}

static void
walk_init(struct walk *w, const struct walk_ops *ops, const char *what,
    struct err *err)
{
	memset(w, 0, sizeof *w);
	br_pem_decoder_init(&w->pem);
	w->ops = ops;
	w->what = what;
	w->err = err;
}

static int
walk_mem(struct walk *w, const char *pem, size_t len, const char *kind)
{
	if (len > KEYFILE_PEM_MAX)
		return err_set(w->err, ERR_CONFIG,
		    "%s: the file is larger than %u bytes: it is not a PEM %s",
		    w->what, KEYFILE_PEM_MAX, kind);
	if (walk_push(w, (const unsigned char *)pem, len) == -1)
		return -1;
	return walk_finish(w, kind);
}

static int
walk_fd(struct walk *w, int fd, const char *kind)
{
	unsigned char buf[READ_CHUNK];
	size_t total = 0;
	ssize_t n;
	int rc = 0;

	while (rc == 0 && (n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = err_set(w->err, ERR_FILE, "%s: cannot read: %s",
			    w->what, strerror(errno));
		else if ((total += (size_t)n) > KEYFILE_PEM_MAX)
			rc = err_set(w->err, ERR_CONFIG,
			    "%s: the file is larger than %u bytes: it is not a "
			    "PEM %s",
			    w->what, KEYFILE_PEM_MAX, kind);
		else
			rc = walk_push(w, buf, (size_t)n);
	}
	explicit_bzero(buf, sizeof buf);
	return rc == 0 ? walk_finish(w, kind) : -1;
}

static int
walk_file(struct walk *w, const char *path, const char *kind)
{
	int fd, rc;

	/* The event loop reloads keys: a FIFO or device put in the file's
	 * place is refused unopened. */
	if ((fd = regular_open(path)) == -1)
		return errno == EINVAL ?
		    err_set(w->err, ERR_FILE,
		        "%s: not a regular file: mount the %s as a file",
		        w->what, kind) :
		    err_set(w->err, ERR_FILE, "%s: cannot open: %s", w->what,
		        strerror(errno));
	rc = walk_fd(w, fd, kind);
	(void)close(fd);
	return rc;
}

/* ---- the private key ---- */

/*
 * BearSSL's key decoder reads through a NULL pointer when pushed more
 * bytes after it finished or failed (found by fuzz_keyfile, as NOTES.md
 * says of its X.509 decoder): push only while it wants more, and count
 * what comes after the key as trailing bytes.
 */
static void
skey_push(void *ctx, const void *data, size_t len)
{
	struct walk *w = ctx;

	if (br_skey_decoder_last_error(&w->skey) == BR_ERR_X509_TRUNCATED)
		br_skey_decoder_push(&w->skey, data, len);
	else if (br_skey_decoder_key_type(&w->skey) != 0)
		w->overflow = 1;
}

static int
key_begin(struct walk *w, const char *name)
{
	if (strcmp(name, "ENCRYPTED PRIVATE KEY") == 0)
		return err_set(w->err, ERR_CONFIG,
		    "%s: encrypted keys are not supported: store the key "
		    "unencrypted in a Secret (openssl pkey -in KEY -out PLAIN)",
		    w->what);
	if (strcmp(name, "PRIVATE KEY") != 0 &&
	    strcmp(name, "EC PRIVATE KEY") != 0 &&
	    strcmp(name, "RSA PRIVATE KEY") != 0)
		return 0;
	if (w->captured > 0)
		return err_set(w->err, ERR_CONFIG,
		    "%s: the file holds more than one private key: keep one",
		    w->what);
	br_skey_decoder_init(&w->skey);
	br_pem_decoder_setdest(&w->pem, skey_push, w);
	return 1;
}

static int
key_end(struct walk *w)
{
	int e = br_skey_decoder_last_error(&w->skey);

	if (e == 0 && w->overflow)
		return err_set(w->err, ERR_CONFIG,
		    "%s: the private key block holds bytes after the key",
		    w->what);
	if (e == 0)
		return 0;
	if (e == BR_ERR_X509_UNSUPPORTED)
		return err_set(w->err, ERR_CONFIG,
		    "%s: the key is neither RSA nor EC (Ed25519 and others "
		    "are not supported): use P-256, P-384 or RSA",
		    w->what);
	return err_set(w->err, ERR_CONFIG,
	    "%s: the private key block is not a valid RSA or EC key (BearSSL "
	    "error %d)",
	    w->what, e);
}

static const struct walk_ops key_ops = { key_begin, key_end };

static int
copy_ec(struct keyfile_key *k, const br_ec_private_key *ec, const char *what,
    struct err *err)
{
	if (ec->curve == BR_EC_secp521r1)
		return err_set(err, ERR_CONFIG,
		    "%s: P-521 is not supported: use P-256, P-384 or RSA",
		    what);
	if (ec->curve != BR_EC_secp256r1 && ec->curve != BR_EC_secp384r1)
		return err_set(err, ERR_CONFIG,
		    "%s: the EC curve (TLS id %d) is not supported: use "
		    "P-256, P-384 or RSA",
		    what, ec->curve);
	if (ec->xlen > sizeof k->buf)
		return err_set(err, ERR_CONFIG, "%s: the EC key is too long",
		    what);
	memcpy(k->buf, ec->x, ec->xlen);
	k->ec = *ec;
	k->ec.x = k->buf;
	k->type = BR_KEYTYPE_EC;
	return 0;
}

static int
copy_rsa(struct keyfile_key *k, const br_rsa_private_key *rsa, const char *what,
    struct err *err)
{
	const unsigned char *part[5] = { rsa->p, rsa->q, rsa->dp, rsa->dq,
		rsa->iq };
	size_t len[5] = { rsa->plen, rsa->qlen, rsa->dplen, rsa->dqlen,
		rsa->iqlen };
	unsigned char *dst[5];
	size_t i, off = 0;

	if (rsa->n_bitlen < 2048 || rsa->n_bitlen > 4096)
		return err_set(err, ERR_CONFIG,
		    "%s: the RSA key has %u bits: use 2048 to 4096 bits", what,
		    rsa->n_bitlen);
	for (i = 0; i < 5; i++) {
		if (len[i] > sizeof k->buf - off)
			return err_set(err, ERR_CONFIG,
			    "%s: the RSA key is too long", what);
		dst[i] = memcpy(k->buf + off, part[i], len[i]);
		off += len[i];
	}
	k->rsa = *rsa;
	k->rsa.p = dst[0];
	k->rsa.q = dst[1];
	k->rsa.dp = dst[2];
	k->rsa.dq = dst[3];
	k->rsa.iq = dst[4];
	k->type = BR_KEYTYPE_RSA;
	return 0;
}

/* The decoded key into `out`, which is then the only copy. */
static int
key_take(struct walk *w, struct keyfile_key *out)
{
	int type = br_skey_decoder_key_type(&w->skey);

	memset(out, 0, sizeof *out);
	if (type == BR_KEYTYPE_EC)
		return copy_ec(out, br_skey_decoder_get_ec(&w->skey), w->what,
		    w->err);
	if (type == BR_KEYTYPE_RSA)
		return copy_rsa(out, br_skey_decoder_get_rsa(&w->skey), w->what,
		    w->err);
	return err_set(w->err, ERR_CONFIG, "%s: not a PEM private key",
	    w->what);
}

/* Point a copied key's integers into its own buffer. */
static unsigned char *
moved(struct keyfile_key *to, const struct keyfile_key *from,
    const unsigned char *p)
{
	return to->buf + (p - from->buf);
}

static void
key_move(struct keyfile_key *to, const struct keyfile_key *from)
{
	*to = *from;
	if (to->type == BR_KEYTYPE_EC) {
		to->ec.x = moved(to, from, from->ec.x);
		return;
	}
	to->rsa.p = moved(to, from, from->rsa.p);
	to->rsa.q = moved(to, from, from->rsa.q);
	to->rsa.dp = moved(to, from, from->rsa.dp);
	to->rsa.dq = moved(to, from, from->rsa.dq);
	to->rsa.iq = moved(to, from, from->rsa.iq);
}

/* After the walk: keep the new key in `k` or leave `k` as it was. */
static int
key_commit(struct walk *w, int rc, struct keyfile_key *k)
{
	struct keyfile_key fresh;

	if (rc == 0)
		rc = key_take(w, &fresh);
	if (rc == 0) {
		keyfile_key_wipe(k);
		key_move(k, &fresh);
	}
	explicit_bzero(&fresh, sizeof fresh);
	explicit_bzero(w, sizeof *w);
	return rc;
}

int
keyfile_key_parse(struct keyfile_key *k, const char *pem, size_t len,
    const char *what, struct err *err)
{
	struct walk w;

	walk_init(&w, &key_ops, what, err);
	return key_commit(&w, walk_mem(&w, pem, len, "private key"), k);
}

int
keyfile_key_read(struct keyfile_key *k, const char *var, const char *path,
    struct err *err)
{
	char what[256];
	struct walk w;

	(void)fmt_snprintf(what, sizeof what, "%s %.200s", var, path);
	walk_init(&w, &key_ops, what, err);
	return key_commit(&w, walk_file(&w, path, "private key"), k);
}

void
keyfile_key_wipe(struct keyfile_key *k)
{
	wipe(k, sizeof *k);
}

/* ---- the certificate chain ---- */

static void
chain_push(void *ctx, const void *data, size_t len)
{
	struct walk *w = ctx;
	struct keyfile_chain *c = w->chain;

	if (w->overflow || len > sizeof c->buf - c->used) {
		w->overflow = 1;
		return;
	}
	memcpy(c->buf + c->used, data, len);
	c->used += len;
}

static int
chain_begin(struct walk *w, const char *name)
{
	if (strcmp(name, "CERTIFICATE") != 0 &&
	    strcmp(name, "X509 CERTIFICATE") != 0)
		return 0;
	if (w->chain->count == KEYFILE_CHAIN_CERTS)
		return err_set(w->err, ERR_CONFIG,
		    "%s: more than %d certificates: send the leaf and its "
		    "intermediates only",
		    w->what, KEYFILE_CHAIN_CERTS);
	w->start = w->chain->used;
	br_pem_decoder_setdest(&w->pem, chain_push, w);
	return 1;
}

static int
chain_end(struct walk *w)
{
	struct keyfile_chain *c = w->chain;
	struct x509_cert cert;
	enum x509_code code;

	if (w->overflow)
		return err_set(w->err, ERR_CONFIG,
		    "%s: the certificates hold more than %u bytes", w->what,
		    KEYFILE_CHAIN_BYTES);
	code = x509_cert_parse(c->buf + w->start, c->used - w->start, &cert);
	if (code != X509_OK)
		return err_set(w->err, ERR_CONFIG,
		    "%s: certificate %zu is not a valid X.509 certificate (%s)",
		    w->what, c->count + 1, x509_strerror(code));
	c->cert[c->count].data = c->buf + w->start;
	c->cert[c->count].data_len = c->used - w->start;
	c->count++;
	return 0;
}

static const struct walk_ops chain_ops = { chain_begin, chain_end };

/* Build into a scratch chain, then move it to `c` with its pointers. */
static int
chain_commit(struct keyfile_chain *scratch, int rc, struct keyfile_chain *c)
{
	size_t i;

	if (rc == 0) {
		memcpy(c->buf, scratch->buf, scratch->used);
		c->used = scratch->used;
		c->count = scratch->count;
		for (i = 0; i < c->count; i++) {
			c->cert[i].data = c->buf +
			    (scratch->cert[i].data - scratch->buf);
			c->cert[i].data_len = scratch->cert[i].data_len;
		}
	}
	return rc;
}

int
keyfile_chain_parse(struct keyfile_chain *c, const char *pem, size_t len,
    const char *what, struct err *err)
{
	struct keyfile_chain scratch;
	struct walk w;

	scratch.count = scratch.used = 0;
	walk_init(&w, &chain_ops, what, err);
	w.chain = &scratch;
	return chain_commit(&scratch, walk_mem(&w, pem, len, "certificate"), c);
}

int
keyfile_chain_read(struct keyfile_chain *c, const char *var, const char *path,
    struct err *err)
{
	struct keyfile_chain scratch;
	char what[256];
	struct walk w;

	(void)fmt_snprintf(what, sizeof what, "%s %.200s", var, path);
	scratch.count = scratch.used = 0;
	walk_init(&w, &chain_ops, what, err);
	w.chain = &scratch;
	return chain_commit(&scratch, walk_file(&w, path, "certificate"), c);
}

/* ---- the pair ---- */

/* Big-endian bytes without their leading zeros. */
static size_t
trim(const unsigned char **p, size_t len)
{
	while (len > 0 && **p == 0) {
		(*p)++;
		len--;
	}
	return len;
}

/*
 * The modulus decides: BearSSL 0.6's br_rsa_*_compute_pubexp returns 0
 * for ordinary keys (seen with openssl's 2048-bit keys), and a second
 * exponent for the same modulus is no rotation anyone makes.
 */
static int
same_rsa(const br_rsa_public_key *pk, const br_rsa_private_key *sk)
{
	unsigned char n[512];
	const unsigned char *pn = pk->n;
	size_t nlen = trim(&pn, pk->nlen), len;

	len = br_rsa_compute_modulus_get_default()(NULL, sk);
	if (len == 0 || len > sizeof n ||
	    br_rsa_compute_modulus_get_default()(n, sk) != len)
		return 0;
	return nlen == len && memcmp(pn, n, len) == 0;
}

static int
same_ec(const br_ec_public_key *pk, const br_ec_private_key *sk)
{
	unsigned char q[BR_EC_KBUF_PUB_MAX_SIZE];
	br_ec_public_key mine;

	return pk->curve == sk->curve &&
	    br_ec_compute_pub(br_ec_get_default(), &mine, q, sk) != 0 &&
	    mine.qlen == pk->qlen && memcmp(mine.q, pk->q, pk->qlen) == 0;
}

int
keyfile_pair_check(const struct keyfile_chain *c, const struct keyfile_key *k,
    const char *what, struct err *err)
{
	struct x509_cert cert;
	br_x509_pkey pk;
	int same = 0;

	if (c->count == 0 ||
	    x509_cert_parse(c->cert[0].data, c->cert[0].data_len, &cert) !=
	        X509_OK ||
	    x509_spki_key(cert.spki, &pk) != X509_OK)
		return err_set(err, ERR_CONFIG,
		    "%s: the certificate's public key cannot be read", what);
	if (pk.key_type == BR_KEYTYPE_RSA && k->type == BR_KEYTYPE_RSA)
		same = same_rsa(&pk.key.rsa, &k->rsa);
	else if (pk.key_type == BR_KEYTYPE_EC && k->type == BR_KEYTYPE_EC)
		same = same_ec(&pk.key.ec, &k->ec);
	if (!same)
		return err_set(err, ERR_CONFIG,
		    "%s: the private key does not belong to the certificate: "
		    "mount a certificate and key from the same issuance",
		    what);
	return 0;
}
