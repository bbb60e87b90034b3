/*
 * test_trust.c: CA bundles in their many shapes into trust anchors.
 *
 * Real certificates come from the system bundle; the test reshapes them
 * (CRLF, commentary, foreign PEM blocks, DER) and checks that every shape
 * yields the very same anchors as the plain one.
 */
#include <dirent.h>
#include <errno.h>
#include <sys/mman.h>

#include "unit.h"

#include "trust.h"

#define SYSTEM_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
#define BEGIN_CERT "-----BEGIN CERTIFICATE-----"
#define END_CERT "-----END CERTIFICATE-----"
#define NCERTS 3

/* A growable byte string. */
struct buf {
	unsigned char *p;
	size_t len, cap;
};

static void
put(struct buf *b, const void *data, size_t len)
{
	if (len > b->cap - b->len) {
		b->cap = (b->len + len) * 2;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

static void
put_str(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* Fixtures: the first certificates of the system bundle, as PEM and DER. */
static struct buf system_bundle;
static char *pem[NCERTS]; /* LF line ends, NUL-terminated */
static struct buf der[NCERTS];

static int
b64(int c)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c ? strchr(alphabet, c) : NULL;

	return p ? (int)(p - alphabet) : -1;
}

static void
pem_to_der(const char *p, struct buf *out)
{
	unsigned acc = 0;
	int bits = 0, v;

	p = strchr(p, '\n') + 1;
	for (; strncmp(p, END_CERT, strlen(END_CERT)) != 0; p++) {
		if ((v = b64((unsigned char)*p)) < 0)
			continue;
		acc = acc << 6 | (unsigned)v;
		if ((bits += 6) >= 8) {
			unsigned char byte = (unsigned char)(acc >>
			    (bits -= 8));

			put(out, &byte, 1);
		}
	}
}

static int
load_fixtures(void **state)
{
	FILE *f = fopen(SYSTEM_BUNDLE, "rb");
	unsigned char chunk[65536];
	const char *p;
	size_t n;

	if (f == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		put(&system_bundle, chunk, n);
	fclose(f);
	put(&system_bundle, "", 1);
	p = (const char *)system_bundle.p;
	for (int i = 0; i < NCERTS; i++) {
		const char *begin = strstr(p, BEGIN_CERT), *end;

		if (begin == NULL || (end = strstr(begin, END_CERT)) == NULL)
			return -1;
		end += strlen(END_CERT) + 1;
		pem[i] = strndup(begin, (size_t)(end - begin));
		pem_to_der(pem[i], &der[i]);
		p = end;
	}
	return 0;
}

static int
free_fixtures(void **state)
{
	for (int i = 0; i < NCERTS; i++) {
		free(pem[i]);
		free(der[i].p);
	}
	free(system_bundle.p);
	return 0;
}

/* ---- helpers ---- */

static void
load_ok(struct trust *t, const struct buf *b, size_t want)
{
	struct err err = { 0 };

	if (trust_load_mem(t, b->p, b->len, "test bundle", &err) != 0)
		fail_msg("refused: %s", err.msg);
	assert_int_equal(t->store.count, want);
	assert_non_null(t->store.refs);
}

/* Anchor i of t, read again from the bundle into its scratch. */
static void
anchor_at(const struct trust *t, size_t i, struct x509_anchor *a)
{
	assert_true(i < t->store.count);
	assert_int_equal(x509_anchor_read(&t->store, &t->store.refs[i],
	                     t->store.scratch, t->store.scratch_len, a),
	    X509_OK);
}

static void
load_fails(const void *data, size_t len)
{
	struct trust t = { 0 };
	struct err err = { 0 };

	assert_int_equal(trust_load_mem(&t, data, len, "bad-bundle.pem", &err),
	    -1);
	assert_err(&err, ERR_TRUST, "bad-bundle.pem");
	assert_int_equal(t.store.count, 0);
	assert_null(t.store.refs);
}

static void
assert_same_bytes(const unsigned char *a, size_t alen, const unsigned char *b,
    size_t blen)
{
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
}

static void
assert_same_anchors(const struct trust *a, const struct trust *b)
{

	assert_int_equal(a->store.count, b->store.count);
	for (size_t i = 0; i < a->store.count; i++) {
		struct x509_anchor ax, ay;
		const struct x509_anchor *x = &ax, *y = &ay;

		anchor_at(a, i, &ax);
		anchor_at(b, i, &ay);
		assert_true(a->store.refs[i].sum == b->store.refs[i].sum);
		assert_true(a->store.refs[i].dn_sum == b->store.refs[i].dn_sum);
		assert_same_bytes(x->dn.p, x->dn.n, y->dn.p, y->dn.n);
		assert_int_equal(x->flags, y->flags);
		assert_int_equal(x->pkey.key_type, y->pkey.key_type);
		if (x->pkey.key_type == BR_KEYTYPE_RSA) {
			assert_same_bytes(x->pkey.key.rsa.n,
			    x->pkey.key.rsa.nlen, y->pkey.key.rsa.n,
			    y->pkey.key.rsa.nlen);
			assert_same_bytes(x->pkey.key.rsa.e,
			    x->pkey.key.rsa.elen, y->pkey.key.rsa.e,
			    y->pkey.key.rsa.elen);
		} else {
			assert_int_equal(x->pkey.key.ec.curve,
			    y->pkey.key.ec.curve);
			assert_same_bytes(x->pkey.key.ec.q, x->pkey.key.ec.qlen,
			    y->pkey.key.ec.q, y->pkey.key.ec.qlen);
		}
	}
}

/*
 * The plain LF bundle of the fixtures, the reference for other shapes,
 * loaded from b: the store reads it until freed, so b is the caller's
 * to free after trust_free().
 */
static void
reference(struct trust *t, struct buf *b)
{
	memset(b, 0, sizeof *b);
	for (int i = 0; i < NCERTS; i++)
		put_str(b, pem[i]);
	load_ok(t, b, NCERTS);
}

/* The bundle in b loads to the same anchors as the reference; frees b. */
static void
expect_reference(struct buf *b)
{
	struct trust ref = { 0 }, t = { 0 };
	struct buf rb;

	reference(&ref, &rb);
	load_ok(&t, b, NCERTS);
	assert_same_anchors(&ref, &t);
	trust_free(&t);
	trust_free(&ref);
	free(rb.p);
	free(b->p);
}

/* ---- tests ---- */

static void
test_pem_lf(void **state)
{
	struct trust t = { 0 };
	struct x509_anchor a;
	struct buf b;

	reference(&t, &b);
	assert_int_equal(t.skipped, 0);
	assert_int_equal(t.store.fd, -1);
	for (size_t i = 0; i < t.store.count; i++) {
		/* Every root is a CA, so every anchor may sign. */
		assert_true(t.store.refs[i].flags & X509_ANCHOR_CA);
		assert_true(t.store.refs[i].flags & X509_ANCHOR_PEM);
		anchor_at(&t, i, &a);
		assert_true(a.flags & X509_ANCHOR_CA);
		assert_true(a.dn.n > 0);
	}
	/* From memory: no file identity. */
	assert_int_equal(t.ino, 0);
	assert_int_equal(t.size, 0);
	trust_free(&t);
	free(b.p);
	assert_int_equal(t.store.count, 0);
	assert_null(t.store.refs);
	assert_null(t.block);
	/* Freeing an empty trust is harmless. */
	trust_free(&t);
}

static void
test_pem_crlf(void **state)
{
	struct buf b = { 0 };

	for (int i = 0; i < NCERTS; i++)
		for (const char *p = pem[i]; *p; p++)
			put(&b, *p == '\n' ? "\r\n" : p, *p == '\n' ? 2 : 1);
	expect_reference(&b);
}

/* Commentary as in Debian's bundle and `openssl x509 -text` output,
 * trailing blanks, and no newline at the very end. */
static void
test_pem_with_text(void **state)
{
	struct buf b = { 0 };

	put_str(&b, "# Debian-style comment\n\nSubject: CN=Example\n");
	for (int i = 0; i < NCERTS; i++) {
		put_str(&b, "Certificate:\n    Data:\n        Version: 3\n");
		put_str(&b, pem[i]);
		put_str(&b, "\n   \t\n");
	}
	b.len -= strlen("\n   \t\n") + 1;
	expect_reference(&b);
}

static void
test_pem_foreign_blocks(void **state)
{
	static const char key[] =
	    "-----BEGIN PRIVATE KEY-----\n"
	    "MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n"
	    "-----END PRIVATE KEY-----\n";
	static const char crl[] = "-----BEGIN X509 CRL-----\n"
	                          "AAAA\n-----END X509 CRL-----\n";
	static const char params[] =
	    "-----BEGIN EC PARAMETERS-----\n"
	    "BggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n";
	struct buf b = { 0 };

	put_str(&b, key);
	put_str(&b, pem[0]);
	put_str(&b, params);
	put_str(&b, pem[1]);
	put_str(&b, crl);
	put_str(&b, pem[2]);
	put_str(&b, key);
	expect_reference(&b);
}

static void
test_der(void **state)
{
	struct trust t = { 0 };
	struct buf b = { 0 };

	load_ok(&t, &der[0], 1);
	trust_free(&t);
	for (int i = 0; i < NCERTS; i++)
		put(&b, der[i].p, der[i].len);
	expect_reference(&b);
}

/* A certificate block that does not decode is skipped and counted. */
static void
test_undecodable_certificate(void **state)
{
	struct trust t = { 0 };
	struct buf b = { 0 };

	put_str(&b, pem[0]);
	put_str(&b, BEGIN_CERT "\nMAMCAQA=\n" END_CERT "\n");
	put_str(&b, pem[1]);
	load_ok(&t, &b, 2);
	assert_int_equal(t.skipped, 1);
	trust_free(&t);
	free(b.p);
}

static void
test_unusable(void **state)
{
	static const char only_key[] =
	    "-----BEGIN PRIVATE KEY-----\n"
	    "MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n"
	    "-----END PRIVATE KEY-----\n";
	char *truncated = strndup(pem[0], strlen(pem[0]) / 2);
	struct buf half = { 0 };

	load_fails("", 0);
	load_fails(LIT("\n\n   \r\n"));
	load_fails(LIT("hello, world\n"));
	load_fails(LIT("\x30\x82\xff\xff garbage"));
	load_fails(LIT(only_key));
	load_fails(LIT(BEGIN_CERT "\n" END_CERT "\n"));
	load_fails(LIT(BEGIN_CERT "\n!!!!not base64!!!!\n" END_CERT "\n"));
	load_fails(truncated, strlen(truncated));
	put(&half, der[0].p, der[0].len / 2);
	load_fails(half.p, half.len);
	free(half.p);
	free(truncated);
}

/* A failed load keeps the anchors already held; a good one replaces them. */
static void
test_reload(void **state)
{
	struct trust t = { 0 };
	struct err err = { 0 };
	const struct x509_anchor_ref *before;
	struct x509_anchor a;
	struct buf b;

	reference(&t, &b);
	before = t.store.refs;
	assert_int_equal(trust_load_mem(&t, (const unsigned char *)"junk", 4,
	                     "x", &err),
	    -1);
	assert_int_equal(err.kind, ERR_TRUST);
	assert_int_equal(t.store.count, NCERTS);
	assert_ptr_equal(t.store.refs, before);
	/* Still usable: no byte of it was freed. */
	anchor_at(&t, NCERTS - 1, &a);
	assert_true(a.dn.n > 0);

	load_ok(&t, &der[1], 1);
	assert_false(t.store.refs[0].flags & X509_ANCHOR_PEM);
	anchor_at(&t, 0, &a);
	trust_free(&t);
	free(b.p);
}

/*
 * Loads one after the other into the same trust, as SIGHUP and a changed
 * ConfigMap do: each new store is whole and readable after the old one
 * is freed (the kernel may place the new mapping where the old one gave
 * pages back).
 */
static void
test_reload_many(void **state)
{
	struct trust t = { 0 }, ref = { 0 };
	struct buf rb, b[8];

	reference(&ref, &rb);
	for (int i = 0; i < 8; i++) {
		reference(&t, &b[i]);
		assert_same_anchors(&ref, &t);
	}
	trust_free(&t);
	trust_free(&ref);
	for (int i = 0; i < 8; i++)
		free(b[i].p);
	free(rb.p);
}

/* The Debian bundle: every certificate in it is a usable anchor. */
static void
test_system_bundle(void **state)
{
	struct trust t = { 0 };
	struct err err = { 0 };
	size_t blocks = 0;

	for (const char *p = (const char *)system_bundle.p;
	     (p = strstr(p, BEGIN_CERT)) != NULL; p++)
		blocks++;
	if (trust_load_file(&t, SYSTEM_BUNDLE, &err) != 0)
		fail_msg("%s", err.msg);
	assert_true(t.store.count > 100);
	assert_int_equal(t.store.count + t.skipped, blocks);
	assert_int_equal(t.skipped, 0);
	trust_free(&t);
}

static void
test_file_identity(void **state)
{
	char dir[] = "/tmp/tb-trust-XXXXXX", path[64], next[64], gone[64];
	struct trust t = { 0 };
	struct err err = { 0 };
	struct stat st;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/ca.pem", dir);
	snprintf(next, sizeof next, "%s/ca.pem.new", dir);
	snprintf(gone, sizeof gone, "%s/missing.pem", dir);
	write_file(path, pem[0], strlen(pem[0]));

	assert_int_equal(trust_load_file(&t, path, &err), 0);
	assert_int_equal(t.store.count, 1);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(t.ino, st.st_ino);
	assert_int_equal(t.size, st.st_size);
	assert_int_equal(trust_changed(&t, path), 0);

	/* A ConfigMap update: a new file renamed over the old name. */
	write_file(next, pem[1], strlen(pem[1]));
	assert_int_equal(rename(next, path), 0);
	assert_int_equal(trust_changed(&t, path), 1);
	assert_int_equal(trust_load_file(&t, path, &err), 0);
	assert_int_equal(trust_changed(&t, path), 0);

	assert_int_equal(trust_changed(&t, gone), 1);
	assert_int_equal(trust_load_file(&t, gone, &err), -1);
	assert_err(&err, ERR_TRUST, gone);
	/* The failed load kept the anchors. */
	assert_int_equal(t.store.count, 1);

	trust_free(&t);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* The limit counts bytes, not certificates. */
/* A foreign block of n bytes, base64 lines and all. */
static void
put_big_block(struct buf *b, size_t n)
{
	static const char line[] =
	    "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\n";

	put_str(b, "-----BEGIN BIG THING-----\n");
	for (size_t i = 0; i < n; i += sizeof line - 1)
		put_str(b, line);
	put_str(b, "-----END BIG THING-----\n");
}

/*
 * The window starts small and grows for a block that does not fit, up to
 * TRUST_WINDOW: a block three times its first size loads, one larger
 * than TRUST_WINDOW is refused.
 */
static void
test_window_grows(void **state)
{
	struct buf b = { 0 };
	struct trust t = { 0 };
	struct err err = { 0 };

	put_str(&b, pem[0]);
	put_big_block(&b, 3 * TRUST_WINDOW_MIN);
	put_str(&b, pem[1]);
	put_str(&b, pem[2]);
	expect_reference(&b);

	memset(&b, 0, sizeof b);
	put_str(&b, pem[0]);
	put_big_block(&b, TRUST_WINDOW);
	assert_int_equal(trust_load_mem(&t, b.p, b.len, "big.pem", &err), -1);
	assert_err(&err, ERR_TRUST, "larger than");
	assert_int_equal(t.store.count, 0);
	free(b.p);
}

static void
test_size_limit(void **state)
{
	char dir[] = "/tmp/tb-trust-XXXXXX", path[64];
	struct trust t = { 0 };
	struct err err = { 0 };
	struct buf b = { 0 };

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/big.pem", dir);
	put_str(&b, pem[0]);
	while (b.len <= TRUST_BUNDLE_MAX)
		put_str(&b, "# padding padding padding padding padding\n");
	b.len = TRUST_BUNDLE_MAX;
	write_file(path, b.p, b.len);
	assert_int_equal(trust_load_file(&t, path, &err), 0);
	assert_int_equal(t.store.count, 1);

	write_file(path, b.p, b.len + 1);
	assert_int_equal(trust_load_file(&t, path, &err), -1);
	assert_err(&err, ERR_TRUST, path);
	assert_int_equal(t.store.count, 1);

	trust_free(&t);
	free(b.p);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

/*
 * Resident kB of the mapping holding addr, from /proc/self/smaps: what
 * the store costs the process.
 */
static size_t
resident_kb(const void *addr)
{
	char line[256];
	unsigned long lo, hi, kb;
	size_t rss = 0;
	int in = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	assert_non_null(f);
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
			in = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
		else if (in && sscanf(line, "Rss: %lu kB", &kb) == 1)
			rss = kb;
	}
	assert_int_equal(fclose(f), 0);
	return rss;
}

/*
 * A verification of the fixtures' first root sent as its own chain, which
 * names itself: whatever its verdict, the anchor was read.
 */
static void
verify_first_root(const struct trust *t)
{
	struct der chain = { der[0].p, der[0].len };
	struct x509_name name;
	struct x509_leaf leaf;
	struct x509_fail fail;

	assert_int_equal(x509_name_set(&name, "localhost"), 0);
	assert_int_not_equal(x509_verify(&chain, 1, &t->store, &name,
	                         1893456000, &leaf, &fail),
	    X509_E_BUNDLE_CHANGED);
}

/*
 * The Debian bundle's store is the anchors' records only: 76 KiB
 * resident when it held every name, key and constraint (issue 14), two
 * pages now; a verification adds the one root it read, kept in the
 * anchor cache (a page or two). Reported for the figures.
 */
static void
test_store_memory(void **state)
{
	struct trust t = { 0 };
	struct err err = { 0 };
	size_t rss;

	if (trust_load_file(&t, SYSTEM_BUNDLE, &err) != 0)
		fail_msg("%s", err.msg);
	rss = resident_kb(t.block);
	print_message("trust store of %s: %zu anchors, block %zu bytes, "
	              "Rss %zu kB\n",
	    SYSTEM_BUNDLE, t.store.count, t.block_len, rss);
	assert_true(rss > 0);
	assert_true(rss <= 8);
	/* 16 KiB, and the anchor cache's three pages: resident as it fills. */
	assert_true(t.block_len <= 16384 + 3 * 4096);
	/* A verification reads the anchors a chain names into the store's
	 * scratch, gives its pages back and keeps the anchor in the cache. */
	verify_first_root(&t);
	assert_int_equal(t.store.cache->count, 1);
	print_message("after one verification: Rss %zu kB, %zu bytes cached\n",
	    resident_kb(t.block), t.store.cache->used);
	assert_true(resident_kb(t.block) <= rss + 8);
	trust_free(&t);
}

/* Open descriptors of this process. */
static size_t
open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	size_t n = 0;

	assert_non_null(d);
	while (readdir(d) != NULL)
		n++;
	assert_int_equal(closedir(d), 0);
	return n;
}

/* A ConfigMap volume: dir/..data -> ..vN, dir/ca.pem -> ..data/ca.pem. */
static void
configmap_put(const char *dir, int version, const char *pem_text)
{
	char ver[96], file[128], tmp[96], data[96];

	snprintf(ver, sizeof ver, "%s/..v%d", dir, version);
	snprintf(file, sizeof file, "%s/ca.pem", ver);
	snprintf(tmp, sizeof tmp, "%s/..data_tmp", dir);
	snprintf(data, sizeof data, "%s/..data", dir);
	assert_int_equal(mkdir(ver, 0700), 0);
	write_file(file, pem_text, strlen(pem_text));
	assert_int_equal(symlink(ver + strlen(dir) + 1, tmp), 0);
	assert_int_equal(rename(tmp, data), 0);
	/* The kubelet then removes the old version. */
	snprintf(ver, sizeof ver, "%s/..v%d", dir, version - 1);
	snprintf(file, sizeof file, "%s/ca.pem", ver);
	if (unlink(file) == 0)
		assert_int_equal(rmdir(ver), 0);
}

/* Is t's anchor i certificate c? */
static void
assert_anchor_of(const struct trust *t, size_t i, const struct buf *c)
{
	struct x509_anchor a;
	struct x509_cert want;

	assert_int_equal(x509_cert_parse(c->p, c->len, &want), X509_OK);
	anchor_at(t, i, &a);
	assert_same_bytes(a.dn.p, a.dn.n, want.subject.p, want.subject.n);
}

/* Is t's only anchor certificate c? */
static void
assert_anchor_is(const struct trust *t, const struct buf *c)
{
	assert_int_equal(t->store.count, 1);
	assert_anchor_of(t, 0, c);
}

/*
 * A ConfigMap update swaps the ..data symlink and removes the old file:
 * the store keeps reading the file it loaded (its descriptor holds the
 * inode) until the reload, which closes it. No descriptor leaks over
 * many reloads.
 */
static void
test_configmap_swap(void **state)
{
	char dir[] = "/tmp/tb-trust-XXXXXX", path[64], data[64];
	struct trust t = { 0 };
	struct err err = { 0 };
	size_t fds;
	int v;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/ca.pem", dir);
	snprintf(data, sizeof data, "%s/..data/ca.pem", dir);
	assert_int_equal(symlink("..data/ca.pem", path), 0);
	configmap_put(dir, 1, pem[0]);
	fds = open_fds();
	assert_int_equal(trust_load_file(&t, path, &err), 0);
	assert_int_equal(open_fds(), fds + 1);
	assert_anchor_is(&t, &der[0]);
	for (v = 2; v < 102; v++) {
		configmap_put(dir, v, pem[(v - 1) % 2]);
		/* The old file is gone from the volume, not from the store. */
		assert_anchor_is(&t, &der[v % 2]);
		assert_int_equal(trust_changed(&t, path), 1);
		assert_int_equal(trust_load_file(&t, path, &err), 0);
		assert_int_equal(trust_changed(&t, path), 0);
		assert_anchor_is(&t, &der[(v - 1) % 2]);
		assert_int_equal(open_fds(), fds + 1);
	}
	trust_free(&t);
	assert_int_equal(open_fds(), fds);
	assert_int_equal(unlink(data), 0);
	snprintf(data, sizeof data, "%s/..v%d", dir, v - 1);
	assert_int_equal(rmdir(data), 0);
	snprintf(data, sizeof data, "%s/..data", dir);
	assert_int_equal(unlink(data), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

/*
 * A bundle rewritten in place after the load: an anchor read from it is
 * refused as changed, and trust_changed() then says so even though
 * stat() sees the same file; the reload reads the new bytes. Truncated,
 * it is refused too (a mapping of it would have raised SIGBUS).
 */
static void
test_rewritten_in_place(void **state)
{
	char dir[] = "/tmp/tb-trust-XXXXXX", path[64];
	struct trust t = { 0 };
	struct err err = { 0 };
	struct x509_anchor a;
	struct buf ab = { 0 }, ba = { 0 };

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/ca.pem", dir);
	put_str(&ab, pem[0]);
	put_str(&ab, pem[1]);
	put_str(&ba, pem[1]);
	put_str(&ba, pem[0]);
	write_file(path, ab.p, ab.len);
	assert_int_equal(trust_load_file(&t, path, &err), 0);
	anchor_at(&t, 0, &a);
	assert_int_equal(trust_stale(&t), 0);

	/* Anchor 0, read already, is kept; anchor 1 is read and refused. */
	rewrite_in_place(path, ba.p, ba.len);
	assert_int_equal(trust_changed(&t, path), 0);
	assert_int_equal(x509_anchor_read(&t.store, &t.store.refs[1],
	                     t.store.scratch, t.store.scratch_len, &a),
	    X509_E_BUNDLE_CHANGED);
	assert_int_equal(trust_changed(&t, path), 1);
	assert_int_equal(trust_stale(&t), 1);
	assert_anchor_of(&t, 0, &der[0]);
	assert_int_equal(trust_load_file(&t, path, &err), 0);
	assert_int_equal(trust_changed(&t, path), 0);
	assert_int_equal(trust_stale(&t), 0);
	anchor_at(&t, 1, &a);

	assert_int_equal(truncate(path, 0), 0);
	assert_int_equal(trust_stale(&t), 1);
	assert_int_equal(x509_anchor_read(&t.store, &t.store.refs[0],
	                     t.store.scratch, t.store.scratch_len, &a),
	    X509_E_BUNDLE_CHANGED);
	assert_int_equal(trust_changed(&t, path), 1);
	assert_anchor_of(&t, 1, &der[0]);

	trust_free(&t);
	free(ab.p);
	free(ba.p);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

/*
 * A FIFO at the bundle's path is refused without being opened: open()
 * would wait for a writer, in the event loop. The store is kept.
 */
static void
test_fifo_refused(void **state)
{
	char dir[] = "/tmp/tb-trust-XXXXXX", path[64];
	struct trust t = { 0 };
	struct err err = { 0 };

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/ca.pem", dir);
	write_file(path, pem[0], strlen(pem[0]));
	assert_int_equal(trust_load_file(&t, path, &err), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(trust_load_file(&t, path, &err), -1);
	assert_err(&err, ERR_TRUST, "is not a regular file");
	assert_anchor_is(&t, &der[0]);
	trust_free(&t);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* Is p inside the cache's bytes? */
static int
in_cache(const struct x509_anchor_cache *c, const unsigned char *p)
{
	return p >= c->bytes && p < c->bytes + c->used;
}

/*
 * The anchors read are kept in the store, bounded, and later reads of
 * them read nothing: with the store's descriptor taken away they still
 * verify, while an anchor not kept is refused. A full cache leaves other
 * anchors read each time, and trust_free() gives its pages back.
 */
static void
test_anchor_cache(void **state)
{
	const struct x509_anchor_cache *c;
	struct trust t = { 0 };
	struct err err = { 0 };
	struct x509_anchor a;
	unsigned char vec;
	size_t i, len = 0, page = (size_t)sysconf(_SC_PAGESIZE);
	int fd;

	if (trust_load_file(&t, SYSTEM_BUNDLE, &err) != 0)
		fail_msg("%s", err.msg);
	c = t.store.cache;
	assert_non_null(c);
	assert_int_equal(c->count, 0);
	assert_true(t.store.count > 2 * X509_CACHE_ANCHORS);
	for (i = 0; i < 2 * X509_CACHE_ANCHORS; i++) {
		anchor_at(&t, i, &a);
		if (c->count > 0 && c->ref[c->count - 1] == &t.store.refs[i])
			len += t.store.refs[i].len;
	}
	assert_int_equal(c->count, X509_CACHE_ANCHORS);
	assert_true(c->used <= X509_CACHE_BYTES);
	/* DER bundles cache what they hold; PEM's base64 is 4/3 of it. */
	assert_true(c->used <= len);
	for (i = 0; i < c->count; i++)
		assert_ptr_equal(c->ref[i], &t.store.refs[i]);

	/* No descriptor: the kept anchors are not read, the others are. */
	fd = t.store.fd;
	t.store.fd = -1;
	anchor_at(&t, 0, &a);
	assert_true(in_cache(c, a.dn.p));
	verify_first_root(&t);
	assert_int_equal(x509_anchor_read(&t.store,
	                     &t.store.refs[X509_CACHE_ANCHORS], t.store.scratch,
	                     t.store.scratch_len, &a),
	    X509_E_BUNDLE_CHANGED);
	t.store.fd = fd;
	*t.store.changed = 0;
	/* A full cache: a new anchor is read, every time, and not kept. */
	anchor_at(&t, t.store.count - 1, &a);
	assert_false(in_cache(c, a.dn.p));
	anchor_at(&t, t.store.count - 1, &a);
	assert_int_equal(c->count, X509_CACHE_ANCHORS);

	trust_free(&t);
	assert_int_equal(mincore((void *)((uintptr_t)c / page * page), page,
	                     &vec),
	    -1);
	assert_int_equal(errno, ENOMEM);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pem_lf),
		cmocka_unit_test(test_pem_crlf),
		cmocka_unit_test(test_pem_with_text),
		cmocka_unit_test(test_pem_foreign_blocks),
		cmocka_unit_test(test_der),
		cmocka_unit_test(test_undecodable_certificate),
		cmocka_unit_test(test_unusable),
		cmocka_unit_test(test_reload),
		cmocka_unit_test(test_reload_many),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_window_grows),
		cmocka_unit_test(test_system_bundle),
		cmocka_unit_test(test_file_identity),
		cmocka_unit_test(test_store_memory),
		cmocka_unit_test(test_configmap_swap),
		cmocka_unit_test(test_rewritten_in_place),
		cmocka_unit_test(test_anchor_cache),
		cmocka_unit_test(test_fifo_refused),
	};

	return cmocka_run_group_tests(tests, load_fixtures, free_fixtures);
}
