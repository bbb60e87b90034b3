/*
 * tls.h: a BearSSL TLS 1.2 client over a connected socket.
 *
 * The profile is what modern token endpoints need and nothing more: ECDHE
 * key exchange (X25519, P-256, P-384) with ECDSA or RSA certificates,
 * AES-GCM and ChaCha20-Poly1305, SHA-256/384/512 signatures. SHA-1 signed
 * certificates and RSA keys under 2048 bits are refused. The server name is
 * sent as SNI and checked against the certificate.
 */
#ifndef TB_TLS_H
#define TB_TLS_H

#include <bearssl.h>

#include "err.h"
#include "net.h"
#include "stream.h"
#include "trust.h"

struct tls_conn {
	br_ssl_client_context sc;
	br_x509_minimal_context xc;
	struct net_conn *net;
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
