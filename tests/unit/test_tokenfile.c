/*
 * test_tokenfile.c: reading the subject token, and replacing the access
 * token file atomically, in a fresh directory per test.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
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

/* ---- tokenfile_read_subject ---- */

static void
read_is(struct dir *d, const char *content, size_t clen, const char *want)
{
	char buf[64];
	size_t len = 0;
	struct err err = { 0 };

	write_file(d->file, content, clen);
	if (tokenfile_read_subject(d->file, buf, sizeof buf, &len, &err) != 0)
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
	if (tokenfile_read_subject(d->file, buf, cap, &len, &err) == 0)
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
	assert_int_equal(tokenfile_read_subject(d->file, buf, 8, &len, &err),
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

	assert_int_equal(tokenfile_read_subject(d->file, buf, sizeof buf, &len,
	                     &err),
	    -1);
	assert_err(&err, ERR_FILE, d->file);
	assert_int_equal(tokenfile_read_subject(d->path, buf, sizeof buf, &len,
	                     &err),
	    -1);
	assert_err(&err, ERR_FILE, d->path);
}

/* ---- tokenfile_write ---- */

static void
test_write_new(void **state)
{
	struct dir *d = *state;
	struct err err = { 0 };
	struct stat st;

	assert_int_equal(tokenfile_write(d->file, LIT("token-1"), 0640, &err),
	    0);
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

	assert_int_equal(tokenfile_write(d->file, LIT("new"), 0644, &err), 0);
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

	assert_int_equal(tokenfile_write(d->file, LIT("t"), 0644, &err), 0);
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
	assert_int_equal(tokenfile_write(d->file, data, sizeof data, 0600,
	                     &err),
	    0);
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
	assert_int_equal(tokenfile_write(path, LIT("t"), 0600, &err), -1);
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
	assert_int_equal(tokenfile_write(d->file, LIT("t"), 0600, &err), -1);
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
	assert_int_equal(tokenfile_write(d->file, data, sizeof data, 0600,
	                     &err),
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
	assert_int_equal(tokenfile_write(d->file, LIT("new"), 0600, &err), -1);
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
	assert_int_equal(tokenfile_sweep(d->file), ARRAY_LEN(ours));
	for (i = 0; i < ARRAY_LEN(ours); i++) {
		snprintf(p, sizeof p, "%s/%s", d->path, ours[i]);
		assert_int_equal(access(p, F_OK), -1);
	}
	for (i = 0; i < ARRAY_LEN(theirs); i++) {
		snprintf(p, sizeof p, "%s/%s", d->path, theirs[i]);
		assert_int_equal(access(p, F_OK), 0);
	}
	assert_int_equal(tokenfile_sweep(d->file), 0);
}

/*
 * A name longer than the 200 bytes a temporary file keeps of it: the
 * leftover of a killed write is still recognised as this file's own.
 */
static void
test_sweep_long_name(void **state)
{
	static const struct timespec old[2] = { { 1, 0 }, { 1, 0 } };
	struct dir *d = *state;
	char name[231], path[512], tmp[512];

	memset(name, 'n', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	snprintf(path, sizeof path, "%s/%s", d->path, name);
	snprintf(tmp, sizeof tmp, "%s/.%.200s.tmp-0123456789ab", d->path, name);
	write_file(tmp, "secret", 6);
	assert_int_equal(utimensat(AT_FDCWD, tmp, old, 0), 0);
	assert_int_equal(tokenfile_sweep(path), 1);
	assert_int_equal(access(tmp, F_OK), -1);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, dir_setup, dir_teardown)
	const struct CMUnitTest tests[] = {
		T(test_read_trims),
		T(test_read_rejects),
		T(test_read_size),
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
		T(test_sweep_long_name),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
