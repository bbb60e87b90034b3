/*
 * tokenfile.c: the ServiceAccount token in, the access token out.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tokenfile.h"

static int
trailing_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	    c == '\v' || c == '\f';
}

/* Trim trailing white space off buf[0..*n) and check what is left, which
 * must leave room for the NUL in cap. */
static int
subject_check(const char *path, const char *buf, size_t cap, size_t *n,
    struct err *err)
{
	size_t i;

	while (*n > 0 && trailing_space(buf[*n - 1]))
		(*n)--;
	if (*n >= cap)
		return err_set(err, ERR_FILE, "the ServiceAccount token %s is "
		    "larger than %zu bytes", path, cap - 1);
	if (*n == 0)
		return err_set(err, ERR_FILE, "the ServiceAccount token %s is "
		    "empty: check the projected volume", path);
	for (i = 0; i < *n; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			return err_set(err, ERR_FILE, "the ServiceAccount token "
			    "%s holds a control character at byte %zu: it is "
			    "not a token", path, i);
	return 0;
}

int
tokenfile_read_subject(const char *path, char *buf, size_t cap,
    size_t *len, struct err *err)
{
	size_t n = 0;
	ssize_t r;
	char extra;
	int fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return err_set(err, ERR_FILE,
		    "reading the ServiceAccount token %s: %s", path,
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
		err_set(err, ERR_FILE, "reading the ServiceAccount token %s: %s",
		    path, strerror(saved));
	else if (r > 0)
		err_set(err, ERR_FILE, "the ServiceAccount token %s is larger "
		    "than %zu bytes", path, cap - 1);
	else if (subject_check(path, buf, cap, &n, err) == 0) {
		buf[n] = '\0';
		*len = n;
		return 0;
	}
	/* Whatever was read of a refused token is not kept. */
	explicit_bzero(buf, n < cap ? n : cap);
	return -1;
}

/* Split path into a directory descriptor and the final name. */
static int
open_parent(const char *path, const char **name, struct err *err)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	size_t n;
	int fd;

	if (slash == NULL) {
		strcpy(dir, ".");
		*name = path;
	} else {
		n = slash == path ? 1 : (size_t)(slash - path);
		if (n >= sizeof dir)
			return err_set(err, ERR_FILE, "the token path %.80s... "
			    "is too long", path);
		memcpy(dir, path, n);
		dir[n] = '\0';
		*name = slash + 1;
	}
	if (**name == '\0')
		return err_set(err, ERR_FILE, "the token path %s names a "
		    "directory, not a file", path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return err_set(err, ERR_FILE, "opening the token directory "
		    "%s: %s", dir, strerror(errno));
	return fd;
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
#define TEMP_NAME_KEPT 200	/* bytes of the name a temporary file keeps */
/*
 * A write holds its temporary file for milliseconds: one this old was left
 * by a killed process, never by another sidecar writing the same file now.
 */
#define TEMP_STALE_S 60

/*
 * Create a new, exclusive temporary file next to the target: a dot name so
 * that globbing readers skip it, a random suffix so that two writers never
 * share one.
 */
static int
create_temp(int dirfd, const char *name, char *tmp, size_t tmpsz,
    unsigned mode)
{
	unsigned char rnd[6];
	int tries, fd;

	for (tries = 0; tries < 8; tries++) {
		if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
			return -1;
		(void)snprintf(tmp, tmpsz, ".%.*s" TEMP_SUFFIX
		    "%02x%02x%02x%02x%02x%02x", TEMP_NAME_KEPT,
		    name, rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL |
		    O_CLOEXEC | O_NOFOLLOW, mode);
		if (fd != -1 || errno != EEXIST)
			return fd;
	}
	return -1;
}

int
tokenfile_write(const char *path, const char *data, size_t len,
    unsigned mode, struct err *err)
{
	char tmp[256];
	const char *name, *step;
	int dirfd, fd, saved;

	if ((dirfd = open_parent(path, &name, err)) == -1)
		return -1;
	if ((fd = create_temp(dirfd, name, tmp, sizeof tmp, mode)) == -1) {
		saved = errno;
		close(dirfd);
		return err_set(err, ERR_FILE, "creating a temporary file next "
		    "to %s: %s", path, strerror(saved));
	}
	/* fchmod: the umask may have taken bits the mode asks for. */
	step = write_all(fd, data, len) == -1 ? "writing" :
	    fchmod(fd, mode) == -1 ? "setting the mode of" :
	    fsync(fd) == -1 ? "syncing" : NULL;
	saved = errno;
	if (close(fd) == -1 && step == NULL) {
		step = "closing";
		saved = errno;
	}
	if (step == NULL && renameat(dirfd, tmp, dirfd, name) == -1) {
		step = "renaming over";
		saved = errno;
	}
	if (step != NULL) {
		unlinkat(dirfd, tmp, 0);
		close(dirfd);
		return err_set(err, ERR_FILE, "%s the token file %s: %s",
		    step, path, strerror(saved));
	}
	/*
	 * The rename is durable only once the directory is on disk too. The
	 * new file is in place whatever this says: a failure here cannot be
	 * undone, and readers already see the new token, so it counts as
	 * written (an emptyDir in memory has no disk to sync to anyway).
	 */
	(void)fsync(dirfd);
	close(dirfd);
	return 0;
}

int
tokenfile_expiry_path(const char *path, char *out, size_t cap)
{
	const char *slash = strrchr(path, '/');
	int n;

	if (slash == NULL)
		n = snprintf(out, cap, ".%s.expiry", path);
	else
		n = snprintf(out, cap, "%.*s/.%s.expiry", (int)(slash - path),
		    path, slash + 1);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

long
tokenfile_read_small(const char *path, char *buf, size_t cap)
{
	size_t n = 0;
	ssize_t r;
	int fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
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

/* Is `entry` ".NAME.tmp-" followed by the random hex create_temp uses? */
static int
is_own_temp(const char *entry, const char *name)
{
	size_t n = strnlen(name, TEMP_NAME_KEPT), i;

	if (entry[0] != '.' || strncmp(entry + 1, name, n) != 0 ||
	    strncmp(entry + 1 + n, TEMP_SUFFIX, strlen(TEMP_SUFFIX)) != 0)
		return 0;
	entry += 1 + n + strlen(TEMP_SUFFIX);
	for (i = 0; i < TEMP_RANDOM_HEX; i++)
		if (!((entry[i] >= '0' && entry[i] <= '9') ||
		    (entry[i] >= 'a' && entry[i] <= 'f')))
			return 0;
	return entry[i] == '\0';
}

int
tokenfile_sweep(const char *path)
{
	struct err ignored;
	struct stat st;
	struct dirent *de;
	const char *name;
	DIR *dir;
	int dirfd, removed = 0;

	if ((dirfd = open_parent(path, &name, &ignored)) == -1)
		return 0;
	if ((dir = fdopendir(dirfd)) == NULL) {
		close(dirfd);
		return 0;
	}
	while ((de = readdir(dir)) != NULL)
		if (is_own_temp(de->d_name, name) &&
		    fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    time(NULL) - st.st_mtime >= TEMP_STALE_S &&
		    unlinkat(dirfd, de->d_name, 0) == 0)
			removed++;
	closedir(dir);
	return removed;
}
