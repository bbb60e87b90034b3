/*
 * test_x509.c: the chain validator and the br_x509_class wrapper, over
 * the fuzz seeds (tests/fuzz/corpus/x509: real chains made by
 * make_x509_seeds.py, valid at 2030-01-01) and over hostile framing: the
 * 600 KB certificate that overflowed the first version's buffer, more
 * certificates than a chain may hold, lengths that lie.
 */
#include "unit.h"

#include "trust.h"
#include "x509.h"

#define SEEDS TB_SOURCE_DIR "/tests/fuzz/corpus/x509/"
#define NOW 1893456000 /* 2030-01-01, as in fuzz_x509.c */
#define RECORDS 8

struct seed {
	unsigned char data[8192];
	size_t len;
	unsigned char bundle[8192]; /* the trust's bytes: they must stay */
	struct der rec[RECORDS];
	size_t count, nbundle;
	struct trust trust;
};

/* Read a seed (fuzz_x509.c's format) and load its bundle records. */
static void
seed_load(struct seed *s, const char *name)
{
	char path[512];
	size_t off = 1, n, blen = 0, i;
	struct err err = { 0 };
	FILE *f;

	snprintf(path, sizeof path, "%s%s", SEEDS, name);
	memset(s, 0, sizeof *s);
	assert_non_null(f = fopen(path, "rb"));
	s->len = fread(s->data, 1, sizeof s->data, f);
	fclose(f);
	while (off + 2 <= s->len && s->count < RECORDS) {
		n = (size_t)s->data[off] << 8 | s->data[off + 1];
		assert_true(off + 2 + n <= s->len);
		s->rec[s->count].p = s->data + off + 2;
		s->rec[s->count++].n = n;
		off += 2 + n;
	}
	s->nbundle = s->data[0] & 3;
	for (i = s->count - s->nbundle; i < s->count; i++) {
		memcpy(s->bundle + blen, s->rec[i].p, s->rec[i].n);
		blen += s->rec[i].n;
	}
	if (trust_load_mem(&s->trust, s->bundle, blen, name, &err) != 0)
		fail_msg("%s: %s", name, err.msg);
}

static enum x509_code
verify(struct seed *s, const char *host, int64_t now, struct x509_fail *f)
{
	struct x509_name name;
	struct x509_leaf leaf;

	assert_int_equal(x509_name_set(&name, host), 0);
	return x509_verify(s->rec, s->count - s->nbundle, &s->trust.store,
	    &name, now, &leaf, f);
}

static void
expect(const char *seed, const char *host, int64_t now, enum x509_code want)
{
	struct seed s;
	struct x509_fail f;
	enum x509_code got;

	seed_load(&s, seed);
	got = verify(&s, host, now, &f);
	if (got != want)
		fail_msg("%s for %s: got %d (%s), want %d", seed, host, got,
		    x509_strerror(got), want);
	trust_free(&s.trust);
}

static void
test_seeds(void **state)
{
	expect("ec-in-order", "localhost", NOW, X509_OK);
	expect("ec-in-order", "LocalHost.", NOW, X509_OK);
	expect("ec-out-of-order-ip", "127.0.0.1", NOW, X509_OK);
	expect("ec-ipv6-chunk1", "::1", NOW, X509_OK);
	expect("ec-wildcard", "a.example.test", NOW, X509_OK);
	expect("rsa-pss", "localhost", NOW, X509_OK);
	expect("rsa-pkcs1-two-anchors", "::1", NOW, X509_OK);
}

static void
test_names(void **state)
{
	/* One label for the wildcard, none in the excluded subtree. */
	expect("ec-wildcard", "a.b.example.test", NOW, X509_E_NAME_MISMATCH);
	expect("ec-wildcard", "example.test", NOW, X509_E_NAME_MISMATCH);
	expect("ec-excluded", "localhost", NOW, X509_E_NAME_CONSTRAINT);
	expect("ec-in-order", "127.0.0.2", NOW, X509_E_NAME_MISMATCH);
	expect("ec-in-order", "other", NOW, X509_E_NAME_MISMATCH);
	/* The PSS leaf has no wildcard; an IP is never matched by DNS. */
	expect("rsa-pss", "a.example.test", NOW, X509_E_NAME_MISMATCH);
}

static void
test_time(void **state)
{
	expect("ec-in-order", "localhost", 1600000000, X509_E_EXPIRED);
	expect("ec-in-order", "localhost", 2200000000LL, X509_E_EXPIRED);
}

static void
test_name_set(void **state)
{
	struct x509_name n;

	assert_int_equal(x509_name_set(&n, "Sts.Example.COM."), 0);
	assert_string_equal(n.dns, "sts.example.com");
	assert_int_equal(n.ip_len, 0);
	assert_int_equal(x509_name_set(&n, "10.0.0.5"), 0);
	assert_int_equal(n.ip_len, 4);
	assert_memory_equal(n.ip, "\x0a\x00\x00\x05", 4);
	assert_int_equal(x509_name_set(&n, "2001:db8::1"), 0);
	assert_int_equal(n.ip_len, 16);
	assert_int_equal(x509_name_set(&n, "."), -1);
	assert_int_equal(x509_name_set(&n, ""), -1);
	assert_int_equal(x509_name_set(&n, "1:2:3"), -1);
}

/* A copy of a seed's chain with one byte flipped at `pos` from the end. */
static void
test_tampered_signature(void **state)
{
	static const char *const seeds[] = { "ec-in-order", "rsa-pss",
		"rsa-pkcs1-two-anchors" };
	unsigned char copy[4096];
	struct seed s;
	struct x509_fail f;
	size_t i;

	for (i = 0; i < ARRAY_LEN(seeds); i++) {
		seed_load(&s, seeds[i]);
		memcpy(copy, s.rec[0].p, s.rec[0].n);
		copy[s.rec[0].n - 5] ^= 0x40;
		s.rec[0].p = copy;
		assert_int_equal(verify(&s, "localhost", NOW, &f),
		    X509_E_SIGNATURE);
		assert_int_equal(f.depth, 0);
		assert_string_equal(f.subject,
		    seeds[i][0] == 'e' ? "seed leaf" :
		        seeds[i][4] == 'p' && seeds[i][5] == 's' ?
		                         "seed pss leaf" :
		                         "seed rsa leaf");
		trust_free(&s.trust);
	}
}

/* Through the class, as BearSSL calls it: 256-byte appends. */
static unsigned
drive(struct x509_ctx *x, const struct der *certs, size_t n,
    uint32_t declared_extra)
{
	const br_x509_class **vt = &x->vtable;
	size_t i, off, k;

	x509_class.start_chain(vt, "localhost");
	for (i = 0; i < n; i++) {
		x509_class.start_cert(vt,
		    (uint32_t)certs[i].n + declared_extra);
		for (off = 0; off < certs[i].n; off += k) {
			k = certs[i].n - off < 256 ? certs[i].n - off : 256;
			x509_class.append(vt, certs[i].p + off, k);
		}
		x509_class.end_cert(vt);
	}
	return x509_class.end_chain(vt);
}

static struct x509_ctx ctx;

static void
test_class_accepts(void **state)
{
	struct seed s;
	struct x509_name name;
	unsigned usages = 0;
	const br_x509_pkey *pk;

	seed_load(&s, "ec-out-of-order-ip");
	assert_int_equal(x509_name_set(&name, "127.0.0.1"), 0);
	x509_ctx_init(&ctx, &s.trust.store, &name, NOW);
	assert_int_equal(drive(&ctx, s.rec, s.count - s.nbundle, 0), BR_ERR_OK);
	pk = x509_class.get_pkey((const br_x509_class *const *)&ctx.vtable,
	    &usages);
	assert_non_null(pk);
	assert_int_equal(pk->key_type, BR_KEYTYPE_EC);
	assert_true(usages & BR_KEYTYPE_SIGN);
	x509_ctx_clear(&ctx);
	assert_null(x509_class
	                .get_pkey((const br_x509_class *const *)&ctx.vtable,
	                    NULL));
	trust_free(&s.trust);
}

/*
 * The first version's defect: a certificate larger than the buffer made
 * a size_t subtraction wrap, and every later chunk was copied past it.
 */
static void
test_class_oversized(void **state)
{
	static unsigned char big[600 * 1024];
	struct der one = { big, sizeof big }, many[X509_CHAIN_CERTS + 1];
	struct seed s;
	struct x509_name name;
	size_t i;

	seed_load(&s, "ec-in-order");
	assert_int_equal(x509_name_set(&name, "localhost"), 0);
	memset(big, 0x30, sizeof big);
	x509_ctx_init(&ctx, &s.trust.store, &name, NOW);
	assert_int_equal(drive(&ctx, &one, 1, 0), BR_ERR_X509_LIMIT_EXCEEDED);
	assert_int_equal(ctx.fail.code, X509_E_TOO_LARGE);
	assert_true(ctx.used <= sizeof ctx.buf);
	/* Just over what is left after a real leaf. */
	many[0] = s.rec[0];
	one.n = sizeof ctx.buf - s.rec[0].n + 1;
	many[1] = one;
	assert_int_equal(drive(&ctx, many, 2, 0), BR_ERR_X509_LIMIT_EXCEEDED);
	/* Thirteen small certificates. */
	for (i = 0; i < ARRAY_LEN(many); i++)
		many[i] = s.rec[0];
	assert_int_equal(drive(&ctx, many, ARRAY_LEN(many), 0),
	    BR_ERR_X509_LIMIT_EXCEEDED);
	/* Lengths that lie: more announced than sent, and the reverse. */
	assert_int_equal(drive(&ctx, s.rec, 2, 1), BR_ERR_X509_INVALID_VALUE);
	assert_int_equal(ctx.fail.code, X509_E_MALFORMED);
	x509_class.start_chain(&ctx.vtable, NULL);
	x509_class.start_cert(&ctx.vtable, 10);
	x509_class.append(&ctx.vtable, s.rec[0].p, 11);
	x509_class.end_cert(&ctx.vtable);
	assert_int_equal(x509_class.end_chain(&ctx.vtable),
	    BR_ERR_X509_INVALID_VALUE);
	/* An empty chain. */
	assert_int_equal(drive(&ctx, many, 0, 0), BR_ERR_X509_EMPTY_CHAIN);
	x509_ctx_clear(&ctx);
	trust_free(&s.trust);
}

/* Twelve copies of one intermediate: the search stays bounded. */
static void
test_many_candidates(void **state)
{
	struct der chain[X509_CHAIN_CERTS];
	struct x509_name name;
	struct x509_leaf leaf;
	struct x509_fail f;
	struct x509_store empty = { .fd = -1, .name = "empty" };
	struct seed s;
	size_t i;

	seed_load(&s, "ec-in-order");
	chain[0] = s.rec[0];
	for (i = 1; i < ARRAY_LEN(chain); i++)
		chain[i] = s.rec[1];
	assert_int_equal(x509_name_set(&name, "localhost"), 0);
	assert_int_equal(x509_verify(chain, ARRAY_LEN(chain), &s.trust.store,
	                     &name, NOW, &leaf, &f),
	    X509_OK);
	/* Without the anchor, every ordering is a dead end, soon. */
	assert_int_equal(x509_verify(chain, ARRAY_LEN(chain), &empty, &name,
	                     NOW, &leaf, &f),
	    X509_E_UNTRUSTED);
	trust_free(&s.trust);
}

/*
 * The bundle rewritten in place between the load and the handshake (its
 * mtime kept, so only the bytes tell): the chain is refused as the
 * bundle having changed, trust_changed() says to reload, and the reload
 * trusts the chain again. Once its root has been read, the store keeps
 * it: the same bytes broken again do not matter to that chain.
 */
static void
test_bundle_rewritten(void **state)
{
	char dir[] = "/tmp/tb-x509-XXXXXX", path[64];
	unsigned char other[8192];
	struct err err = { 0 };
	struct x509_fail f;
	struct seed s;
	size_t blen = 0, i;

	seed_load(&s, "ec-in-order");
	for (i = s.count - s.nbundle; i < s.count; i++)
		blen += s.rec[i].n;
	trust_free(&s.trust);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/ca.der", dir);
	write_file(path, s.bundle, blen);
	assert_int_equal(trust_load_file(&s.trust, path, &err), 0);

	/* Same length, other bytes, same mtime. */
	memcpy(other, s.bundle, blen);
	other[blen / 2] ^= 0x01;
	rewrite_in_place(path, other, blen);
	assert_int_equal(trust_changed(&s.trust, path), 0);
	assert_int_equal(verify(&s, "localhost", NOW, &f),
	    X509_E_BUNDLE_CHANGED);
	assert_int_equal(f.code, X509_E_BUNDLE_CHANGED);
	assert_int_equal(trust_changed(&s.trust, path), 1);

	write_file(path, s.bundle, blen);
	assert_int_equal(trust_load_file(&s.trust, path, &err), 0);
	assert_int_equal(verify(&s, "localhost", NOW, &f), X509_OK);
	rewrite_in_place(path, other, blen);
	assert_int_equal(verify(&s, "localhost", NOW, &f), X509_OK);
	assert_int_equal(trust_changed(&s.trust, path), 0);
	trust_free(&s.trust);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

/*
 * An anchor whose name's sum equals the issuer's but whose name differs
 * (a collision a server could craft) is read, compared and passed over:
 * the chain is refused without it and found with the real root after
 * it.
 */
static void
test_sum_collision(void **state)
{
	struct seed s, other;
	struct x509_fail f;
	struct x509_anchor_ref *fake;
	size_t blen = 0, olen = 0, i;
	struct err err = { 0 };
	unsigned char both[2 * sizeof s.bundle];

	seed_load(&other, "rsa-pss");
	seed_load(&s, "ec-in-order");
	for (i = other.count - other.nbundle; i < other.count; i++)
		olen += other.rec[i].n;
	for (i = s.count - s.nbundle; i < s.count; i++)
		blen += s.rec[i].n;
	trust_free(&other.trust);
	trust_free(&s.trust);
	/* The unrelated root first, then the chain's. */
	memcpy(both, other.bundle, olen);
	memcpy(both + olen, s.bundle, blen);
	assert_int_equal(trust_load_mem(&s.trust, both, olen + blen, "both",
	                     &err),
	    0);
	assert_int_equal(s.trust.store.count, 2);
	fake = (struct x509_anchor_ref *)(uintptr_t)&s.trust.store.refs[0];
	assert_true(fake->dn_sum != s.trust.store.refs[1].dn_sum);
	fake->dn_sum = s.trust.store.refs[1].dn_sum;
	assert_int_equal(verify(&s, "localhost", NOW, &f), X509_OK);
	/* Only the real root is kept: crafted names cannot fill the cache
	 * and crowd out the anchors in use. */
	assert_non_null(s.trust.store.cache);
	assert_int_equal(s.trust.store.cache->count, 1);
	assert_ptr_equal(s.trust.store.cache->ref[0], &s.trust.store.refs[1]);
	/* The fake alone. */
	s.trust.store.count = 1;
	assert_int_equal(verify(&s, "localhost", NOW, &f), X509_E_UNTRUSTED);
	s.trust.store.count = 2;
	trust_free(&s.trust);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seeds),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_name_set),
		cmocka_unit_test(test_tampered_signature),
		cmocka_unit_test(test_class_accepts),
		cmocka_unit_test(test_class_oversized),
		cmocka_unit_test(test_many_candidates),
		cmocka_unit_test(test_bundle_rewritten),
		cmocka_unit_test(test_sum_collision),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
