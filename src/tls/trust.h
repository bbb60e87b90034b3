/*
 * trust.h: the CA bundle as trust anchors.
 *
 * The bundle is a PEM file (CRLF or LF line ends, text between blocks and
 * non-certificate blocks allowed and skipped) or DER certificates back to
 * back. Base64 and DER are read here rather than by BearSSL's PEM engine
 * and br_x509_decoder, which cost about half a million instructions per
 * certificate; chain validation is BearSSL's.
 *
 * Every certificate is parsed and judged at the load, but the store
 * keeps of an anchor only what finds and proves it (x509.h's struct
 * x509_anchor_ref: checksums of its name and certificate, and where it
 * lies in the bundle); a chain's verification reads the few anchors it names
 * again, by pread() on the descriptor opened for the load, and keeps the
 * first few it read in the store (x509.h's struct x509_anchor_cache):
 * the next handshakes use them without a read, and a bundle broken in
 * place later (a failed reload keeps the old store) does not affect
 * them. The records live in one private mapping owned by struct trust,
 * built in place, so a reload swaps one pointer and unmaps one block,
 * and its pages leave the process. The bundle is not mapped: a file
 * truncated in place would make reading the mapping a SIGBUS.
 */
#ifndef TB_TRUST_H
#define TB_TRUST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "x509.h"

/* A bundle larger than this is refused: Debian's whole store is ~220 KB. */
#define TRUST_BUNDLE_MAX 4194304u /* 4 MiB */
/* The bundle is read through a window this large; no certificate is. */
#define TRUST_WINDOW 65536u /* 64 KiB */
/* The window's first size: every certificate of the Debian bundle fits. */
#define TRUST_WINDOW_MIN 8192u

/* Skipped certificates named in notes, for the start-up log. */
#define TRUST_NOTES 8

struct trust_note {
	char subject[96]; /* printable */
	const char *why;  /* static */
};

struct trust {
	/* The anchor records and the distrusted key ids, inside `block`;
	 * the bundle's descriptor, kept open (store.fd, -1 from memory). */
	struct x509_store store;
	size_t skipped; /* certificates not made anchors */
	struct trust_note notes[TRUST_NOTES]; /* the first of them, named */
	size_t nnotes;
	void *block;      /* one mapping; NULL when empty */
	size_t block_len; /* its length, for munmap() */
	/* identity of the file last loaded, to notice ConfigMap swaps */
	dev_t dev;
	ino_t ino;
	off_t size;
	int64_t mtime_ns;
};

/*
 * Load the bundle at `path` into `t`. On success any anchors `t` held are
 * freed (their descriptor closed) and replaced, and the file stays open
 * for reading anchors (regular_open(): a path that is not a regular
 * file, a FIFO say, is refused before it is opened, so the event loop
 * never blocks in open()): a ConfigMap's symlink swap
 * leaves `t` reading the file it loaded until trust_changed() says to
 * load again. On failure `t` is left as it was. A bundle without a single
 * usable certificate is an error. Returns 0 or -1 with err set (kind
 * ERR_TRUST).
 */
int trust_load_file(struct trust *t, const char *path, struct err *err);

/*
 * The same from memory; `name` names the source in messages. The file
 * identity fields are zeroed. The anchors are read again from
 * data[0..len) in place, so those bytes must stay, unchanged, until
 * trust_free() or the next successful load of `t`.
 */
int trust_load_mem(struct trust *t, const unsigned char *data, size_t len,
    const char *name, struct err *err);

/*
 * Returns 1 when the file at `path` is not the one loaded into `t` (a
 * ConfigMap update swaps a symlink, giving a new inode and mtime; a
 * rewrite in place gives a new mtime or size), or when reading an anchor
 * found the loaded file's bytes changed, else 0. A file that cannot be
 * read is reported as changed, so the reload names the problem.
 */
int trust_changed(const struct trust *t, const char *path);

/*
 * Returns 1 when the file `t` reads its anchors from no longer holds the
 * bytes loaded (rewritten in place, or a read found other bytes): the
 * anchors in its cache still verify, the others can no longer be read
 * until a good bundle is loaded. Else, and for a store from memory, 0.
 */
int trust_stale(const struct trust *t);

/* Free the anchors and close the bundle; `t` is then empty and may be
 * loaded again. */
void trust_free(struct trust *t);

#endif
