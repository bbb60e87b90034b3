/*
 * x509check.c: one verdict of the chain validator, for the differential
 * test against OpenSSL (tests/x509/run_diff.py).
 *
 *	x509check BUNDLE.pem CHAIN.pem HOST UNIXTIME
 *
 * BUNDLE is loaded as the sidecar loads CA_BUNDLE_PATH; CHAIN holds PEM
 * certificates in the order a server sends them. The chain is judged
 * twice: by x509_verify() and through the br_x509_class BearSSL calls
 * during a handshake (the DER appended in small pieces); the two must
 * agree. Prints "accept" (exit 0) or "refuse CODE TEXT" (exit 1); a CA
 * bundle that does not load is a refusal with code -1. Usage and I/O
 * errors, and the two judgements disagreeing, exit 2.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "err.h"
#include "trust.h"
#include "x509.h"

/* More than X509_CHAIN_CERTS, so that the validator sees the excess. */
#define CERTS_MAX 64
#define CHAIN_FILE_MAX (1024 * 1024)
#define APPEND_CHUNK 100

static const char BEGIN[] = "-----BEGIN CERTIFICATE-----";
static const char END[] = "-----END CERTIFICATE-----";

/* The whole file, NUL-terminated, in a heap block of *out. */
static int
read_file(const char *path, unsigned char **out)
{
	FILE *f;
	unsigned char *buf;
	size_t n;

	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	if ((buf = malloc(CHAIN_FILE_MAX + 1)) == NULL) {
		fclose(f);
		return -1;
	}
	n = fread(buf, 1, CHAIN_FILE_MAX + 1, f);
	if (ferror(f) || n > CHAIN_FILE_MAX) {
		fclose(f);
		free(buf);
		errno = EFBIG;
		return -1;
	}
	if (fclose(f) == EOF) {
		free(buf);
		return -1;
	}
	buf[n] = '\0';
	*out = buf;
	return 0;
}

/*
 * Decode every CERTIFICATE block of the text in buf over itself. Returns
 * the number of certificates, or -1 on a block that does not decode.
 */
static long
read_pem(unsigned char *buf, struct der *certs, size_t max)
{
	char *p = (char *)buf, *q, *stop;
	size_t count = 0;
	long n;

	while ((q = strstr(p, BEGIN)) != NULL) {
		q += sizeof BEGIN - 1;
		if ((stop = strstr(q, END)) == NULL || count == max)
			return -1;
		n = base64_decode((unsigned char *)q, (unsigned char *)q,
		    (size_t)(stop - q), BASE64_STD);
		if (n <= 0)
			return -1;
		certs[count].p = (unsigned char *)q;
		certs[count].n = (size_t)n;
		count++;
		p = stop + sizeof END - 1;
	}
	return (long)count;
}

/* Print line on stdout; returns rc, or 2 when stdout fails. */
static int
say(const char *line, int rc)
{
	if (puts(line) == EOF || fflush(stdout) == EOF)
		return 2;
	return rc;
}

/* The same chain through the vtable; returns end_chain()'s result. */
static unsigned
handshake(struct x509_ctx *x, const struct der *certs, size_t count,
    const char *host)
{
	const br_x509_class **vt = &x->vtable;
	size_t i, off, n;

	x509_class.start_chain(vt, host);
	for (i = 0; i < count; i++) {
		x509_class.start_cert(vt, (uint32_t)certs[i].n);
		for (off = 0; off < certs[i].n; off += n) {
			n = certs[i].n - off;
			if (n > APPEND_CHUNK)
				n = APPEND_CHUNK;
			x509_class.append(vt, certs[i].p + off, n);
		}
		x509_class.end_cert(vt);
	}
	return x509_class.end_chain(vt);
}

int
main(int argc, char **argv)
{
	static struct x509_ctx ctx;
	struct trust trust;
	struct err err;
	struct x509_name name;
	struct x509_leaf leaf;
	struct x509_fail fail;
	struct der certs[CERTS_MAX];
	enum x509_code code;
	unsigned char *pem;
	unsigned br;
	long count;
	char *end;
	int64_t now;

	if (argc != 5) {
		fprintf(stderr,
		    "usage: x509check BUNDLE.pem CHAIN.pem HOST "
		    "UNIXTIME\n");
		return 2;
	}
	errno = 0;
	now = strtoll(argv[4], &end, 10);
	if (errno != 0 || end == argv[4] || *end != '\0') {
		fprintf(stderr, "x509check: bad time %s\n", argv[4]);
		return 2;
	}
	if (x509_name_set(&name, argv[3]) == -1)
		return say("refuse -2 host: x509_name_set() refuses it", 1);
	if (read_file(argv[2], &pem) == -1) {
		fprintf(stderr, "x509check: %s: %s\n", argv[2],
		    strerror(errno));
		return 2;
	}
	if ((count = read_pem(pem, certs, CERTS_MAX)) == -1) {
		fprintf(stderr, "x509check: %s: bad PEM\n", argv[2]);
		free(pem);
		return 2;
	}
	memset(&trust, 0, sizeof trust);
	if (trust_load_file(&trust, argv[1], &err) == -1) {
		free(pem);
		fprintf(stderr, "%s\n", err.msg);
		return say("refuse -1 bundle: trust_load_file() fails", 1);
	}
	memset(&fail, 0, sizeof fail);
	code = x509_verify(certs, (size_t)count, &trust.store, &name, now,
	    &leaf, &fail);
	x509_ctx_init(&ctx, &trust.store, &name, now);
	br = handshake(&ctx, certs, (size_t)count, argv[3]);
	if ((br == BR_ERR_OK) != (code == X509_OK) ||
	    (code != X509_OK &&
	        (ctx.fail.code != code || br != x509_br_error(code)))) {
		fprintf(stderr,
		    "x509check: x509_verify says %d, end_chain "
		    "%u (code %d)\n",
		    (int)code, br, (int)ctx.fail.code);
		x509_ctx_clear(&ctx);
		trust_free(&trust);
		free(pem);
		return 2;
	}
	x509_ctx_clear(&ctx);
	trust_free(&trust);
	free(pem);
	if (code == X509_OK) {
		fprintf(stderr, "usages=%u\n", leaf.usages);
		return say("accept", 0);
	}
	fprintf(stderr, "depth=%d subject=%s\n", fail.depth, fail.subject);
	if (printf("refuse %d ", (int)code) < 0)
		return 2;
	return say(x509_strerror(code), 1);
}
