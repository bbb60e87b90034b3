/*
 * tls.h: a BearSSL TLS 1.2 client over a non-blocking stream.
 *
 * The profile is what modern token endpoints need and nothing more: ECDHE
 * key exchange (X25519, P-256, P-384) with ECDSA or RSA certificates,
 * AES-GCM and ChaCha20-Poly1305, SHA-256/384/512 signatures. SHA-1 signed
 * certificates and RSA keys under 2048 bits are refused. The chain is
 * judged by x509.h, as Go's verifier judges it. A DNS name is sent as SNI
 * (without a trailing dot); an IP address is not (RFC 6066).
 *
 * The connection is itself a stream (tls_stream()) over a lower one (a
 * socket, a proxy's tunnel, or another TLS connection), and never waits:
 * the handshake runs as the first bytes are sent, and every operation
 * that needs the socket returns STREAM_AGAIN with the events it needs.
 */
#ifndef TB_TLS_H
#define TB_TLS_H

#include <bearssl.h>

#include "err.h"
#include "keyfile.h"
#include "net.h"
#include "stream.h"
#include "trust.h"
#include "x509.h"

/* A client certificate chain and its key, offered when a server asks. */
struct tls_client {
	struct keyfile_chain chain;
	struct keyfile_key key;
};

/*
 * Stands between BearSSL and the client certificate to learn whether the
 * server asked for one: an alert after its CertificateRequest is about
 * the certificate (sent or missing), not about cipher suites.
 */
struct tls_asked {
	const br_ssl_client_certificate_class *vtable;
	/* The certificate's own class; NULL when there is none to send. */
	const br_ssl_client_certificate_class **inner;
	int asked;
};

struct tls_conn {
	br_ssl_client_context sc;
	struct tls_asked cert;
	struct x509_ctx x509;
	struct stream *lower;
	const char *host;
	const char *peer; /* the address, for messages */
	int handshake_done;
	/* The first bytes the server sent, to tell "not TLS" apart. */
	unsigned char first[2];
	size_t first_len;
	/* Half duplex is enough for one request then one response. */
	unsigned char iobuf[BR_SSL_BUFSIZE_MONO];
};

/*
 * Set up a handshake with `host` over `lower`, checking the chain against
 * `trust`; the handshake itself runs as the stream is first used, and its
 * failures come back from the stream's operations (ERR_TLS with a
 * sentence saying which check failed). `client`, when not NULL, is the
 * certificate and key offered when the server asks for one (mTLS).
 * `host`, `peer` (the address, for messages), `lower`, `trust` and
 * `client` outlive the connection. Returns 0, or -1 with err set.
 */
int tls_start(struct tls_conn *t, struct stream *lower, const char *host,
    const char *peer, const struct trust *trust,
    const struct tls_client *client, struct err *err);

/*
 * Run the handshake as far as the lower stream allows: 0 once it is done,
 * STREAM_AGAIN with *events set, or -1 with err set (ERR_TLS with a
 * sentence saying which check failed). Optional: the stream's first send
 * runs it too, but then its failures read as failures to send.
 */
int tls_handshake(struct tls_conn *t, short *events, struct err *err);

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
