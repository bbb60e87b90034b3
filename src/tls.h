/*
 * tls.h: a BearSSL TLS 1.2 client over a connected socket.
 *
 * The profile is what modern token endpoints need and nothing more: ECDHE
 * key exchange (X25519, P-256, P-384) with ECDSA or RSA certificates,
 * AES-GCM and ChaCha20-Poly1305, SHA-256/384/512 signatures. SHA-1 signed
 * certificates and RSA keys under 2048 bits are refused. The chain is
 * judged by x509.h, as Go's verifier judges it. A DNS name is sent as SNI
 * (without a trailing dot); an IP address is not (RFC 6066).
 */
#ifndef TB_TLS_H
#define TB_TLS_H

#include <bearssl.h>

#include "err.h"
#include "net.h"
#include "stream.h"
#include "trust.h"
#include "x509.h"

struct tls_conn {
	br_ssl_client_context sc;
	struct x509_ctx x509;
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

/*
 * Wipe the engine state, the last records and the buffered chain: the
 * connection is over and its context is reused by the next.
 */
void tls_clear(struct tls_conn *t);

/* A stream over the TLS connection. */
void tls_stream(struct tls_conn *t, struct stream *s);

/*
 * Describe a BearSSL error code in words, with the fix where there is one.
 * Returns a static string.
 */
const char *tls_strerror(int code);

#endif
