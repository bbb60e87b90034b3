/*
 * tls.h: a BearSSL TLS 1.2 client over a connected socket.
 *
 * The profile is what modern token endpoints need and nothing more: ECDHE
 * key exchange (X25519, P-256, P-384) with ECDSA or RSA certificates,
 * AES-GCM and ChaCha20-Poly1305, SHA-256/384/512 signatures. SHA-1 signed
 * certificates and RSA keys under 2048 bits are refused, and so is a chain
 * with a certificate whose extended key usage leaves out server
 * authentication, or with name constraints.
 * The server name is sent as SNI and checked against the certificate.
 */
#ifndef TB_TLS_H
#define TB_TLS_H

#include <bearssl.h>

#include "err.h"
#include "net.h"
#include "stream.h"
#include "trust.h"

/* Each certificate of the chain is kept for the checks BearSSL leaves
 * out; a larger one is refused. */
#define TLS_CERT_MAX 16384

/*
 * The X.509 engine BearSSL calls: br_x509_minimal for the chain, plus what
 * the minimal engine skips unless the extension is marked critical: every
 * certificate's extended key usage must allow server authentication, and
 * name constraints (which cannot be enforced here) refuse the chain.
 */
struct tls_x509 {
	const br_x509_class *vtable;
	br_x509_minimal_context minimal;
	unsigned char cert[TLS_CERT_MAX];
	size_t cert_len;
	unsigned status;    /* BR_ERR_OK, or the first check that failed */
};

struct tls_conn {
	br_ssl_client_context sc;
	struct tls_x509 x509;
	struct net_conn *net;
	const char *host;
	/* The first bytes the server sent, to tell "not TLS" apart. */
	unsigned char first[2];
	size_t first_len;
	/* Half duplex is enough for one request then one response. */
	unsigned char iobuf[BR_SSL_BUFSIZE_MONO];
};

/*
 * Run the handshake with `host` over `net` (already connected), checking
 * the chain against `trust`. Returns 0, or -1 with err set (ERR_TLS with a
 * sentence saying which check failed, ERR_TIMEOUT, ERR_INTERRUPTED).
 */
int tls_open(struct tls_conn *t, struct net_conn *net, const char *host,
    const struct trust *trust, struct err *err);

/* A stream over the TLS connection. */
void tls_stream(struct tls_conn *t, struct stream *s);

/*
 * Describe a BearSSL error code in words, with the fix where there is one.
 * Returns a static string.
 */
const char *tls_strerror(int code);

#endif
