/*
 * test_tokenfile.c: reading the subject token, and replacing the access
 * token file atomically, in a fresh directory per test.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "unit.h"

#include "tokenfile.h"

struct dir {
	char path[64];
	char file[128]; /* path/token */
};

static int
dir_setup(void **state)
{
	static struct dir d;

	strcpy(d.path, "/tmp/tb-tokenfile-XXXXXX");
	if (mkdtemp(d.path) == NULL)
		return -1;
	snprintf(d.file, sizeof d.file, "%s/token", d.path);
	*state = &d;
	return 0;
}

/* Remove the directory and whatever a test left in it. */
static int
dir_teardown(void **state)
{
	struct dir *d = *state;
	DIR *dir;
	struct dirent *e;

	chmod(d->path, 0700);
	if ((dir = opendir(d->path)) == NULL)
		return -1;
	while ((e = readdir(dir)) != NULL) {
		char p[512];

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof p, "%s/%s", d->path, e->d_name);
		if (unlink(p) == -1)
			rmdir(p);
	}
	closedir(dir);
	return rmdir(d->path);
}

/* The file holds exactly data[0..len). */
static void
assert_file(const char *path, const char *data, size_t len)
{
	char buf[4096];
	FILE *f = fopen(path, "rb");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	assert_int_equal(n, len);
	assert_memory_equal(buf, data, len);
}

/* How many entries the directory holds, "." and ".." aside. */
static int
dir_entries(const char *path)
{
	DIR *dir = opendir(path);
	struct dirent *e;
	int n = 0;

	assert_non_null(dir);
	while ((e = readdir(dir)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(dir);
	return n;
}

/* tokenfile_write() through a directory opened for this one call. */
static int
write_path(const char *path, const char *data, size_t len, unsigned mode,
    struct err *err)
{
	struct tokendir td;
	int rc;

	if (tokendir_open(&td, path, err) == -1)
		return -1;
	rc = tokenfile_write(&td, td.name, data, len, mode, err);
	tokendir_close(&td);
	return rc;
}

/* tokenfile_sweep() through a directory opened for this one call. */
static int
sweep_path(const char *path)
{
	struct tokendir td;
	struct err err;
	int n;

	if (tokendir_open(&td, path, &err) == -1)
		fail_msg("%s", err.msg);
	n = tokenfile_sweep(&td);
	tokendir_close(&td);
	return n;
}

/* ---- tokenfile_read_subject ---- */

static void
read_is(struct dir *d, const char *content, size_t clen, const char *want)
{
	char buf[64];
	size_t len = 0;
	struct err err = { 0 };

	write_file(d->file, content, clen);
	if (tokenfile_read_secret("the ServiceAccount token", d->file, buf,
	        sizeof buf, &len, &err) != 0)
		fail_msg("refused \"%.*s\": %s", (int)clen, content, err.msg);
	assert_int_equal(len, strlen(want));
	assert_string_equal(buf, want);
}

static void
read_fails(struct dir *d, const char *content, size_t clen, size_t cap)
{
	char buf[64];
	size_t len;
	struct err err = { 0 };

	assert_true(cap <= sizeof buf);
	write_file(d->file, content, clen);
	if (tokenfile_read_secret("the ServiceAccount token", d->file, buf, cap,
	        &len, &err) == 0)
		fail_msg("accepted \"%.*s\" as \"%s\"", (int)clen, content,
		    buf);
	assert_err(&err, ERR_FILE, d->file);
	assert_printable(err.msg);
}

#define READ_IS(d, content, want) read_is((d), LIT(content), (want))
#define READ_FAILS(d, content, cap) read_fails((d), LIT(content), (cap))

static void
test_read_trims(void **state)
{
	struct dir *d = *state;

	READ_IS(d, "eyJhbGciOiJSUzI1NiJ9.e30.sig",
	    "eyJhbGciOiJSUzI1NiJ9.e30.sig");
	READ_IS(d, "abc\n", "abc");
	READ_IS(d, "abc\r\n", "abc");
	READ_IS(d, "abc \t\r\n\n\n", "abc");
	READ_IS(d, "a", "a");
}

static void
test_read_rejects(void **state)
{
	struct dir *d = *state;

	READ_FAILS(d, "", 64);
	READ_FAILS(d, "\n", 64);
	READ_FAILS(d, " \t\r\n\n", 64);
	/* A token is one line of printable text. */
	READ_FAILS(d, "abc\ndef\n", 64);
	READ_FAILS(d, "abc\rdef", 64);
	READ_FAILS(d, "ab\0c", 64);
	READ_FAILS(d, "\0abc", 64);
	READ_FAILS(d, "abc\x01", 64);
	READ_FAILS(d, "abc\x1b[2J", 64);
	READ_FAILS(d, "abc\x7f", 64);
}

static void
test_read_size(void **state)
{
	struct dir *d = *state;
	char buf[8];
	size_t len;
	struct err err = { 0 };

	/* cap - 1 bytes fit with the NUL; cap do not. */
	write_file(d->file, "1234567", 7);
	assert_int_equal(tokenfile_read_secret("the ServiceAccount token",
	                     d->file, buf, 8, &len, &err),
	    0);
	assert_string_equal(buf, "1234567");
	READ_FAILS(d, "12345678", 8);
	READ_FAILS(d, "123456789012345678901234567890", 8);
	/* Whitespace at the cut must not hide the rest of the file. */
	READ_FAILS(d, "123456 \nMORE", 8);
	READ_FAILS(d, "1234567\nX", 8);
}

static void
test_read_missing(void **state)
{
	struct dir *d = *state;
	char buf[64];
	size_t len;
	struct err err = { 0 };

	assert_int_equal(tokenfile_read_secret("the ServiceAccount token",
	                     d->file, buf, sizeof buf, &len, &err),
	    -1);
	assert_err(&err, ERR_FILE, d->file);
	assert_int_equal(tokenfile_read_secret("the ServiceAccount token",
	                     d->path, buf, sizeof buf, &len, &err),
	    -1);
	assert_err(&err, ERR_FILE, d->path);
}

/* Planted at the token's path: refused before it is opened (a device
 * with no driver would fail to open with ENXIO and say so). */
static void
read_planted(struct dir *d, mode_t mode, dev_t dev)
{
	char buf[64];
	size_t len;
	struct err err = { 0 };

	if (mknod(d->file, mode | 0600, dev) == -1)
		skip(); /* not root, or no CAP_MKNOD */
	assert_int_equal(tokenfile_read_secret("the ServiceAccount token",
	                     d->file, buf, sizeof buf, &len, &err),
	    -1);
	assert_err(&err, ERR_FILE, d->file);
	assert_non_null(strstr(err.msg, "is not a regular file"));
	assert_int_equal(tokenfile_read_small(d->file, buf, sizeof buf), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(unlink(d->file), 0);
}

static void
test_read_only_regular_files(void **state)
{
	struct dir *d = *state;
	char link[96], buf[64];
	size_t len = 0;
	struct err err = { 0 };

	read_planted(d, S_IFIFO, 0);
	read_planted(d, S_IFCHR, makedev(1, 3));   /* /dev/null's numbers */
	read_planted(d, S_IFCHR, makedev(240, 0)); /* local use: no driver */
	/* Symlinks are followed, as Secret volumes need. */
	snprintf(link, sizeof link, "%s.real", d->file);
	write_file(link, "opaque\n", 7);
	assert_int_equal(symlink(link, d->file), 0);
	assert_int_equal(tokenfile_read_secret("the ServiceAccount token",
	                     d->file, buf, sizeof buf, &len, &err),
	    0);
	assert_string_equal(buf, "opaque");
	assert_int_equal(unlink(d->file), 0);
	assert_int_equal(unlink(link), 0);
}

/* ---- tokenfile_write ---- */

static void
test_write_new(void **state)
{
	struct dir *d = *state;
	struct err err = { 0 };
	struct stat st;

	assert_int_equal(write_path(d->file, LIT("token-1"), 0640, &err), 0);
	assert_file(d->file, LIT("token-1"));
	assert_int_equal(stat(d->file, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(dir_entries(d->path), 1);
}

static void
test_write_replaces(void **state)
{
	struct dir *d = *state;
	struct err err = { 0 };
	struct stat before, after;

	write_file(d->file, "old-token-old-token", 19);
	assert_int_equal(chmod(d->file, 0600), 0);
	assert_int_equal(stat(d->file, &before), 0);

	assert_int_equal(write_path(d->file, LIT("new"), 0644, &err), 0);
	assert_file(d->file, LIT("new"));
	assert_int_equal(stat(d->file, &after), 0);
	assert_int_equal(after.st_mode & 07777, 0644);
	/* A new inode: the old file was replaced, not rewritten, so a
	 * reader holding it open still sees the whole old token. */
	assert_int_not_equal(before.st_ino, after.st_ino);
	assert_int_equal(dir_entries(d->path), 1);
}

/* The mode is the one asked for, whatever the umask. */
static void
test_write_mode_despite_umask(void **state)
{
	struct dir *d = *state;
	struct err err = { 0 };
	struct stat st;
	mode_t old = umask(0277);

	assert_int_equal(write_path(d->file, LIT("t"), 0644, &err), 0);
	umask(old);
	assert_int_equal(stat(d->file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
}

static void
test_write_large(void **state)
{
	struct dir *d = *state;
	struct err err = { 0 };
	static char data[32 * 1024];
	struct stat st;

	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (char)('A' + i % 26);
	assert_int_equal(write_path(d->file, data, sizeof data, 0600, &err), 0);
	assert_int_equal(stat(d->file, &st), 0);
	assert_int_equal(st.st_size, sizeof data);
}

static void
test_write_missing_dir(void **state)
{
	struct dir *d = *state;
	struct err err = { 0 };
	char path[256];

	snprintf(path, sizeof path, "%s/no-such-dir/token", d->path);
	assert_int_equal(write_path(path, LIT("t"), 0600, &err), -1);
	assert_int_equal(err.kind, ERR_FILE);
	assert_contains(err.msg, "no-such-dir");
	assert_int_equal(dir_entries(d->path), 0);
}

/* The target is a directory: the rename fails, the temp file goes. */
static void
test_write_over_directory(void **state)
{
	struct dir *d = *state;
	struct err err = { 0 };
	char inner[256];

	assert_int_equal(mkdir(d->file, 0700), 0);
	snprintf(inner, sizeof inner, "%s/keep", d->file);
	write_file(inner, "k", 1);
	assert_int_equal(write_path(d->file, LIT("t"), 0600, &err), -1);
	assert_err(&err, ERR_FILE, d->file);
	assert_int_equal(dir_entries(d->path), 1);
	assert_file(inner, "k", 1);
	assert_int_equal(unlink(inner), 0);
}

/*
 * A write that fails half way (here: the file size limit, which binds
 * root too) leaves the old file byte for byte, with its mode, and no
 * temporary file.
 */
static void
test_write_failure_keeps_old(void **state)
{
	struct dir *d = *state;
	struct err err = { 0 };
	struct rlimit old, small;
	struct stat st;
	char data[8192];
	void (*old_handler)(int);

	write_file(d->file, "old-token", 9);
	assert_int_equal(chmod(d->file, 0640), 0);
	memset(data, 'n', sizeof data);

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = 4096;
	old_handler = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	assert_int_equal(write_path(d->file, data, sizeof data, 0600, &err),
	    -1);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_handler);

	assert_err(&err, ERR_FILE, d->file);
	assert_file(d->file, LIT("old-token"));
	assert_int_equal(stat(d->file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(dir_entries(d->path), 1);
}

/* Without write permission on the directory (not testable as root, who
 * has it anyway). */
static void
test_write_read_only_dir(void **state)
{
	struct dir *d = *state;
	struct err err = { 0 };

	if (geteuid() == 0)
		skip();
	write_file(d->file, "old-token", 9);
	assert_int_equal(chmod(d->path, 0500), 0);
	assert_int_equal(write_path(d->file, LIT("new"), 0600, &err), -1);
	assert_int_equal(chmod(d->path, 0700), 0);
	assert_err(&err, ERR_FILE, d->file);
	assert_file(d->file, LIT("old-token"));
	assert_int_equal(dir_entries(d->path), 1);
}

/* Only this program's own leftovers go: ".token.tmp-" + 12 hex digits. */
static void
test_sweep(void **state)
{
	static const char *const ours[] = { ".token.tmp-0123456789ab",
		".token.tmp-ffffffffffff" };
	static const char *const theirs[] = { ".token.tmp-0123456789a",
		".token.tmp-0123456789abc", ".token.tmp-0123456789AB",
		".other.tmp-0123456789ab", "token.tmp-0123456789ab",
		".token.expiry", "token",
		/* Another writer's, being written now. */
		".token.tmp-00000000cafe" };
	struct dir *d = *state;
	char p[256];
	size_t i;

	/* Left by a killed process: old. */
	static const struct timespec old[2] = { { 1, 0 }, { 1, 0 } };

	for (i = 0; i < ARRAY_LEN(ours); i++) {
		snprintf(p, sizeof p, "%s/%s", d->path, ours[i]);
		write_file(p, "secret", 6);
		assert_int_equal(utimensat(AT_FDCWD, p, old, 0), 0);
	}
	for (i = 0; i < ARRAY_LEN(theirs); i++) {
		snprintf(p, sizeof p, "%s/%s", d->path, theirs[i]);
		write_file(p, "keep", 4);
	}
	assert_int_equal(sweep_path(d->file), ARRAY_LEN(ours));
	for (i = 0; i < ARRAY_LEN(ours); i++) {
		snprintf(p, sizeof p, "%s/%s", d->path, ours[i]);
		assert_int_equal(access(p, F_OK), -1);
	}
	for (i = 0; i < ARRAY_LEN(theirs); i++) {
		snprintf(p, sizeof p, "%s/%s", d->path, theirs[i]);
		assert_int_equal(access(p, F_OK), 0);
	}
	assert_int_equal(sweep_path(d->file), 0);
}

/* A leftover as a killed writer leaves it: `prefix` and 12 hex digits,
 * a minute old. */
static void
leftover(struct dir *d, const char *prefix)
{
	static const struct timespec old[2] = { { 1, 0 }, { 1, 0 } };
	char p[512];

	snprintf(p, sizeof p, "%s/%s0123456789ab", d->path, prefix);
	write_file(p, "secret", 6);
	assert_int_equal(utimensat(AT_FDCWD, p, old, 0), 0);
}

/*
 * Names are cut to 200 bytes when a temporary file is made (so that it
 * fits in NAME_MAX); the sweep must recognise the cut name, and the
 * temporary files of the expiry record (".NAME.expiry" gives
 * "..NAME.expiry.tmp-") too.
 */
static void
test_sweep_long_name_and_expiry_record(void **state)
{
	struct dir *d = *state;
	char name[231], path[512], prefix[256];

	memset(name, 'n', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	snprintf(path, sizeof path, "%s/%s", d->path, name);
	/* As the writer has always cut it: the first 200 bytes. */
	snprintf(prefix, sizeof prefix, ".%.200s.tmp-", name);
	leftover(d, prefix);
	assert_int_equal(sweep_path(path), 1);
	leftover(d, "..token.expiry.tmp-");
	leftover(d, ".token.tmp-");
	assert_int_equal(sweep_path(d->file), 2);
	assert_int_equal(dir_entries(d->path), 0);
}

/*
 * A directory of many entries (several getdents64 reads) with hostile
 * names another container could make: control bytes, newlines, 255-byte
 * names, near misses of ours. Only our stale leftovers go.
 */
static void
test_sweep_many_hostile_entries(void **state)
{
	struct dir *d = *state;
	char p[512], name[256];
	size_t i;

	for (i = 0; i < 300; i++) {
		snprintf(p, sizeof p, "%s/.token.tmp-%012zx%s", d->path, i,
		    i % 3 == 0     ? "\n" :
		        i % 3 == 1 ? "\x1b[2J" :
		                     "X");
		write_file(p, "keep", 4);
	}
	memset(name, 0xff, sizeof name - 1);
	name[sizeof name - 1] = '\0';
	snprintf(p, sizeof p, "%s/%s", d->path, name);
	write_file(p, "keep", 4);
	for (i = 0; i < 40; i++) {
		snprintf(p, sizeof p, "%s/.token.tmp-%012zx", d->path,
		    i + 0xa00);
		write_file(p, "secret", 6);
		assert_int_equal(utimensat(AT_FDCWD, p,
		                     (const struct timespec[2]){ { 1, 0 },
		                         { 1, 0 } },
		                     0),
		    0);
	}
	assert_int_equal(sweep_path(d->file), 40);
	assert_int_equal(dir_entries(d->path), 301);
}

/* getdents64 records: bytes of each field, then the name. */
static size_t
record(unsigned char *out, uint16_t reclen, const char *name, size_t n)
{
	memset(out, 0, reclen);
	memcpy(out + 16, &reclen, 2);
	memcpy(out + 19, name, n);
	return reclen;
}

/* Records that do not fit or hold no name end the walk, never overrun. */
static void
test_dirent_records(void **state)
{
	unsigned char buf[128];
	size_t len = 0, off = 0;
	const char *e;

	len += record(buf + len, 24, "a", 2);
	len += record(buf + len, 32, "token", 6);
	assert_string_equal(tokenfile_dirent_next(buf, len, &off), "a");
	assert_string_equal(tokenfile_dirent_next(buf, len, &off), "token");
	assert_null(tokenfile_dirent_next(buf, len, &off));
	assert_int_equal(off, len);

	/* A length past the buffer, one of 0, one without a NUL, a header
	 * cut short: each stops the walk where it is. */
	off = 0;
	(void)record(buf, 64, "x", 2);
	assert_null(tokenfile_dirent_next(buf, 40, &off));
	assert_int_equal(off, 40);
	off = 0;
	(void)record(buf, 24, "b", 2);
	memset(buf + 16, 0, 2);
	assert_null(tokenfile_dirent_next(buf, 24, &off));
	off = 0;
	(void)record(buf, 19, "", 0);
	assert_null(tokenfile_dirent_next(buf, 64, &off));
	off = 0;
	(void)record(buf, 24, "abcde", 5);
	assert_null(tokenfile_dirent_next(buf, 24, &off));
	off = 0;
	assert_null(tokenfile_dirent_next(buf, 19, &off));
	off = 0;
	len = record(buf, 24, "ok", 3);
	e = tokenfile_dirent_next(buf, len + 5, &off);
	assert_string_equal(e, "ok");
	assert_null(tokenfile_dirent_next(buf, len + 5, &off));
	assert_int_equal(off, len + 5);
}

/* The one naming function: what it makes fits, and is what is swept. */
static void
test_temp_prefix(void **state)
{
	char name[256], out[256];

	assert_int_equal(tokenfile_temp_prefix("token", out, sizeof out), 0);
	assert_string_equal(out, ".token.tmp-");
	memset(name, 'x', 255);
	name[255] = '\0';
	assert_int_equal(tokenfile_temp_prefix(name, out, sizeof out), 0);
	/* "." + 200 + ".tmp-" + 12 random hex digits: within NAME_MAX. */
	assert_int_equal(strlen(out), 1 + TOKENFILE_TEMP_NAME_MAX + 5);
	assert_true(strlen(out) + 12 <= 255);
	assert_int_equal(tokenfile_temp_prefix("token", out, 8), -1);
}

/* A long name is written, and leaves nothing behind when it fails. */
static void
test_write_long_name(void **state)
{
	struct dir *d = *state;
	struct err err = { 0 };
	char name[256], path[512];

	memset(name, 'n', 250);
	name[250] = '\0';
	snprintf(path, sizeof path, "%s/%s", d->path, name);
	assert_int_equal(write_path(path, LIT("t"), 0600, &err), 0);
	assert_file(path, LIT("t"));
	assert_int_equal(dir_entries(d->path), 1);
}

/*
 * The directory's name is replaced by a symlink after it was opened: the
 * next write still goes into the directory opened at start, never through
 * the link, and the recheck says the path was replaced.
 */
static void
test_directory_swapped_for_a_symlink(void **state)
{
	struct dir *d = *state;
	struct tokendir td;
	struct err err = { 0 };
	char sub[128], moved[128], elsewhere[128], p[256];

	snprintf(sub, sizeof sub, "%s/app", d->path);
	snprintf(moved, sizeof moved, "%s/app-moved", d->path);
	snprintf(elsewhere, sizeof elsewhere, "%s/elsewhere", d->path);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(mkdir(elsewhere, 0700), 0);
	snprintf(p, sizeof p, "%s/token", sub);
	assert_int_equal(tokendir_open(&td, p, &err), 0);
	assert_int_equal(tokendir_recheck(&td, &err), 0);

	assert_int_equal(rename(sub, moved), 0);
	assert_int_equal(symlink("elsewhere", sub), 0);
	assert_int_equal(tokendir_recheck(&td, &err), 1);
	assert_int_equal(tokenfile_write(&td, td.name, LIT("t"), 0600, &err),
	    0);
	tokenfile_sweep(&td);
	assert_int_equal(dir_entries(elsewhere), 0);
	snprintf(p, sizeof p, "%s/token", moved);
	assert_file(p, LIT("t"));
	tokendir_close(&td);

	/* At start, a symlinked directory is refused outright. */
	snprintf(p, sizeof p, "%s/token", sub);
	assert_int_equal(tokendir_open(&td, p, &err), -1);
	assert_err(&err, ERR_CONFIG, "symlink");
	assert_int_equal(td.fd, -1);

	snprintf(p, sizeof p, "%s/token", moved);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(unlink(sub), 0);
	assert_int_equal(rmdir(moved), 0);
	assert_int_equal(rmdir(elsewhere), 0);
}

/* The directory opened at start is removed: writes are refused, with the
 * reason, rather than going anywhere else. */
static void
test_directory_removed(void **state)
{
	struct dir *d = *state;
	struct tokendir td;
	struct err err = { 0 };
	char sub[128], p[256];

	snprintf(sub, sizeof sub, "%s/app", d->path);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(p, sizeof p, "%s/token", sub);
	assert_int_equal(tokendir_open(&td, p, &err), 0);
	assert_int_equal(rmdir(sub), 0);
	assert_int_equal(tokendir_recheck(&td, &err), -1);
	assert_err(&err, ERR_FILE, "has been removed");
	assert_int_equal(tokenfile_write(&td, td.name, LIT("t"), 0600, &err),
	    -1);
	assert_err(&err, ERR_FILE, sub);
	/* Nothing was made at the old path either. */
	assert_int_equal(access(sub, F_OK), -1);
	tokendir_close(&td);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, dir_setup, dir_teardown)
	const struct CMUnitTest tests[] = {
		T(test_read_trims),
		T(test_read_rejects),
		T(test_read_size),
		T(test_read_only_regular_files),
		T(test_read_missing),
		T(test_write_new),
		T(test_write_replaces),
		T(test_write_mode_despite_umask),
		T(test_write_large),
		T(test_write_missing_dir),
		T(test_write_over_directory),
		T(test_write_failure_keeps_old),
		T(test_write_read_only_dir),
		T(test_sweep),
		T(test_sweep_long_name_and_expiry_record),
		T(test_sweep_many_hostile_entries),
		T(test_dirent_records),
		T(test_temp_prefix),
		T(test_write_long_name),
		T(test_directory_swapped_for_a_symlink),
		T(test_directory_removed),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
