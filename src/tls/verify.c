/*
 * verify.c: a path from the server's leaf to a trust anchor, and the
 * policy every certificate on it must meet; the br_x509_class BearSSL
 * calls.
 *
 * The rules are Go's crypto/x509 (the original sidecar's verifier) where
 * it and OpenSSL agree, and the stricter of the two where they differ,
 * so that no chain either refuses is accepted here.
 */
#include <arpa/inet.h>
#include <string.h>

#include "x509.h"
#include "wipe.h"

/*
 * Signature checks one chain may cost: a server sending many certificates
 * with the same subject must not make the client try every ordering (12
 * P-521 certificates cost 2.7 G instructions at 24). Go stops at 100; a
 * real chain needs one per certificate on its path.
 */
#define SIGNATURE_BUDGET 8

/*
 * Name-constraint comparisons one chain may cost, Go's default
 * (VerifyOptions.MaxConstraintComparisions): a CA's thousands of
 * subtrees times a leaf's thousands of names would cost seconds.
 */
#define CONSTRAINT_BUDGET 250000

/* GeneralName tags (RFC 5280, 4.2.1.6), IMPLICIT. */
#define GN_DNS 0x82
#define GN_IP 0x87

/* ---- names ---- */

int
x509_name_set(struct x509_name *n, const char *host)
{
	size_t len = strlen(host), i;

	memset(n, 0, sizeof *n);
	if (inet_pton(AF_INET, host, n->ip) == 1) {
		n->ip_len = 4;
		return 0;
	}
	if (strchr(host, ':') != NULL) {
		if (inet_pton(AF_INET6, host, n->ip) != 1)
			return -1;
		n->ip_len = 16;
		return 0;
	}
	if (len > 0 && host[len - 1] == '.')
		len--;
	if (len == 0 || len >= sizeof n->dns)
		return -1;
	for (i = 0; i < len; i++)
		n->dns[i] = (char)(host[i] >= 'A' && host[i] <= 'Z' ?
		        host[i] - 'A' + 'a' :
		        host[i]);
	return 0;
}

static unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* Do a[0..n) and b[0..n) match, ignoring ASCII case? */
static int
same_text(const unsigned char *a, const unsigned char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (lower(a[i]) != lower(b[i]))
			return 0;
	return 1;
}

/*
 * Does the dNSName pattern name `host`? Exact, ignoring case, or a
 * wildcard as the whole leftmost label standing for exactly one label,
 * with at least two labels after it (OpenSSL refuses "*.com"; Go and
 * OpenSSL both refuse partial wildcards such as "f*.example.com").
 */
static int
dns_matches(struct der pat, const char *host)
{
	size_t hlen = strlen(host);
	const char *dot;

	if (pat.n >= 2 && pat.p[0] == '*' && pat.p[1] == '.') {
		if (memchr(pat.p + 2, '.', pat.n - 2) == NULL ||
		    (dot = strchr(host, '.')) == NULL || dot == host)
			return 0;
		return hlen - (size_t)(dot - host) == pat.n - 1 &&
		    same_text(pat.p + 1, (const unsigned char *)dot, pat.n - 1);
	}
	return pat.n == hlen && memchr(pat.p, '*', pat.n) == NULL &&
	    same_text(pat.p, (const unsigned char *)host, hlen);
}

/*
 * The leaf names the server: an IP address only by an iPAddress entry,
 * a DNS name only by a dNSName entry (RFC 6125; no Common Name).
 */
static enum x509_code
check_server_name(const struct x509_cert *leaf, const struct x509_name *name)
{
	struct der names = leaf->san, gn;
	unsigned tag;

	if (!leaf->has_san)
		return X509_E_NO_SAN;
	while (der_take(&names, &tag, &gn, NULL) == 0) {
		if (name->ip_len > 0 && tag == GN_IP && gn.n == name->ip_len &&
		    memcmp(gn.p, name->ip, gn.n) == 0)
			return X509_OK;
		if (name->ip_len == 0 && tag == GN_DNS &&
		    dns_matches(gn, name->dns))
			return X509_OK;
	}
	return X509_E_NAME_MISMATCH;
}

/* ---- name constraints (RFC 5280, 4.2.1.10) ---- */

/* Is `name` within the dNSName subtree `c` ("" is everything)? */
static int
dns_within(const unsigned char *name, size_t n, struct der c)
{
	if (c.n == 0)
		return 1;
	if (c.p[0] == '.')
		return n > c.n && same_text(name + n - c.n, c.p, c.n);
	if (n == c.n)
		return same_text(name, c.p, n);
	return n > c.n && name[n - c.n - 1] == '.' &&
	    same_text(name + n - c.n, c.p, c.n);
}

/*
 * Could the wildcard "*.rest" stand for a name within subtree `c`? For
 * an excluded subtree that is what matters: "*.example.com" must not
 * slip past an excluded "bad.example.com".
 */
static int
wildcard_may_enter(struct der pat, struct der c)
{
	const unsigned char *rest = pat.p + 2;
	size_t rn = pat.n - 2, i;

	if (dns_within(rest, rn, c))
		return 1;
	/* c is one label over rest: "label.rest". */
	if (c.n <= rn + 1 || c.p[0] == '.' || c.p[c.n - rn - 1] != '.' ||
	    !same_text(c.p + c.n - rn, rest, rn))
		return 0;
	for (i = 0; i < c.n - rn - 1; i++)
		if (c.p[i] == '.')
			return 0;
	return 1;
}

static int
ip_within(struct der ip, struct der c)
{
	size_t i;

	if (c.n != 2 * ip.n)
		return 0;
	for (i = 0; i < ip.n; i++)
		if ((ip.p[i] & c.p[ip.n + i]) != (c.p[i] & c.p[ip.n + i]))
			return 0;
	return 1;
}

/* A contiguous mask, as Go requires: ones, then zeros. */
static int
mask_ok(const unsigned char *m, size_t n)
{
	size_t i;
	int zeros = 0;
	unsigned b;

	for (i = 0; i < n; i++)
		for (b = 0x80; b != 0; b >>= 1) {
			if (m[i] & b) {
				if (zeros)
					return 0;
			} else {
				zeros = 1;
			}
		}
	return 1;
}

/*
 * One GeneralSubtree's base, checked: a dNSName or an iPAddress with
 * address and contiguous mask, no minimum or maximum. Anything else
 * cannot be checked here, and fails closed.
 */
static enum x509_code
read_subtree(struct der *list, unsigned *tag, struct der *base)
{
	struct der st;

	if (der_expect(list, DER_SEQUENCE, &st, NULL) == -1 ||
	    der_take(&st, tag, base, NULL) == -1)
		return X509_E_MALFORMED;
	if (st.n != 0 || (*tag != GN_DNS && *tag != GN_IP))
		return X509_E_CONSTRAINT_TYPE;
	if (*tag == GN_IP &&
	    ((base->n != 8 && base->n != 32) ||
	        !mask_ok(base->p + base->n / 2, base->n / 2)))
		return X509_E_MALFORMED;
	return X509_OK;
}

/*
 * Is one name (tag, value) inside any subtree of `list` of its type?
 * The list's shape was checked by check_constraint_shape().
 */
static void
in_subtrees(struct der list, unsigned tag, struct der value, int excluded,
    int *typed, int *hit, long *budget)
{
	struct der base;
	unsigned btag;

	*typed = *hit = 0;
	while (list.n > 0) {
		if (read_subtree(&list, &btag, &base) != X509_OK)
			return;
		--*budget;
		if (btag != tag)
			continue;
		*typed = 1;
		if (tag == GN_IP ? ip_within(value, base) :
		                   dns_within(value.p, value.n, base) ||
		            (excluded && value.n > 2 && value.p[0] == '*' &&
		                value.p[1] == '.' &&
		                wildcard_may_enter(value, base)))
			*hit = 1;
	}
}

/* Every subtree of a constraint, read once for its type and shape. */
static enum x509_code
check_constraint_shape(struct der nc, struct der *permitted,
    struct der *excluded)
{
	struct der seq, list, base;
	unsigned tag;
	enum x509_code code;

	permitted->n = excluded->n = 0;
	permitted->p = excluded->p = NULL;
	if (der_expect(&nc, DER_SEQUENCE, &seq, NULL) == -1 || seq.n == 0)
		return X509_E_MALFORMED;
	if (seq.n > 0 && seq.p[0] == 0xa0 &&
	    der_expect(&seq, 0xa0, permitted, NULL) == -1)
		return X509_E_MALFORMED;
	if (seq.n > 0 && der_expect(&seq, 0xa1, excluded, NULL) == -1)
		return X509_E_MALFORMED;
	if (seq.n != 0)
		return X509_E_MALFORMED;
	for (list = *permitted; list.n > 0;)
		if ((code = read_subtree(&list, &tag, &base)) != X509_OK)
			return code;
	for (list = *excluded; list.n > 0;)
		if ((code = read_subtree(&list, &tag, &base)) != X509_OK)
			return code;
	return X509_OK;
}

/* One name against a constraint's permitted and excluded subtrees. */
static enum x509_code
check_name(struct der permitted, struct der excluded, unsigned tag,
    struct der value, long *budget)
{
	int typed, hit;

	in_subtrees(excluded, tag, value, 1, &typed, &hit, budget);
	if (hit)
		return X509_E_NAME_CONSTRAINT;
	in_subtrees(permitted, tag, value, 0, &typed, &hit, budget);
	if (*budget < 0)
		return X509_E_CONSTRAINT_WORK;
	return typed && !hit ? X509_E_NAME_CONSTRAINT : X509_OK;
}

static const unsigned char OID_CN[] = { 0x55, 0x04, 0x03 };

/* A CN taken as a DNS name: bytes no host name has refuse the chain. */
static enum x509_code
check_cn(struct der permitted, struct der excluded, struct der cn, long *budget)
{
	size_t i;

	for (i = 0; i < cn.n; i++)
		if (cn.p[i] <= ' ' || cn.p[i] >= 0x7f)
			return X509_E_NAME_CONSTRAINT;
	return check_name(permitted, excluded, GN_DNS, cn, budget);
}

/*
 * A leaf without a DNS name in its subjectAltName has its Common Names
 * checked as DNS names, as OpenSSL does: a CN outside the constraints
 * refuses the chain even for an IP-address host. OpenSSL takes only CNs
 * that look like DNS names, all with a dot; every CN with a dot is taken
 * here.
 */
static enum x509_code
check_cns(struct der permitted, struct der excluded,
    const struct x509_cert *leaf, long *budget)
{
	struct der name = leaf->subject, rdns, set, atv, oid, value;
	unsigned tag;
	enum x509_code code;

	if (der_expect(&name, DER_SEQUENCE, &rdns, NULL) == -1)
		return X509_E_MALFORMED;
	while (der_expect(&rdns, 0x31, &set, NULL) == 0)
		while (der_expect(&set, DER_SEQUENCE, &atv, NULL) == 0)
			if (der_expect(&atv, DER_OID, &oid, NULL) == 0 &&
			    der_is(&oid, OID_CN, sizeof OID_CN) &&
			    der_take(&atv, &tag, &value, NULL) == 0 &&
			    memchr(value.p, '.', value.n) != NULL &&
			    (code = check_cn(permitted, excluded, value,
			         budget)) != X509_OK)
				return code;
	return X509_OK;
}

/*
 * The names of one certificate's subjectAltName against one
 * nameConstraints value: no name in an excluded subtree, and, for each
 * type that has permitted subtrees, every name of that type in one.
 */
static enum x509_code
check_constraint(struct der nc, const struct x509_cert *c, int leaf,
    long *budget)
{
	struct der permitted, excluded, names, gn;
	unsigned tag;
	enum x509_code code;
	int dns = 0;

	if ((code = check_constraint_shape(nc, &permitted, &excluded)) !=
	    X509_OK)
		return code;
	for (names = c->san;
	     c->has_san && der_take(&names, &tag, &gn, NULL) == 0;) {
		if (tag != GN_DNS && tag != GN_IP)
			continue;
		if (tag == GN_IP && gn.n != 4 && gn.n != 16)
			return X509_E_MALFORMED;
		dns |= tag == GN_DNS;
		if ((code = check_name(permitted, excluded, tag, gn, budget)) !=
		    X509_OK)
			return code;
	}
	return leaf && !dns ? check_cns(permitted, excluded, c, budget) :
	                      X509_OK;
}

/* ---- the path ---- */

/*
 * Paths tried for one chain: a server sending many certificates with the
 * same name must not make the search visit every ordering of them.
 */
#define STEP_BUDGET 64

/* A path being tried: indexes into the parsed chain, leaf first. */
struct path {
	struct x509_cert certs[X509_CHAIN_CERTS]; /* everything sent */
	size_t count;
	size_t at[X509_PATH_MAX];
	size_t len;
	const struct x509_store *store;
	const struct x509_name *name;
	int64_t now;
	int budget; /* signature checks left */
	int steps;  /* extend() calls left */
	signed char edge[X509_CHAIN_CERTS][X509_CHAIN_CERTS];
	struct x509_fail best;       /* the deepest refusal so far */
	unsigned char leaf_hash[32]; /* SHA-256 of the leaf's DER */
	long comparisons;            /* name-constraint work left */
	size_t best_len;
	struct x509_leaf leaf;
};

static void
fail_at(struct x509_fail *f, enum x509_code code, int depth,
    const struct x509_cert *c)
{
	f->code = code;
	f->depth = depth;
	f->subject[0] = f->issuer[0] = '\0';
	if (c == NULL)
		return;
	/* The anchor is known by the name the top certificate gives it. */
	x509_name_text(depth == -1 ? c->issuer : c->subject, f->subject,
	    sizeof f->subject);
	x509_name_text(c->issuer, f->issuer, sizeof f->issuer);
}

/* Keep the refusal of the longest attempt: it is the most telling. */
static void
refuse(struct path *p, enum x509_code code, int depth)
{
	const struct x509_cert *c = depth >= 0 ? &p->certs[p->at[depth]] :
	                                         &p->certs[p->at[p->len - 1]];

	if (p->best.code != X509_OK &&
	    (p->len < p->best_len ||
	        (p->len == p->best_len && code == X509_E_UNTRUSTED)))
		return;
	p->best_len = p->len;
	fail_at(&p->best, code, depth, c);
}

/* Do the bundle's trust settings refuse this certificate? */
static int
distrusted(const struct x509_store *store, const struct x509_cert *c)
{
	unsigned char id[32];
	br_x509_pkey pk;
	size_t i;

	/* A key this code cannot use cannot sign or serve on any path. */
	if (store->ndistrusted == 0 || x509_spki_key(c->spki, &pk) != X509_OK)
		return 0;
	x509_key_id(&pk, id);
	for (i = 0; i < store->ndistrusted; i++)
		if (memcmp(store->distrusted[i], id, sizeof id) == 0)
			return 1;
	return 0;
}

/* Checks for one certificate at position `i` of the path. */
static enum x509_code
check_cert(const struct path *p, size_t i)
{
	const struct x509_cert *c = &p->certs[p->at[i]];
	size_t below = i > 0 ? i - 1 : 0;

	/* Valid from notBefore up to, not including, notAfter: OpenSSL's
	 * reading, a second stricter than Go's. */
	if (p->now < c->not_before || p->now >= c->not_after)
		return X509_E_EXPIRED;
	if (distrusted(p->store, c))
		return X509_E_DISTRUSTED;
	if (c->unknown_critical)
		return X509_E_CRITICAL;
	if (c->has_eku && !c->eku_server)
		return X509_E_EKU;
	/* The Netscape type, where present, as OpenSSL reads it on a leaf
	 * (a CA with basicConstraints, as every issuer here, it ignores). */
	if (i == 0 && c->has_ns_type && !(c->ns_type & X509_NS_SSL_SERVER))
		return X509_E_EKU;
	if (i == 0)
		return X509_OK;
	if (!c->ca)
		return X509_E_NOT_CA;
	if (c->has_ku && !(c->ku & X509_KU_KEY_CERT_SIGN))
		return X509_E_KEY_USAGE;
	/* Intermediates between this CA and the leaf, as Go counts them. */
	if (c->path_len >= 0 && below > (size_t)c->path_len)
		return X509_E_PATH_LEN;
	return X509_OK;
}

/* Every constraint on the path, the anchor's too, over the names below. */
static enum x509_code
check_constraints(struct path *p, const struct x509_anchor *a, int *depth)
{
	size_t i, j;
	enum x509_code code;

	for (i = 1; i <= p->len; i++) {
		struct der nc = i < p->len ? p->certs[p->at[i]].constraints :
		                             a->constraints;

		if (nc.n == 0)
			continue;
		for (j = 0; j < i; j++)
			if ((code = check_constraint(nc, &p->certs[p->at[j]],
			         j == 0, &p->comparisons)) != X509_OK) {
				*depth = i < p->len ? (int)i : -1;
				return code;
			}
	}
	return X509_OK;
}

/*
 * Is the point on its curve? The issuers' points are checked by their
 * signatures; the leaf's only later, by the handshake's. Multiplying by
 * one decodes, and so validates, the point.
 */
static int
on_curve(const br_ec_public_key *k)
{
	static const unsigned char one[] = { 1 };
	unsigned char q[133];

	if (k->qlen > sizeof q)
		return 0;
	memcpy(q, k->q, k->qlen);
	return br_ec_all_m31.mul(q, k->qlen, one, sizeof one, k->curve) == 1;
}

/* The leaf's key and what BearSSL may use it for. */
static enum x509_code
leaf_key(const struct x509_cert *leaf, struct x509_leaf *out)
{
	enum x509_code code;

	if ((code = x509_spki_key(leaf->spki, &out->pkey)) != X509_OK)
		return code;
	out->usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
	if (leaf->has_ku) {
		out->usages = 0;
		if (leaf->ku & X509_KU_DIGITAL_SIGNATURE)
			out->usages |= BR_KEYTYPE_SIGN;
		if (leaf->ku &
		    (X509_KU_KEY_ENCIPHERMENT | X509_KU_KEY_AGREEMENT))
			out->usages |= BR_KEYTYPE_KEYX;
	}
	/* Every suite offered is ECDHE, signed by the server's key. */
	if (!(out->usages & BR_KEYTYPE_SIGN))
		return X509_E_KEY_USAGE;
	return out->pkey.key_type != BR_KEYTYPE_EC ||
	        on_curve(&out->pkey.key.ec) ?
	    X509_OK :
	    X509_E_MALFORMED;
}

/*
 * The whole path, ending at anchor `a` (signatures checked as the path
 * was built). Returns X509_OK or refuses with the failing depth.
 */
static enum x509_code
check_path(struct path *p, const struct x509_anchor *a)
{
	enum x509_code code;
	size_t i;
	int depth = -1;

	for (i = 0; i < p->len; i++)
		if ((code = check_cert(p, i)) != X509_OK) {
			refuse(p, code, (int)i);
			return code;
		}
	if (p->now < a->not_before || p->now >= a->not_after)
		code = X509_E_ANCHOR_EXPIRED;
	else if (a->path_len >= 0 && p->len - 1 > (size_t)a->path_len)
		code = X509_E_PATH_LEN;
	else if ((code = check_constraints(p, a, &depth)) == X509_OK &&
	    (code = check_server_name(&p->certs[p->at[0]], p->name)) ==
	        X509_OK &&
	    (code = leaf_key(&p->certs[p->at[0]], &p->leaf)) == X509_OK)
		return X509_OK;
	else if (code != X509_E_NAME_CONSTRAINT &&
	    code != X509_E_CONSTRAINT_TYPE && code != X509_E_CONSTRAINT_WORK &&
	    code != X509_E_MALFORMED)
		depth = 0;
	refuse(p, code, depth);
	return code;
}

/* Does `key` sign chain certificate `c`? Cached per edge, budgeted. */
static enum x509_code
signed_by(struct path *p, size_t c, size_t issuer, const br_x509_pkey *key)
{
	signed char *memo = issuer < p->count ? &p->edge[c][issuer] : NULL;
	enum x509_code code;

	if (memo != NULL && *memo != 0)
		return *memo > 0 ? X509_OK : X509_E_SIGNATURE;
	if (p->budget-- <= 0)
		return X509_E_UNTRUSTED;
	code = x509_check_signature(&p->certs[c], key);
	if (memo != NULL)
		*memo = code == X509_OK ? 1 : -1;
	return code;
}

/*
 * Read candidate `r` into the store's scratch, when `r`'s name is really
 * the one wanted (`issuer`, or none for a pinned leaf). Returns X509_OK
 * with `a` filled, X509_E_UNTRUSTED for a name that only shares its
 * sum, or X509_E_BUNDLE_CHANGED.
 */
static enum x509_code
candidate(struct path *p, const struct x509_anchor_ref *r,
    const struct der *issuer, struct x509_anchor *a)
{
	return x509_anchor_named(p->store, r, issuer, p->store->scratch,
	    p->store->scratch_len, a);
}

/*
 * The leaf itself in the bundle as a non-CA anchor (a pinned
 * certificate), found by its hash: its own signature does not matter.
 */
static enum x509_code
try_pinned(struct path *p)
{
	const struct x509_anchor_ref *r;
	struct x509_anchor a;
	enum x509_code code;
	size_t i;

	for (i = 0; i < p->store->count; i++) {
		r = &p->store->refs[i];
		if (r->cert_hash == NULL || (r->flags & X509_ANCHOR_CA) ||
		    memcmp(p->leaf_hash, r->cert_hash, sizeof p->leaf_hash) !=
		        0)
			continue;
		if ((code = candidate(p, r, NULL, &a)) == X509_E_BUNDLE_CHANGED)
			return code;
		if (code == X509_OK && check_path(p, &a) == X509_OK)
			return X509_OK;
	}
	return X509_E_UNTRUSTED;
}

/*
 * The top of the path against the anchors: a CA anchor named as its
 * issuer whose key signs it, or, for a path of the leaf alone, the leaf
 * itself in the bundle, byte for byte, as Go trusts a self-signed server
 * certificate put in its pool. Candidates are found by the sum of their
 * name and read one at a time, in the bundle's order; each costs a
 * signature check (one whose name only shares the sum, a server's
 * crafted collision, costs as much), so SIGNATURE_BUDGET bounds the reads
 * too: past it a candidate is refused unread, as its check would be.
 */
static enum x509_code
try_anchors(struct path *p)
{
	size_t top = p->at[p->len - 1], i;
	const struct x509_cert *c = &p->certs[top];
	const struct x509_anchor_ref *r;
	struct x509_anchor a;
	uint64_t dn_sum = x509_sum(&c->issuer);
	enum x509_code code;

	if (p->len == 1 && (code = try_pinned(p)) != X509_E_UNTRUSTED)
		return code;
	for (i = 0; i < p->store->count; i++) {
		r = &p->store->refs[i];
		if (!(r->flags & X509_ANCHOR_CA) || r->dn_sum != dn_sum)
			continue;
		if (p->budget <= 0) {
			refuse(p, X509_E_UNTRUSTED, (int)p->len - 1);
			continue;
		}
		if ((code = candidate(p, r, &c->issuer, &a)) ==
		    X509_E_BUNDLE_CHANGED)
			return code;
		/* A name that only shares the sum (a server's crafted
		 * collision) costs as much as a check. */
		if (code != X509_OK) {
			p->budget--;
			continue;
		}
		code = signed_by(p, top, X509_CHAIN_CERTS, &a.pkey);
		if (code == X509_OK && check_path(p, &a) == X509_OK)
			return X509_OK;
		if (code != X509_OK)
			refuse(p, code, (int)p->len - 1);
	}
	return X509_E_UNTRUSTED;
}

/*
 * Depth-first: anchors first at each step, then each issuer sent. The
 * recursion is at most X509_PATH_MAX deep and STEP_BUDGET calls long.
 */
static enum x509_code
extend(struct path *p) /* NOLINT(misc-no-recursion): bounded, see above */
{
	size_t top = p->at[p->len - 1], j, k;
	const struct x509_cert *c = &p->certs[top];
	br_x509_pkey key;
	enum x509_code code;

	if (p->steps-- <= 0)
		return X509_E_UNTRUSTED;
	if ((code = try_anchors(p)) != X509_E_UNTRUSTED)
		return code;
	if (p->len == X509_PATH_MAX) {
		refuse(p, X509_E_PATH_TOO_LONG, (int)p->len - 1);
		return X509_E_PATH_TOO_LONG;
	}
	for (j = 0; j < p->count; j++) {
		for (k = 0; k < p->len && p->at[k] != j; k++)
			;
		if (k < p->len ||
		    !der_is(&c->issuer, p->certs[j].subject.p,
		        p->certs[j].subject.n))
			continue;
		if ((code = x509_spki_key(p->certs[j].spki, &key)) == X509_OK)
			code = signed_by(p, top, j, &key);
		if (code != X509_OK) {
			refuse(p, code, (int)p->len - 1);
			continue;
		}
		p->at[p->len++] = j;
		code = extend(p);
		if (code == X509_OK || code == X509_E_BUNDLE_CHANGED)
			return code;
		p->len--;
	}
	refuse(p, X509_E_UNTRUSTED, (int)p->len - 1);
	return X509_E_UNTRUSTED;
}

enum x509_code
x509_verify(const struct der *certs, size_t count,
    const struct x509_store *store, const struct x509_name *name, int64_t now,
    struct x509_leaf *leaf, struct x509_fail *fail)
{
	enum x509_code code;
	struct path p;
	size_t i;

	memset(fail, 0, sizeof *fail);
	if (count == 0 || count > X509_CHAIN_CERTS) {
		fail_at(fail, count == 0 ? X509_E_EMPTY : X509_E_TOO_LARGE, 0,
		    NULL);
		return fail->code;
	}
	memset(&p, 0, sizeof p);
	/* Go refuses the handshake when any certificate sent is malformed. */
	for (i = 0; i < count; i++)
		if (x509_cert_parse(certs[i].p, certs[i].n, &p.certs[i]) !=
		    X509_OK) {
			fail_at(fail, X509_E_MALFORMED, (int)i, NULL);
			return X509_E_MALFORMED;
		}
	p.count = count;
	x509_hash(&certs[0], p.leaf_hash);
	p.comparisons = CONSTRAINT_BUDGET;
	p.store = store;
	p.name = name;
	p.now = now;
	p.budget = SIGNATURE_BUDGET;
	p.steps = STEP_BUDGET;
	p.len = 1;
	code = extend(&p);
	/* The anchors read are public, but their pages need not stay: the
	 * scratch is whole pages, so this writes nothing. */
	if (store->scratch != NULL)
		wipe(store->scratch, store->scratch_len);
	if (code == X509_OK) {
		*leaf = p.leaf;
		return X509_OK;
	}
	/* No other refusal stands when the bundle itself was not read. */
	if (code == X509_E_BUNDLE_CHANGED) {
		fail_at(fail, code, -1, NULL);
		return code;
	}
	*fail = p.best;
	return fail->code;
}

/* ---- words ---- */

static const struct {
	enum x509_code code;
	unsigned br;
	const char *text;
} codes[] = {
	{ X509_E_EMPTY, BR_ERR_X509_EMPTY_CHAIN,
	    "the server sent no certificate" },
	{ X509_E_TOO_LARGE, BR_ERR_X509_LIMIT_EXCEEDED,
	    "the server sent more certificates or bytes than a chain may "
	    "hold here (12 certificates, 48 KiB)" },
	{ X509_E_MALFORMED, BR_ERR_X509_INVALID_VALUE,
	    "a certificate the server sent is not valid DER X.509" },
	{ X509_E_UNTRUSTED, BR_ERR_X509_NOT_TRUSTED,
	    "the chain does not lead to a CA in the CA bundle (check "
	    "CA_BUNDLE_PATH, and that the server sends its intermediate "
	    "certificates)" },
	{ X509_E_PATH_TOO_LONG, BR_ERR_X509_LIMIT_EXCEEDED,
	    "the chain is longer than 8 certificates" },
	{ X509_E_SIGNATURE, BR_ERR_X509_BAD_SIGNATURE,
	    "a signature in the chain does not verify" },
	{ X509_E_SIG_ALGORITHM, BR_ERR_X509_UNSUPPORTED,
	    "a certificate is signed with an algorithm this client refuses "
	    "(SHA-1, MD5) or lacks (Ed25519, SHA-224)" },
	{ X509_E_PSS, BR_ERR_X509_UNSUPPORTED,
	    "a certificate is signed with RSASSA-PSS parameters Go refuses "
	    "too (only SHA-256/384/512 with MGF1 of the same hash and a "
	    "salt of the hash's length are accepted)" },
	{ X509_E_WEAK_KEY, BR_ERR_X509_WEAK_PUBLIC_KEY,
	    "a certificate has an RSA key shorter than 2048 bits" },
	{ X509_E_KEY_TYPE, BR_ERR_X509_UNSUPPORTED,
	    "a certificate has a key this client cannot use (RSA up to 4096 "
	    "bits and ECDSA P-256, P-384, P-521 are supported)" },
	{ X509_E_EXPIRED, BR_ERR_X509_EXPIRED,
	    "a certificate has expired or is not yet valid; check this "
	    "machine's clock too" },
	{ X509_E_ANCHOR_EXPIRED, BR_ERR_X509_EXPIRED,
	    "the CA certificate in the CA bundle that the chain leads to has "
	    "expired or is not yet valid: update the bundle" },
	{ X509_E_NOT_CA, BR_ERR_X509_NOT_CA,
	    "a certificate signs others but is not a CA (basicConstraints "
	    "CA:TRUE missing)" },
	{ X509_E_PATH_LEN, BR_ERR_X509_NOT_CA,
	    "a CA's pathLenConstraint forbids this many intermediates below "
	    "it" },
	{ X509_E_KEY_USAGE, BR_ERR_X509_FORBIDDEN_KEY_USAGE,
	    "a key usage forbids this use (a CA needs keyCertSign, the "
	    "server's certificate digitalSignature)" },
	{ X509_E_EKU, BR_ERR_X509_FORBIDDEN_KEY_USAGE,
	    "an extended key usage leaves out TLS server authentication" },
	{ X509_E_CRITICAL, BR_ERR_X509_CRITICAL_EXTENSION,
	    "a certificate has a critical extension this client does not "
	    "know" },
	{ X509_E_NAME_CONSTRAINT, BR_ERR_X509_BAD_SERVER_NAME,
	    "a name in the chain is outside a CA's name constraints" },
	{ X509_E_CONSTRAINT_TYPE, BR_ERR_X509_CRITICAL_EXTENSION,
	    "a CA's name constraints use a form this client cannot check "
	    "(only DNS names and IP ranges are checked; others fail closed)" },
	{ X509_E_CONSTRAINT_WORK, BR_ERR_X509_LIMIT_EXCEEDED,
	    "checking the chain's name constraints would take more than "
	    "250,000 comparisons (Go's limit)" },
	{ X509_E_NO_SAN, BR_ERR_X509_BAD_SERVER_NAME,
	    "the server's certificate has no subjectAltName; the Common Name "
	    "is not used (as in Go since 1.15): reissue it with the host in "
	    "subjectAltName" },
	{ X509_E_DISTRUSTED, BR_ERR_X509_NOT_TRUSTED,
	    "a certificate on the path is refused for TLS servers by the "
	    "CA bundle's OpenSSL trust settings" },
	{ X509_E_BUNDLE_CHANGED, BR_ERR_X509_NOT_TRUSTED,
	    "the CA bundle changed since it was loaded (rewritten in place): "
	    "it is loaded again before the next exchange" },
	{ X509_E_NAME_MISMATCH, BR_ERR_X509_BAD_SERVER_NAME,
	    "the server's certificate does not name the host in EXCHANGE_URL "
	    "(subjectAltName DNS names, or IP addresses for an IP host)" },
};

const char *
x509_strerror(enum x509_code code)
{
	size_t i;

	for (i = 0; i < sizeof codes / sizeof codes[0]; i++)
		if (codes[i].code == code)
			return codes[i].text;
	return code == X509_OK ? "the chain is valid" : "the chain is refused";
}

unsigned
x509_br_error(enum x509_code code)
{
	size_t i;

	for (i = 0; i < sizeof codes / sizeof codes[0]; i++)
		if (codes[i].code == code)
			return codes[i].br;
	return code == X509_OK ? BR_ERR_OK : BR_ERR_X509_NOT_TRUSTED;
}

/* ---- the class BearSSL calls ---- */

static struct x509_ctx *
ctx_of(const br_x509_class **vt)
{
	return (struct x509_ctx *)(void *)vt;
}

void
x509_ctx_init(struct x509_ctx *x, const struct x509_store *store,
    const struct x509_name *name, int64_t now)
{
	x->vtable = &x509_class;
	x->store = store;
	x->name = *name;
	x->now = now;
	x->used = 0;
	x509_ctx_clear(x);
}

void
x509_ctx_clear(struct x509_ctx *x)
{
	/* Only what was written: the rest of buf stays untouched pages,
	 * and the whole pages written go back to the kernel. */
	wipe(x->buf, x->used);
	x->used = x->count = x->cert_start = x->cert_declared = 0;
	x->overflow = X509_OK;
	x->done = 0;
	memset(&x->leaf, 0, sizeof x->leaf);
	memset(&x->fail, 0, sizeof x->fail);
}

static void
start_chain(const br_x509_class **vt, const char *server_name)
{
	/* The name was set at init: BearSSL's is the SNI, absent for IPs. */
	(void)server_name;
	x509_ctx_clear(ctx_of(vt));
}

/*
 * `used` never passes sizeof buf, and every length is compared with
 * what is left of it, so no sum or difference here can wrap.
 */
static void
start_cert(const br_x509_class **vt, uint32_t length)
{
	struct x509_ctx *x = ctx_of(vt);

	if (x->overflow != X509_OK)
		return;
	if (x->count == X509_CHAIN_CERTS || length > sizeof x->buf - x->used) {
		x->overflow = X509_E_TOO_LARGE;
		return;
	}
	x->cert_start = x->used;
	x->cert_declared = length;
}

static void
append(const br_x509_class **vt, const unsigned char *buf, size_t len)
{
	struct x509_ctx *x = ctx_of(vt);
	size_t have;

	if (x->overflow != X509_OK)
		return;
	have = x->used - x->cert_start;
	if (len > x->cert_declared - have) {
		x->overflow = X509_E_MALFORMED;
		return;
	}
	memcpy(x->buf + x->used, buf, len);
	x->used += len;
}

static void
end_cert(const br_x509_class **vt)
{
	struct x509_ctx *x = ctx_of(vt);

	if (x->overflow != X509_OK)
		return;
	/* BearSSL calls start_cert first; a caller that did not is not
	 * trusted to have kept count. */
	if (x->count == X509_CHAIN_CERTS ||
	    x->used - x->cert_start != x->cert_declared) {
		x->overflow = X509_E_MALFORMED;
		return;
	}
	x->certs[x->count].p = x->buf + x->cert_start;
	x->certs[x->count].n = x->cert_declared;
	x->count++;
	x->cert_declared = 0;
	x->cert_start = x->used;
}

static unsigned
end_chain(const br_x509_class **vt)
{
	struct x509_ctx *x = ctx_of(vt);
	enum x509_code code = x->overflow;

	if (code != X509_OK)
		fail_at(&x->fail, code, (int)x->count, NULL);
	else
		code = x509_verify(x->certs, x->count, x->store, &x->name,
		    x->now, &x->leaf, &x->fail);
	x->done = code == X509_OK;
	return x509_br_error(code);
}

static const br_x509_pkey *
get_pkey(const br_x509_class *const *vt, unsigned *usages)
{
	const struct x509_ctx *x = (const struct x509_ctx *)(const void *)vt;

	if (!x->done)
		return NULL;
	if (usages != NULL)
		*usages = x->leaf.usages;
	return &x->leaf.pkey;
}

const br_x509_class x509_class = {
	sizeof(struct x509_ctx),
	start_chain,
	start_cert,
	append,
	end_cert,
	end_chain,
	get_pkey,
};
