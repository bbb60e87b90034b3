/*
 * tls.c: a BearSSL TLS 1.2 client over a non-blocking stream.
 *
 * The engine is driven by hand rather than through br_sslio, which blocks:
 * every record goes through the lower stream, and a socket that is not
 * ready sends the caller back to its event loop.
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "tls.h"
#include "wipe.h"

static const uint16_t suites[] = {
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
};

/* Reads of records in one step, before the loop gets its turn again. */
#define RECORDS_PER_STEP 16

/* TLS alert numbers that deserve their own words. */
#define ALERT_HANDSHAKE_FAILURE 40
#define ALERT_BAD_CERTIFICATE 42
#define ALERT_UNSUPPORTED_CERTIFICATE 43
#define ALERT_CERTIFICATE_REVOKED 44
#define ALERT_CERTIFICATE_EXPIRED 45
#define ALERT_CERTIFICATE_UNKNOWN 46
#define ALERT_UNKNOWN_CA 48
#define ALERT_ACCESS_DENIED 49
#define ALERT_PROTOCOL_VERSION 70
#define ALERT_INSUFFICIENT_SECURITY 71
#define ALERT_UNRECOGNIZED_NAME 112
#define ALERT_CERTIFICATE_REQUIRED 116

static const struct {
	int code;
	const char *text;
} messages[] = {
	{ BR_ERR_UNSUPPORTED_VERSION,
	    "the server does not speak TLS 1.2 "
	    "(it may offer only TLS 1.0/1.1, or only TLS 1.3, which BearSSL "
	    "does not implement)" },
	{ BR_ERR_BAD_VERSION,
	    "the server did not answer with TLS: is the "
	    "port a plain HTTP server?" },
	{ BR_ERR_UNKNOWN_TYPE,
	    "the server did not answer with TLS: is the "
	    "port a plain HTTP server?" },
	{ BR_ERR_BAD_LENGTH,
	    "the server sent a malformed TLS record: is "
	    "the port a TLS server?" },
	{ BR_ERR_BAD_CIPHER_SUITE,
	    "the server chose a cipher suite this client did not offer" },
	{ BR_ERR_BAD_SIGNATURE, "the server's handshake signature is invalid" },
	{ BR_ERR_X509_EXPIRED,
	    "the server's certificate (or one in its "
	    "chain) has expired or is not yet valid; check this machine's "
	    "clock too" },
	{ BR_ERR_X509_BAD_SERVER_NAME,
	    "the server's certificate does not name the host in EXCHANGE_URL" },
	{ BR_ERR_X509_NOT_TRUSTED,
	    "the server's certificate chain does not "
	    "lead to a CA in the CA bundle (check CA_BUNDLE_PATH, and that "
	    "the server sends its intermediate certificates)" },
	{ BR_ERR_X509_NOT_CA,
	    "a certificate in the server's chain signs "
	    "others but is not a CA (CA:TRUE missing)" },
	{ BR_ERR_X509_FORBIDDEN_KEY_USAGE,
	    "a certificate in the server's "
	    "chain is not allowed for TLS server authentication (key usage or "
	    "extended key usage)" },
	{ BR_ERR_X509_WEAK_PUBLIC_KEY,
	    "a certificate in the server's chain "
	    "has an RSA key shorter than 2048 bits" },
	{ BR_ERR_X509_UNSUPPORTED,
	    "a certificate in the server's chain "
	    "uses an unsupported algorithm (SHA-1 and MD5 signatures are "
	    "refused)" },
	{ BR_ERR_X509_BAD_SIGNATURE,
	    "a signature in the server's certificate chain is invalid" },
	{ BR_ERR_X509_CRITICAL_EXTENSION,
	    "a certificate in the server's "
	    "chain has a critical extension this client does not know, or "
	    "name constraints it cannot enforce" },
	{ BR_ERR_X509_TIME_UNKNOWN,
	    "the current time is unknown, so "
	    "certificate validity cannot be checked" },
	{ BR_ERR_X509_DN_MISMATCH,
	    "the server's certificates are not a "
	    "chain: each must be issued by the next" },
	{ BR_ERR_X509_EMPTY_CHAIN, "the server sent no certificate" },
	{ BR_ERR_X509_LIMIT_EXCEEDED,
	    "the server's certificate chain is too long or too large" },
};

const char *
tls_strerror(int code)
{
	size_t i;
	int alert;

	for (i = 0; i < sizeof messages / sizeof messages[0]; i++)
		if (messages[i].code == code)
			return messages[i].text;
	if (code >= BR_ERR_RECV_FATAL_ALERT && code < BR_ERR_SEND_FATAL_ALERT) {
		alert = code - BR_ERR_RECV_FATAL_ALERT;
		switch (alert) {
		case ALERT_PROTOCOL_VERSION:
			return "the server refused TLS 1.2: it most likely "
			       "requires TLS 1.3, which BearSSL does not "
			       "implement; allow TLS 1.2 on the server";
		case ALERT_HANDSHAKE_FAILURE:
		case ALERT_INSUFFICIENT_SECURITY:
			return "the server refused the handshake: no cipher "
			       "suite or curve in common (this client offers "
			       "ECDHE with AES-GCM or ChaCha20-Poly1305)";
		case ALERT_UNRECOGNIZED_NAME:
			return "the server does not know the host name sent "
			       "as SNI";
		case ALERT_BAD_CERTIFICATE:
		case ALERT_CERTIFICATE_REQUIRED:
			return "the server requires a client certificate";
		default:
			return "the server aborted the connection with a TLS "
			       "alert";
		}
	}
	if (code >= BR_ERR_SEND_FATAL_ALERT)
		return "this client aborted the connection with a TLS alert";
	if (code >= BR_ERR_X509_OK)
		return "the server's certificate chain is malformed";
	return "the TLS session failed";
}

/*
 * Did the server's first bytes fail to look like a TLS record (a content
 * type from 20 to 24, then major version 3)? BearSSL reports those as a
 * version problem, which would send the operator the wrong way.
 */
static int
not_tls(const struct tls_conn *t)
{
	return t->first_len > 0 &&
	    (t->first[0] < 20 || t->first[0] > 24 ||
	        (t->first_len > 1 && t->first[1] != 3));
}

/* Alerts a server sends about a client certificate, sent or missing
 * (RFC 5246 section 7.2.2; 116 from RFC 8446). */
static int
certificate_alert(int alert)
{
	switch (alert) {
	case ALERT_HANDSHAKE_FAILURE:
	case ALERT_BAD_CERTIFICATE:
	case ALERT_UNSUPPORTED_CERTIFICATE:
	case ALERT_CERTIFICATE_REVOKED:
	case ALERT_CERTIFICATE_EXPIRED:
	case ALERT_CERTIFICATE_UNKNOWN:
	case ALERT_UNKNOWN_CA:
	case ALERT_ACCESS_DENIED:
	case ALERT_CERTIFICATE_REQUIRED:
		return 1;
	default:
		return 0;
	}
}

/* A certificate alert after the server asked for a client certificate. */
static const char *
refused(const struct tls_conn *t, int alert)
{
	if (t->cert.inner == NULL)
		return "the server asked for a client certificate and refused "
		       "to go on without one (TLS_CLIENT_CERT_PATH and "
		       "TLS_CLIENT_KEY_PATH set one for the token server)";
	switch (alert) {
	case ALERT_CERTIFICATE_EXPIRED:
		return "the server refused the client certificate as expired "
		       "or not yet valid: renew TLS_CLIENT_CERT_PATH, or check "
		       "this machine's clock";
	case ALERT_UNKNOWN_CA:
		return "the server does not trust the client certificate's "
		       "issuer: TLS_CLIENT_CERT_PATH needs a certificate from "
		       "a CA the server trusts, followed by its intermediates";
	case ALERT_CERTIFICATE_REVOKED:
		return "the server refused the client certificate as revoked";
	default:
		return "the server refused the client certificate in "
		       "TLS_CLIENT_CERT_PATH: check its issuer, its dates and "
		       "that it allows TLS client authentication";
	}
}

static int
engine_error(struct tls_conn *t, struct err *err)
{
	int code = br_ssl_engine_last_error(&t->sc.eng);
	int alert = code - BR_ERR_RECV_FATAL_ALERT;

	const struct x509_fail *f = &t->x509.fail;

	if (f->code == X509_E_BUNDLE_CHANGED &&
	    code == (int)x509_br_error(f->code))
		return err_set(err, ERR_TLS,
		    "TLS with %s (%s) failed: the CA bundle %s changed since "
		    "it was loaded (rewritten in place): it is loaded again "
		    "before the next exchange",
		    t->host, t->peer, t->x509.store->name);
	if (f->code != X509_OK && code == (int)x509_br_error(f->code) &&
	    f->subject[0] != '\0')
		return err_set(err, ERR_TLS,
		    "TLS with %s (%s) failed: %s "
		    "(certificate \"%s\", issued by \"%s\")",
		    t->host, t->peer, x509_strerror(f->code), f->subject,
		    f->issuer);
	if (f->code != X509_OK && code == (int)x509_br_error(f->code))
		return err_set(err, ERR_TLS, "TLS with %s (%s) failed: %s",
		    t->host, t->peer, x509_strerror(f->code));
	if (t->cert.asked && code >= BR_ERR_RECV_FATAL_ALERT &&
	    code < BR_ERR_SEND_FATAL_ALERT && certificate_alert(alert))
		return err_set(err, ERR_TLS,
		    "TLS with %s (%s) failed: %s (TLS alert %d)", t->host,
		    t->peer, refused(t, alert), alert);
	if (not_tls(t))
		return err_set(err, ERR_TLS,
		    "TLS with %s (%s) failed: the "
		    "server did not answer with TLS: is the port a plain HTTP "
		    "server? (BearSSL error %d)",
		    t->host, t->peer, code);
	return err_set(err, ERR_TLS,
	    "TLS with %s (%s) failed: %s (BearSSL error %d)", t->host, t->peer,
	    tls_strerror(code), code);
}

/*
 * Run the engine until one of the `want` states is reached, moving records
 * to and from the lower stream. Returns 1 when reached, 0 when the
 * connection closed cleanly or the peer closed TCP, STREAM_AGAIN with
 * *events set, or -1 with err set.
 */
static int
pump(struct tls_conn *t, unsigned want, short *events, struct err *err)
{
	br_ssl_engine_context *eng = &t->sc.eng;
	struct stream *lo = t->lower;
	unsigned char *buf;
	unsigned st;
	size_t len, i;
	ssize_t n;
	int records = 0;

	for (;;) {
		st = br_ssl_engine_current_state(eng);
		if (st & BR_SSL_CLOSED)
			return br_ssl_engine_last_error(eng) == BR_ERR_OK ?
			    0 :
			    engine_error(t, err);
		if (st & BR_SSL_SENDREC) {
			buf = br_ssl_engine_sendrec_buf(eng, &len);
			if ((n = lo->send(lo->ctx, buf, len, events, err)) < 0)
				return (int)n;
			br_ssl_engine_sendrec_ack(eng, (size_t)n);
			continue;
		}
		if (st & BR_SSL_SENDAPP)
			t->handshake_done = 1;
		if (st & want)
			return 1;
		if (st & BR_SSL_RECVREC) {
			/* A peer that sends records without end (empty ones,
			 * say) must leave the caller's loop its turn: yield,
			 * asking to be called again at once. */
			if (records++ == RECORDS_PER_STEP) {
				*events = 0;
				return STREAM_AGAIN;
			}
			if ((n = lo->flush(lo->ctx, events, err)) != 0)
				return (int)n;
			buf = br_ssl_engine_recvrec_buf(eng, &len);
			if ((n = lo->recv(lo->ctx, buf, len, events, err)) <= 0)
				return (int)n;
			for (i = 0;
			     t->first_len < sizeof t->first && i < (size_t)n;
			     i++)
				t->first[t->first_len++] = buf[i];
			br_ssl_engine_recvrec_ack(eng, (size_t)n);
			continue;
		}
		/* Half duplex: application data waits to be flushed. */
		br_ssl_engine_flush(eng, 0);
	}
}

/* The connection ended cleanly where it should not have. */
static int
closed_early(const struct tls_conn *t, const char *when, struct err *err)
{
	if (!t->handshake_done)
		return err_set(err, ERR_TLS,
		    "TLS with %s (%s) failed: the "
		    "server closed the connection during the handshake (is "
		    "the port a TLS server?)",
		    t->host, t->peer);
	return err_set(err, ERR_TLS,
	    "the server %s closed the TLS connection %s", t->peer, when);
}

/*
 * The record ciphers. On x86-64 only the code that runs: AES-GCM through
 * AES-NI and PCLMUL, ChaCha20 through SSE2 (part of x86-64) and Poly1305
 * through 64-bit multiplies; BearSSL's portable AES and GHASH (about
 * 7 KB) are not linked. A CPU without AES-NI or PCLMUL (old hardware, a
 * QEMU CPU model without them) is offered the ChaCha20 suites alone.
 * Elsewhere (arm64) BearSSL's defaults: its portable constant-time code.
 */
static void
ciphers(br_ssl_engine_context *eng)
{
#if defined(__x86_64__)
	static const uint16_t chapol_suites[] = {
		BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	};
	const br_block_ctr_class *aes = br_aes_x86ni_ctr_get_vtable();
	br_ghash gh = br_ghash_pclmul_get();

	if (aes != NULL && gh != NULL) {
		br_ssl_engine_set_gcm(eng, &br_sslrec_in_gcm_vtable,
		    &br_sslrec_out_gcm_vtable);
		br_ssl_engine_set_aes_ctr(eng, aes);
		br_ssl_engine_set_ghash(eng, gh);
	} else {
		br_ssl_engine_set_suites(eng, chapol_suites,
		    sizeof chapol_suites / sizeof chapol_suites[0]);
	}
	br_ssl_engine_set_chapol(eng, &br_sslrec_in_chapol_vtable,
	    &br_sslrec_out_chapol_vtable);
	br_ssl_engine_set_chacha20(eng, &br_chacha20_sse2_run);
	br_ssl_engine_set_poly1305(eng, &br_poly1305_ctmulq_run);
#else
	br_ssl_engine_set_default_aes_gcm(eng);
	br_ssl_engine_set_default_chapol(eng);
#endif
}

static void
profile(struct tls_conn *t, const struct trust *trust,
    const struct x509_name *name, int64_t now)
{
	br_ssl_engine_context *eng = &t->sc.eng;
	static const struct {
		int id;
		const br_hash_class *impl;
	} hashes[] = {
		{ br_sha256_ID, &br_sha256_vtable },
		{ br_sha384_ID, &br_sha384_vtable },
		{ br_sha512_ID, &br_sha512_vtable },
	};
	const br_rsa_pkcs1_vrfy rsa = br_rsa_pkcs1_vrfy_get_default();
	size_t i;

	br_ssl_client_zero(&t->sc);
	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	/* One request, one response: renegotiation has no use here. */
	br_ssl_engine_add_flags(eng, BR_OPT_NO_RENEGOTIATION);
	br_ssl_engine_set_suites(eng, suites, sizeof suites / sizeof suites[0]);
	for (i = 0; i < sizeof hashes / sizeof hashes[0]; i++)
		br_ssl_engine_set_hash(eng, hashes[i].id, hashes[i].impl);
	x509_ctx_init(&t->x509, &trust->store, name, now);
	br_ssl_engine_set_x509(eng, &t->x509.vtable);
	br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
	br_ssl_engine_set_ec(eng, &br_ec_all_m31);
	br_ssl_engine_set_rsavrfy(eng, rsa);
	br_ssl_engine_set_ecdsa(eng, &br_ecdsa_i31_vrfy_asn1);
	ciphers(eng);
	br_ssl_engine_set_buffer(eng, t->iobuf, sizeof t->iobuf, 0);
}

/* The server name BearSSL sends as SNI: none for an IP (RFC 6066, 3). */
static const char *
sni(const struct x509_name *name)
{
	return name->ip_len > 0 ? NULL : name->dns;
}

/* ---- the client certificate class: tls_asked over BearSSL's ---- */

static struct tls_asked *
asked_of(const br_ssl_client_certificate_class **vt)
{
	return (struct tls_asked *)(void *)vt;
}

static void
start_name_list(const br_ssl_client_certificate_class **vt)
{
	struct tls_asked *a = asked_of(vt);

	a->asked = 1;
	if (a->inner != NULL)
		(*a->inner)->start_name_list(a->inner);
}

static void
start_name(const br_ssl_client_certificate_class **vt, size_t len)
{
	const struct tls_asked *a = asked_of(vt);

	if (a->inner != NULL)
		(*a->inner)->start_name(a->inner, len);
}

static void
append_name(const br_ssl_client_certificate_class **vt,
    const unsigned char *data, size_t len)
{
	const struct tls_asked *a = asked_of(vt);

	if (a->inner != NULL)
		(*a->inner)->append_name(a->inner, data, len);
}

static void
end_name(const br_ssl_client_certificate_class **vt)
{
	const struct tls_asked *a = asked_of(vt);

	if (a->inner != NULL)
		(*a->inner)->end_name(a->inner);
}

static void
end_name_list(const br_ssl_client_certificate_class **vt)
{
	const struct tls_asked *a = asked_of(vt);

	if (a->inner != NULL)
		(*a->inner)->end_name_list(a->inner);
}

/* Nothing to send is an empty Certificate message, as without a class. */
static void
choose(const br_ssl_client_certificate_class **vt,
    const br_ssl_client_context *cc, uint32_t auth_types,
    br_ssl_client_certificate *choices)
{
	const struct tls_asked *a = asked_of(vt);

	if (a->inner != NULL)
		(*a->inner)->choose(a->inner, cc, auth_types, choices);
	else
		memset(choices, 0, sizeof *choices);
}

static uint32_t
do_keyx(const br_ssl_client_certificate_class **vt, unsigned char *data,
    size_t *len)
{
	const struct tls_asked *a = asked_of(vt);

	return a->inner != NULL ? (*a->inner)->do_keyx(a->inner, data, len) : 0;
}

static size_t
do_sign(const br_ssl_client_certificate_class **vt, int hash_id, size_t hv_len,
    unsigned char *data, size_t len)
{
	const struct tls_asked *a = asked_of(vt);

	return a->inner != NULL ?
	    (*a->inner)->do_sign(a->inner, hash_id, hv_len, data, len) :
	    0;
}

static const br_ssl_client_certificate_class asked_class = {
	sizeof(struct tls_asked),
	start_name_list,
	start_name,
	append_name,
	end_name,
	end_name_list,
	choose,
	do_keyx,
	do_sign,
};

/* Offer the client's certificate (if any), signing with its key, and
 * learn whether the server asks for it. */
static void
client_auth(struct tls_conn *t, const struct tls_client *c)
{
	t->cert.vtable = &asked_class;
	t->cert.inner = NULL;
	t->cert.asked = 0;
	if (c != NULL && c->key.type == BR_KEYTYPE_EC)
		br_ssl_client_set_single_ec(&t->sc, c->chain.cert,
		    c->chain.count, &c->key.ec, BR_KEYTYPE_SIGN, 0,
		    br_ec_get_default(), br_ecdsa_sign_asn1_get_default());
	else if (c != NULL)
		br_ssl_client_set_single_rsa(&t->sc, c->chain.cert,
		    c->chain.count, &c->key.rsa,
		    br_rsa_pkcs1_sign_get_default());
	if (c != NULL)
		t->cert.inner = t->sc.client_auth_vtable;
	br_ssl_client_set_client_certificate(&t->sc, &t->cert.vtable);
}

int
tls_start(struct tls_conn *t, struct stream *lower, const char *host,
    const char *peer, const struct trust *trust,
    const struct tls_client *client, struct err *err)
{
	unsigned char seed[32];
	struct x509_name name;
	struct timespec now;

	t->lower = lower;
	t->host = host;
	t->peer = peer;
	t->first_len = 0;
	t->handshake_done = 0;
	if (x509_name_set(&name, host) == -1)
		return err_set(err, ERR_TLS,
		    "TLS with %s: the host is not a "
		    "DNS name or IP address a certificate can name",
		    host);
	if (clock_gettime(CLOCK_REALTIME, &now) == -1)
		return err_set(err, ERR_SYSTEM, "clock_gettime: %s",
		    strerror(errno));
	profile(t, trust, &name, (int64_t)now.tv_sec);
	client_auth(t, client);
	/*
	 * getrandom() rather than BearSSL's own seeder: a FROM scratch
	 * container may have no /dev/urandom.
	 */
	if (getrandom(seed, sizeof seed, 0) != (ssize_t)sizeof seed)
		return err_set(err, ERR_SYSTEM, "getrandom: %s",
		    strerror(errno));
	br_ssl_engine_inject_entropy(&t->sc.eng, seed, sizeof seed);
	explicit_bzero(seed, sizeof seed);
	if (!br_ssl_client_reset(&t->sc, sni(&name), 0))
		return engine_error(t, err);
	return 0;
}

void
tls_clear(struct tls_conn *t)
{
	x509_ctx_clear(&t->x509);
	wipe(&t->sc, sizeof t->sc);
	wipe(t->iobuf, sizeof t->iobuf);
}

int
tls_handshake(struct tls_conn *t, short *events, struct err *err)
{
	int r = pump(t, BR_SSL_SENDAPP, events, err);

	if (r == 0)
		return closed_early(t, "", err);
	return r == 1 ? 0 : r;
}

static ssize_t
tls_send(void *ctx, const void *buf, size_t len, short *events, struct err *err)
{
	struct tls_conn *t = ctx;
	br_ssl_engine_context *eng = &t->sc.eng;
	unsigned char *out;
	size_t room;
	int r;

	if ((r = pump(t, BR_SSL_SENDAPP, events, err)) != 1)
		return r == 0 ?
		    closed_early(t, "before the request was sent", err) :
		    r;
	out = br_ssl_engine_sendapp_buf(eng, &room);
	if (room > len)
		room = len;
	memcpy(out, buf, room);
	br_ssl_engine_sendapp_ack(eng, room);
	return (ssize_t)room;
}

static int
tls_flush(void *ctx, short *events, struct err *err)
{
	struct tls_conn *t = ctx;
	br_ssl_engine_context *eng = &t->sc.eng;
	struct stream *lo = t->lower;
	unsigned char *buf;
	size_t len;
	ssize_t n;

	br_ssl_engine_flush(eng, 0);
	while (br_ssl_engine_current_state(eng) & BR_SSL_SENDREC) {
		buf = br_ssl_engine_sendrec_buf(eng, &len);
		if ((n = lo->send(lo->ctx, buf, len, events, err)) < 0)
			return (int)n;
		br_ssl_engine_sendrec_ack(eng, (size_t)n);
	}
	if (br_ssl_engine_current_state(eng) & BR_SSL_CLOSED &&
	    br_ssl_engine_last_error(eng) != BR_ERR_OK)
		return engine_error(t, err);
	return lo->flush(lo->ctx, events, err);
}

/*
 * EOF without close_notify is reported as a plain end of stream: many
 * servers close that way, and HTTP framing tells a complete response from
 * a truncated one.
 */
static ssize_t
tls_recv(void *ctx, void *buf, size_t cap, short *events, struct err *err)
{
	struct tls_conn *t = ctx;
	br_ssl_engine_context *eng = &t->sc.eng;
	unsigned char *in;
	size_t avail;
	int r;

	if ((r = pump(t, BR_SSL_RECVAPP, events, err)) != 1)
		return r == 0 && !t->handshake_done ? closed_early(t, "", err) :
		                                      r;
	in = br_ssl_engine_recvapp_buf(eng, &avail);
	if (avail > cap)
		avail = cap;
	memcpy(buf, in, avail);
	br_ssl_engine_recvapp_ack(eng, avail);
	return (ssize_t)avail;
}

void
tls_stream(struct tls_conn *t, struct stream *s)
{
	s->send = tls_send;
	s->flush = tls_flush;
	s->recv = tls_recv;
	s->ctx = t;
}
