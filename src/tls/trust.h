/*
 * trust.h: the CA bundle as trust anchors.
 *
 * The bundle is a PEM file (CRLF or LF line ends, text between blocks and
 * non-certificate blocks allowed and skipped) or DER certificates back to
 * back. Base64 and DER are read here rather than by BearSSL's PEM engine
 * and br_x509_decoder, which cost about half a million instructions per
 * certificate; chain validation is BearSSL's.
 *
 * All anchors and their bytes live in one private mapping owned by
 * struct trust, built in place (no copy at the end), so a reload swaps
 * one pointer and unmaps one block, and its pages leave the process.
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
	/* The anchors and the distrusted key ids, inside `block`. */
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
 * freed and replaced; on failure `t` is left as it was. A bundle without a
 * single usable certificate is an error. Returns 0 or -1 with err set
 * (kind ERR_TRUST).
 */
int trust_load_file(struct trust *t, const char *path, struct err *err);

/*
 * The same from memory; `name` names the source in messages. The file
 * identity fields are zeroed.
 */
int trust_load_mem(struct trust *t, const unsigned char *data, size_t len,
    const char *name, struct err *err);

/*
 * Returns 1 when the file at `path` is not the one loaded into `t` (a
 * ConfigMap update swaps a symlink, giving a new inode and mtime), else 0.
 * A file that cannot be read is reported as changed, so the reload names
 * the problem.
 */
int trust_changed(const struct trust *t, const char *path);

/* Free the anchors; `t` is then empty and may be loaded again. */
void trust_free(struct trust *t);

#endif
