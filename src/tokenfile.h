/*
 * tokenfile.h: the ServiceAccount token in, the access token out.
 *
 * The output is replaced atomically: a new file in the same directory,
 * written in full, given its mode, fsync'd, renamed over the old name, and
 * the directory fsync'd. A reader sees the old token or the new one, never
 * an empty or partial file; on any failure the old file is untouched and no
 * temporary file is left (only SIGKILL between creating and renaming can
 * leave one, and tokenfile_sweep() removes it at the next start).
 */
#ifndef TB_TOKENFILE_H
#define TB_TOKENFILE_H

#include <stddef.h>

#include "err.h"

/*
 * Read the subject token at `path` into buf (NUL-terminated), dropping
 * trailing whitespace and newlines. Empty, over cap - 1 bytes, or holding
 * a NUL or control character is an error. Returns 0 and the length in
 * *len, or -1 with err set (ERR_FILE).
 */
int tokenfile_read_subject(const char *path, char *buf, size_t cap, size_t *len,
    struct err *err);

/*
 * Replace the file at `path` with data[0..len) and permission bits `mode`.
 * Returns 0 once the rename is done (a failed directory sync after it
 * cannot be undone and is not reported), or -1 with err set (ERR_FILE).
 */
int tokenfile_write(const char *path, const char *data, size_t len,
    unsigned mode, struct err *err);

/*
 * Remove temporary files an earlier process left next to `path` when it
 * was killed between creating and renaming one (SIGKILL cannot be held
 * off): they may hold a token. Only this program's own names, and only
 * those a minute old or more (another sidecar may be writing the same file
 * right now), are touched. Returns the number removed.
 */
int tokenfile_sweep(const char *path);

/*
 * The path of the file that records the token's expiry next to it:
 * "DIR/.NAME.expiry" (a dot file, so that readers globbing the directory
 * skip it). Returns 0, or -1 when it does not fit in cap.
 */
int tokenfile_expiry_path(const char *path, char *out, size_t cap);

/*
 * Read a whole small file into buf (NUL-terminated). Returns the length,
 * or -1 with errno set; a file of cap - 1 bytes or more is refused with
 * EFBIG.
 */
long tokenfile_read_small(const char *path, char *buf, size_t cap);

#endif
