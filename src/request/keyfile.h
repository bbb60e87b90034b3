/*
 * keyfile.h: a PEM private key and a PEM certificate chain, for client
 * authentication (private_key_jwt's signing key, the mTLS pair).
 *
 * The key is EC on P-256 or P-384, or RSA of 2048 to 4096 bits, in a
 * PKCS#8 "PRIVATE KEY" block or a traditional "EC PRIVATE KEY" or "RSA
 * PRIVATE KEY" block; other blocks (an "EC PARAMETERS" block that
 * `openssl ecparam -genkey` writes first, a certificate kept beside the
 * key) are skipped. CRLF line ends are read as LF. Encrypted keys are
 * refused: the sidecar has nowhere safer than the file to keep a
 * passphrase.
 *
 * Both structs are caller-owned and hold their bytes: nothing points into
 * the file's text, nothing is allocated. A failed read leaves the struct
 * as it was, so that a bad rotated file keeps the old pair in service.
 */
#ifndef TB_KEYFILE_H
#define TB_KEYFILE_H

#include <stddef.h>

#include <bearssl.h>

#include "err.h"

/* A key file larger than this is refused: an RSA-4096 PEM is 3.3 KB. */
#define KEYFILE_PEM_MAX 65536u
/* What BearSSL's key decoder holds for an RSA-4096 key, and so ours. */
#define KEYFILE_KEY_BUF (3 * BR_X509_BUFSIZE_SIG)
/* Certificates in one client chain, and their DER bytes. */
#define KEYFILE_CHAIN_CERTS 8
#define KEYFILE_CHAIN_BYTES 32768u

struct keyfile_key {
	int type; /* BR_KEYTYPE_RSA or BR_KEYTYPE_EC; 0 while empty */
	br_rsa_private_key rsa; /* valid when type is BR_KEYTYPE_RSA */
	br_ec_private_key ec;   /* valid when type is BR_KEYTYPE_EC */
	unsigned char buf[KEYFILE_KEY_BUF]; /* the key's integers */
};

struct keyfile_chain {
	br_x509_certificate cert[KEYFILE_CHAIN_CERTS]; /* leaf first */
	size_t count;
	size_t used; /* bytes of buf holding certificates */
	unsigned char buf[KEYFILE_CHAIN_BYTES];
};

/*
 * Read the private key in the file at `path`; `var` names the variable
 * that gave the path, for messages ("TLS_CLIENT_KEY_PATH /x: not a PEM
 * private key"). On success the key `k` held is wiped and replaced;
 * on failure `k` is unchanged. Every copy of the key's bytes made on the
 * way is wiped. Returns 0, or -1 with err set (kind ERR_FILE for what
 * cannot be read, ERR_CONFIG for what is read but not usable).
 */
int keyfile_key_read(struct keyfile_key *k, const char *var, const char *path,
    struct err *err);

/*
 * The same from pem[0..len); `what` names the source in messages.
 */
int keyfile_key_parse(struct keyfile_key *k, const char *pem, size_t len,
    const char *what, struct err *err);

/* Wipe the key's bytes (explicit_bzero); `k` is then empty. */
void keyfile_key_wipe(struct keyfile_key *k);

/*
 * Read the certificates ("CERTIFICATE" blocks, leaf first, as TLS sends
 * them) in the file at `path`; other blocks are skipped. Each must parse
 * as an X.509 certificate. On failure `c` is unchanged. Returns 0, or -1
 * with err set (ERR_FILE or ERR_CONFIG).
 */
int keyfile_chain_read(struct keyfile_chain *c, const char *var,
    const char *path, struct err *err);

/* The same from pem[0..len); `what` names the source in messages. */
int keyfile_chain_parse(struct keyfile_chain *c, const char *pem, size_t len,
    const char *what, struct err *err);

/*
 * Does the chain's leaf certify the key? A certificate and key from two
 * different rotations would fail every handshake with an error the server
 * names vaguely; say it at load time instead. Returns 0, or -1 with err
 * set (ERR_CONFIG) naming `what`.
 */
int keyfile_pair_check(const struct keyfile_chain *c,
    const struct keyfile_key *k, const char *what, struct err *err);

#endif
