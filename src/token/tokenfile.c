/*
 * tokenfile.c: the ServiceAccount token in, the access token out.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h> /* renameat */
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fmt.h"
#include "regular.h"
#include "tokenfile.h"

static int
trailing_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	    c == '\f';
}

/* Trim trailing white space off buf[0..*n) and check what is left, which
 * must leave room for the NUL in cap. */
static int
secret_check(const char *what, const char *path, const char *buf, size_t cap,
    size_t *n, struct err *err)
{
	size_t i;

	while (*n > 0 && trailing_space(buf[*n - 1]))
		(*n)--;
	if (*n >= cap)
		return err_set(err, ERR_FILE, "%s %s is larger than %zu bytes",
		    what, path, cap - 1);
	if (*n == 0)
		return err_set(err, ERR_FILE,
		    "%s %s is empty: check the volume it is mounted from", what,
		    path);
	for (i = 0; i < *n; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			return err_set(err, ERR_FILE,
			    "%s %s holds a control character at byte %zu: it "
			    "is not a token or secret",
			    what, path, i);
	return 0;
}

int
tokenfile_read_secret(const char *what, const char *path, char *buf, size_t cap,
    size_t *len, struct err *err)
{
	size_t n = 0;
	ssize_t r;
	char extra;
	int fd, saved;

	/* Never wait on a FIFO put in the file's place: the event loop
	 * reads this (and the client secret, and the actor token). */
	if ((fd = regular_open(path)) == -1)
		return errno == EINVAL ?
		    err_set(err, ERR_FILE,
		        "%s %s is not a regular file: mount it as a file", what,
		        path) :
		    err_set(err, ERR_FILE, "reading %s %s: %s", what, path,
		        strerror(errno));
	/* Fill the buffer, then probe for one byte more: a longer file is
	 * refused, never silently cut. */
	for (;;) {
		r = n < cap ? read(fd, buf + n, cap - n) : read(fd, &extra, 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0 || n == cap)
			break;
		n += (size_t)r;
	}
	saved = errno;
	close(fd);
	if (r == -1)
		err_set(err, ERR_FILE, "reading %s %s: %s", what, path,
		    strerror(saved));
	else if (r > 0)
		err_set(err, ERR_FILE, "%s %s is larger than %zu bytes", what,
		    path, cap - 1);
	else if (secret_check(what, path, buf, cap, &n, err) == 0) {
		buf[n] = '\0';
		*len = n;
		return 0;
	}
	/* Whatever was read of a refused token is not kept. */
	explicit_bzero(buf, n < cap ? n : cap);
	return -1;
}

/* Split td->path into the directory (td->dir) and the final name. */
static int
split_path(struct tokendir *td, struct err *err)
{
	const char *slash = strrchr(td->path, '/');
	size_t n;

	td->name = slash == NULL ? td->path : slash + 1;
	td->prefix_len = (size_t)(td->name - td->path);
	if (*td->name == '\0')
		return err_set(err, ERR_CONFIG,
		    "the token path %.80s names a directory, not a file",
		    td->path);
	if (slash == NULL) {
		strcpy(td->dir, ".");
		return 0;
	}
	n = slash == td->path ? 1 : (size_t)(slash - td->path);
	if (n >= sizeof td->dir)
		return err_set(err, ERR_CONFIG,
		    "the token path %.80s... is too long", td->path);
	memcpy(td->dir, td->path, n);
	td->dir[n] = '\0';
	return 0;
}

/* The mount id of an open descriptor (from /proc/self/fdinfo), or -1 when
 * /proc cannot say. */
static long
mount_id(int fd)
{
	char path[64], text[512], *p;
	long n;

	(void)fmt_snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
	if ((n = tokenfile_read_small(path, text, sizeof text)) <= 0 ||
	    (p = memmem(text, (size_t)n, "\nmnt_id:", 8)) == NULL)
		return -1;
	for (p += 8; *p == ' ' || *p == '\t'; p++)
		;
	if (*p < '0' || *p > '9')
		return -1;
	for (n = 0; *p >= '0' && *p <= '9'; p++) {
		if (n > (LONG_MAX - 9) / 10)
			return -1;
		n = n * 10 + (*p - '0');
	}
	return n;
}

/*
 * Is the token file a mount point of its own? A subPath mount (or any
 * bind mount of the file) pins the file's first inode: the rename that
 * replaces the token reaches the directory, never the mount. A mount
 * from another device shows in st_dev; a bind mount from the same device
 * only in the mount id.
 */
static int
refuse_mount_point(const struct tokendir *td, const struct stat *dir,
    struct err *err)
{
	struct stat st;
	long dir_mnt, file_mnt;
	int fd;

	if (fstatat(td->fd, td->name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return 0; /* not there yet: nothing is mounted on it */
	if (st.st_dev == dir->st_dev) {
		fd = openat(td->fd, td->name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd == -1)
			return 0;
		dir_mnt = mount_id(td->fd);
		file_mnt = mount_id(fd);
		close(fd);
		if (dir_mnt == -1 || file_mnt == -1 || dir_mnt == file_mnt)
			return 0;
	}
	return err_set(err, ERR_CONFIG,
	    "the token file %s is a mount point "
	    "of its own (a Kubernetes subPath mount or a bind mount of the "
	    "file): a refreshed token is never seen through it; mount the "
	    "whole directory and point OUTPUT_TOKEN_PATH at the file in it",
	    td->path);
}

int
tokendir_open(struct tokendir *td, const char *path, struct err *err)
{
	struct stat st;
	int saved;

	td->fd = -1;
	td->path = path;
	if (split_path(td, err) == -1)
		return -1;
	/* O_NOFOLLOW: the last component of the directory must be the
	 * directory itself, not a link that someone can repoint later. */
	td->fd = open(td->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (td->fd == -1) {
		saved = errno;
		if (saved == ELOOP ||
		    (saved == ENOTDIR && lstat(td->dir, &st) == 0 &&
		        S_ISLNK(st.st_mode)))
			return err_set(err, ERR_CONFIG,
			    "the token directory %s "
			    "is a symlink: give the path of the directory "
			    "itself",
			    td->dir);
		return err_set(err, ERR_FILE,
		    "opening the token directory %s: %s", td->dir,
		    strerror(saved));
	}
	if (fstat(td->fd, &st) == -1) {
		saved = errno;
		tokendir_close(td);
		return err_set(err, ERR_FILE,
		    "reading the token directory %s: %s", td->dir,
		    strerror(saved));
	}
	td->dev = st.st_dev;
	td->ino = st.st_ino;
	if (refuse_mount_point(td, &st, err) == -1) {
		tokendir_close(td);
		return -1;
	}
	return 0;
}

void
tokendir_close(struct tokendir *td)
{
	if (td->fd != -1)
		close(td->fd);
	td->fd = -1;
}

/* The directory opened at start has been removed: nothing written into
 * it could ever be read. */
static int
refuse_removed(const struct tokendir *td, struct err *err)
{
	struct stat st;

	if (fstat(td->fd, &st) == -1)
		return err_set(err, ERR_FILE,
		    "reading the token directory %s: %s", td->dir,
		    strerror(errno));
	if (st.st_nlink == 0)
		return err_set(err, ERR_FILE,
		    "the token directory %s opened "
		    "at start has been removed: not writing the token "
		    "anywhere else; restart the sidecar",
		    td->dir);
	return 0;
}

int
tokendir_recheck(const struct tokendir *td, struct err *err)
{
	struct stat st;

	if (refuse_removed(td, err) == -1)
		return -1;
	if (lstat(td->dir, &st) == 0 && S_ISDIR(st.st_mode) &&
	    (unsigned long long)st.st_dev == td->dev &&
	    (unsigned long long)st.st_ino == td->ino)
		return 0;
	return 1;
}

static int
write_all(int fd, const char *data, size_t len)
{
	ssize_t w;

	while (len > 0) {
		if ((w = write(fd, data, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

#define TEMP_SUFFIX ".tmp-"
#define TEMP_RANDOM_HEX 12
/*
 * A write holds its temporary file for milliseconds: one this old was left
 * by a killed process, never by another sidecar writing the same file now.
 */
#define TEMP_STALE_S 60

int
tokenfile_temp_prefix(const char *name, char *out, size_t cap)
{
	int n = fmt_snprintf(out, cap, ".%.*s" TEMP_SUFFIX,
	    TOKENFILE_TEMP_NAME_MAX, name);

	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/*
 * Create a new, exclusive temporary file next to the target: a dot name so
 * that globbing readers skip it, a random suffix so that two writers never
 * share one.
 */
static int
create_temp(int dirfd, const char *name, char *tmp, size_t tmpsz, unsigned mode)
{
	unsigned char rnd[TEMP_RANDOM_HEX / 2];
	size_t n, i;
	int tries, fd;

	if (tokenfile_temp_prefix(name, tmp, tmpsz) == -1 ||
	    (n = strlen(tmp)) + TEMP_RANDOM_HEX >= tmpsz) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (tries = 0; tries < 8; tries++) {
		if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
			return -1;
		for (i = 0; i < sizeof rnd; i++)
			(void)fmt_snprintf(tmp + n + 2 * i, 3, "%02x", rnd[i]);
		fd = openat(dirfd, tmp,
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
		if (fd != -1 || errno != EEXIST)
			return fd;
	}
	return -1;
}

int
tokenfile_write(const struct tokendir *td, const char *name, const char *data,
    size_t len, unsigned mode, struct err *err)
{
	char tmp[256];
	const char *step;
	int fd, saved, pl = (int)td->prefix_len;

	if (refuse_removed(td, err) == -1)
		return -1;
	if ((fd = create_temp(td->fd, name, tmp, sizeof tmp, mode)) == -1)
		return err_set(err, ERR_FILE,
		    "creating a temporary file next to %.*s%s: %s", pl,
		    td->path, name, strerror(errno));
	/* fchmod: the umask may have taken bits the mode asks for. */
	step = write_all(fd, data, len) == -1 ? "writing" :
	    fchmod(fd, mode) == -1            ? "setting the mode of" :
	    fsync(fd) == -1                   ? "syncing" :
	                                        NULL;
	saved = errno;
	if (close(fd) == -1 && step == NULL) {
		step = "closing";
		saved = errno;
	}
	if (step == NULL && renameat(td->fd, tmp, td->fd, name) == -1) {
		step = "renaming over";
		saved = errno;
	}
	if (step != NULL) {
		unlinkat(td->fd, tmp, 0);
		return err_set(err, ERR_FILE, "%s the token file %.*s%s: %s",
		    step, pl, td->path, name, strerror(saved));
	}
	/*
	 * The rename is durable only once the directory is on disk too. The
	 * new file is in place whatever this says: a failure here cannot be
	 * undone, and readers already see the new token, so it counts as
	 * written (an emptyDir in memory has no disk to sync to anyway).
	 */
	(void)fsync(td->fd);
	return 0;
}

int
tokenfile_remove(const struct tokendir *td, const char *name)
{
	if (unlinkat(td->fd, name, 0) == -1 && errno != ENOENT)
		return -1;
	return 0;
}

int
tokenfile_expiry_name(const char *name, char *out, size_t cap)
{
	int n = fmt_snprintf(out, cap, ".%s.expiry", name);

	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int
tokenfile_expiry_path(const char *path, char *out, size_t cap)
{
	const char *slash = strrchr(path, '/');
	int n;

	if (slash == NULL)
		n = fmt_snprintf(out, cap, ".%s.expiry", path);
	else
		n = fmt_snprintf(out, cap, "%.*s/.%s.expiry",
		    (int)(slash - path), path, slash + 1);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

long
tokenfile_read_small(const char *path, char *buf, size_t cap)
{
	size_t n = 0;
	ssize_t r;
	int fd, saved;

	/* Never open a FIFO or device put in the file's place: the event
	 * loop's listener reads this too. */
	if ((fd = regular_open(path)) == -1)
		return -1;
	while (n < cap - 1 && (r = read(fd, buf + n, cap - 1 - n)) != 0) {
		if (r == -1) {
			if (errno == EINTR)
				continue;
			saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
		n += (size_t)r;
	}
	close(fd);
	if (n == cap - 1) {
		errno = EFBIG;
		return -1;
	}
	buf[n] = '\0';
	return (long)n;
}

/* Is `entry` the temporary name create_temp() makes for `name`: its
 * prefix, then exactly the random hex? */
static int
is_own_temp(const char *entry, const char *name)
{
	char prefix[256];
	size_t n, i;

	if (tokenfile_temp_prefix(name, prefix, sizeof prefix) == -1)
		return 0;
	n = strlen(prefix);
	if (strncmp(entry, prefix, n) != 0)
		return 0;
	entry += n;
	for (i = 0; i < TEMP_RANDOM_HEX; i++)
		if (!((entry[i] >= '0' && entry[i] <= '9') ||
		        (entry[i] >= 'a' && entry[i] <= 'f')))
			return 0;
	return entry[i] == '\0';
}

/*
 * getdents64's record: d_ino (8 bytes), d_off (8), d_reclen (2), d_type
 * (1), then the NUL-terminated name, padded to d_reclen.
 */
#define DIRENT_RECLEN 16
#define DIRENT_NAME 19

const char *
tokenfile_dirent_next(const unsigned char *buf, size_t len, size_t *off)
{
	uint16_t reclen;
	const unsigned char *rec = buf + *off;

	if (*off >= len || len - *off <= DIRENT_NAME) {
		*off = len;
		return NULL;
	}
	memcpy(&reclen, rec + DIRENT_RECLEN, sizeof reclen);
	if (reclen <= DIRENT_NAME || reclen > len - *off ||
	    memchr(rec + DIRENT_NAME, '\0', reclen - DIRENT_NAME) == NULL) {
		*off = len; /* not a record the kernel writes: stop */
		return NULL;
	}
	*off += reclen;
	return (const char *)rec + DIRENT_NAME;
}

/* Remove `entry` when it is one of our stale temporary files: 1, else 0. */
static int
sweep_entry(const struct tokendir *td, const char *entry, const char *expiry)
{
	struct stat st;

	return (is_own_temp(entry, td->name) ||
	           (expiry[0] != '\0' && is_own_temp(entry, expiry))) &&
	    fstatat(td->fd, entry, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    time(NULL) - st.st_mtime >= TEMP_STALE_S &&
	    unlinkat(td->fd, entry, 0) == 0;
}

int
tokenfile_sweep(const struct tokendir *td)
{
	unsigned char buf[2048]; /* as musl's readdir */
	char expiry[256];
	const char *entry;
	size_t off;
	long n;
	int fd, removed = 0;

	if (tokenfile_expiry_name(td->name, expiry, sizeof expiry) == -1)
		expiry[0] = '\0';
	/* A descriptor of its own (getdents64 moves its offset), for the
	 * same directory, not the path. */
	if ((fd = openat(td->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		return 0;
	while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0)
		for (off = 0; (entry = tokenfile_dirent_next(buf, (size_t)n,
		                   &off)) != NULL;)
			removed += sweep_entry(td, entry, expiry);
	close(fd);
	return removed;
}
