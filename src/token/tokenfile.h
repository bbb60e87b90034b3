/*
 * tokenfile.h: the ServiceAccount token in, the access token out.
 *
 * The output is replaced atomically: a new file in the same directory,
 * written in full, given its mode, fsync'd, renamed over the old name, and
 * the directory fsync'd. A reader sees the old token or the new one, never
 * an empty or partial file; on any failure the old file is untouched and no
 * temporary file is left (only SIGKILL between creating and renaming can
 * leave one, and tokenfile_sweep() removes it at the next start). Every
 * write goes through the directory opened at start (struct tokendir).
 */
#ifndef TB_TOKENFILE_H
#define TB_TOKENFILE_H

#include <stddef.h>

#include "err.h"

/*
 * Read a token or secret file (`what` names it in messages: "the
 * ServiceAccount token", "the client secret (CLIENT_SECRET_PATH)") into
 * buf (NUL-terminated), dropping trailing whitespace and newlines. Not a
 * regular file (a FIFO would block), empty, over cap - 1 bytes, or holding
 * a NUL or control character is an error. Returns 0 and the length in
 * *len, or -1 with err set (ERR_FILE); what was read of a refused file is
 * wiped.
 */
int tokenfile_read_secret(const char *what, const char *path, char *buf,
    size_t cap, size_t *len, struct err *err);

/*
 * The directory of the token file, opened once at start and used for
 * every later create, rename, unlink and sweep: a container that can write
 * to the volume may replace the directory's name by a symlink, and the
 * token must not follow it.
 */
struct tokendir {
	int fd;                 /* the directory, O_RDONLY | O_DIRECTORY */
	const char *path;       /* the token file's path as configured */
	const char *name;       /* its last component, inside path */
	size_t prefix_len;      /* bytes of path before name */
	char dir[4096];         /* the directory as given ("." for none) */
	unsigned long long dev; /* the directory's identity when opened */
	unsigned long long ino;
};

/*
 * Open the directory of the token file `path` (which must outlive td):
 * the last component of the directory is not followed if it is a symlink.
 * Refuses (ERR_CONFIG) a directory path that is a symlink, and a token
 * file that is a mount point of its own (a Kubernetes subPath or any bind
 * mount of the file), which an atomic rename can never update; ERR_FILE
 * when the directory cannot be opened. Returns 0 or -1 with err set.
 */
int tokendir_open(struct tokendir *td, const char *path, struct err *err);

/* Close the directory; td->fd is -1 afterwards. */
void tokendir_close(struct tokendir *td);

/*
 * Does the directory path still name the directory opened at start?
 * Returns 0 when it does, 1 when the path now names something else (or
 * nothing) while the opened directory still exists (writes go on into
 * it), or -1 with err set (ERR_FILE) when the opened directory has been
 * removed.
 */
int tokendir_recheck(const struct tokendir *td, struct err *err);

/*
 * Replace the file `name` in td's directory with data[0..len) and
 * permission bits `mode`. Refused when the directory has been removed
 * since it was opened. Returns 0 once the rename is done (a failed
 * directory sync after it cannot be undone and is not reported), or -1
 * with err set (ERR_FILE) naming the file's path.
 */
int tokenfile_write(const struct tokendir *td, const char *name,
    const char *data, size_t len, unsigned mode, struct err *err);

/*
 * Remove `name` from td's directory. Returns 0 (also when it did not
 * exist), or -1 with errno set.
 */
int tokenfile_remove(const struct tokendir *td, const char *name);

/*
 * Remove temporary files an earlier process left in td's directory when it
 * was killed between creating and renaming one (SIGKILL cannot be held
 * off): they may hold a token. Only this program's own names for the token
 * file and its expiry record, and only those a minute old or more (another
 * sidecar may be writing the same file right now), are touched. Returns
 * the number removed.
 */
int tokenfile_sweep(const struct tokendir *td);

/*
 * The name of the next directory entry in buf[0..len), records as
 * getdents64 writes them, from *off on; moves *off past it. NULL at the
 * end, or at a record that does not fit in len or holds no NUL-terminated
 * name (*off is then len): the names are bytes another container on a
 * shared volume chooses, the records are checked all the same.
 */
const char *tokenfile_dirent_next(const unsigned char *buf, size_t len,
    size_t *off);

/*
 * The temporary name tokenfile_write() uses for `name`, without its random
 * part: "." + name (cut to TOKENFILE_TEMP_NAME_MAX bytes, so that the whole
 * name fits in NAME_MAX) + ".tmp-". The one definition used both to create
 * temporary files and to recognise leftovers. Returns 0, or -1 when it
 * does not fit in cap.
 */
#define TOKENFILE_TEMP_NAME_MAX 200
int tokenfile_temp_prefix(const char *name, char *out, size_t cap);

/*
 * The name of the file that records the token's expiry next to it:
 * ".NAME.expiry". Returns 0, or -1 when it does not fit in cap.
 */
int tokenfile_expiry_name(const char *name, char *out, size_t cap);

/*
 * The path of the file that records the token's expiry next to it:
 * "DIR/.NAME.expiry" (a dot file, so that readers globbing the directory
 * skip it). Returns 0, or -1 when it does not fit in cap.
 */
int tokenfile_expiry_path(const char *path, char *out, size_t cap);

/*
 * Read a whole small file into buf (NUL-terminated). Returns the length,
 * or -1 with errno set; a file of cap - 1 bytes or more is refused with
 * EFBIG, anything but a regular file (a FIFO would block) with EINVAL.
 */
long tokenfile_read_small(const char *path, char *buf, size_t cap);

#endif
