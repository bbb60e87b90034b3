/*
 * test_check.c: the probe's view of the token file: JWT exp, the recorded
 * expiry, and the reasons a token is not usable.
 */
#include "unit.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "check.h"
#include "tokenfile.h"

#define NOW 1800000000
#define MARGIN 10

static unsigned char payload[CHECK_PAYLOAD_MAX];

/* header {"alg":"none"}, payload {"exp":<exp>} or other JSON. */
static void
jwt(char *out, size_t cap, const char *payload_b64url)
{
	snprintf(out, cap, "eyJhbGciOiJub25lIn0.%s.c2ln", payload_b64url);
}

static void
test_jwt_exp(void **state)
{
	char t[256];

	/* {"exp":1800000100} */
	jwt(t, sizeof t, "eyJleHAiOjE4MDAwMDAxMDB9");
	assert_int_equal(check_jwt_exp(t, strlen(t), payload), 1800000100);
	/* {"sub":"a","exp":1800000100,"x":[1,{"exp":5}]} : top level only */
	jwt(t, sizeof t,
	    "eyJzdWIiOiJhIiwiZXhwIjoxODAwMDAwMTAwLCJ4IjpbMSx7ImV4cCI6NX1dfQ");
	assert_int_equal(check_jwt_exp(t, strlen(t), payload), 1800000100);
}

static void
test_not_a_jwt(void **state)
{
	static const char *const tokens[] = {
		"opaque-token-without-dots", "a.b", /* two segments */
		"a.b.c.d", /* four segments (JWE has five) */
		"eyJhbGciOiJub25lIn0.!!!.c2ln", /* payload not base64url */
		"eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.c2ln",    /* no exp */
		"eyJhbGciOiJub25lIn0.eyJleHAiOiIxMjMifQ.c2ln", /* exp "123" */
		"eyJhbGciOiJub25lIn0.eyJleHAiOi0xfQ.c2ln",     /* exp -1 */
		"eyJhbGciOiJub25lIn0.bm90IGpzb24.c2ln",        /* "not json" */
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(tokens); i++)
		if (check_jwt_exp(tokens[i], strlen(tokens[i]), payload) != -1)
			fail_msg("\"%s\" read as a JWT", tokens[i]);
}

struct dir {
	char path[64];
	char token[96];
	char expiry[128];
};

static int
setup(void **state)
{
	static struct dir d;

	strcpy(d.path, "/tmp/tb-check-XXXXXX");
	assert_non_null(mkdtemp(d.path));
	snprintf(d.token, sizeof d.token, "%s/token", d.path);
	assert_int_equal(tokenfile_expiry_path(d.token, d.expiry,
	                     sizeof d.expiry),
	    0);
	*state = &d;
	return 0;
}

static int
teardown(void **state)
{
	struct dir *d = *state;

	unlink(d->token);
	unlink(d->expiry);
	rmdir(d->path);
	return 0;
}

static void
put(const char *path, const char *text)
{
	struct err err = { 0 };
	struct tokendir td;

	if (tokendir_open(&td, path, &err) != 0 ||
	    tokenfile_write(&td, td.name, text, strlen(text), 0600, &err) != 0)
		fail_msg("%s", err.msg);
	tokendir_close(&td);
}

static void
expect(struct dir *d, int64_t now, int ok, const char *reason)
{
	struct err err = { 0 };
	int64_t exp;

	static struct check_buf b;

	assert_int_equal(check_token_file(&b, d->token, now, MARGIN, &exp,
	                     &err),
	    ok ? 0 : -1);
	if (!ok) {
		assert_int_equal(err.kind, ERR_FILE);
		assert_contains(err.msg, reason);
		assert_not_contains(err.msg, "opaque-secret");
	}
}

static void
test_expiry_path(void **state)
{
	char out[64];

	assert_int_equal(tokenfile_expiry_path("/var/run/t/token", out,
	                     sizeof out),
	    0);
	assert_string_equal(out, "/var/run/t/.token.expiry");
	assert_int_equal(tokenfile_expiry_path("token", out, sizeof out), 0);
	assert_string_equal(out, ".token.expiry");
	assert_int_equal(tokenfile_expiry_path("/a/b", out, 5), -1);
}

static void
test_missing_and_empty(void **state)
{
	struct dir *d = *state;

	expect(d, NOW, 0, "no token at");
	put(d->token, "");
	expect(d, NOW, 0, "is empty");
}

static void
test_opaque_token_uses_recorded_expiry(void **state)
{
	struct dir *d = *state;
	char text[32];

	put(d->token, "opaque-secret");
	/* Nothing recorded: a present token is all that can be known. */
	expect(d, NOW, 1, "");
	snprintf(text, sizeof text, "%d\n", NOW + 3600);
	put(d->expiry, text);
	expect(d, NOW, 1, "");
	expect(d, NOW + 3600 - MARGIN + 1, 0, "margin");
	expect(d, NOW + 3601, 0, "expired 1 s ago");
	/* A malformed record is no record. */
	put(d->expiry, "soon\n");
	expect(d, NOW + 999999, 1, "");
}

static void
test_jwt_exp_wins_over_record(void **state)
{
	struct dir *d = *state;
	char t[256], text[32];

	/* exp 1800000100, recorded 3600 s later: the JWT decides. */
	jwt(t, sizeof t, "eyJleHAiOjE4MDAwMDAxMDB9");
	put(d->token, t);
	snprintf(text, sizeof text, "%d\n", NOW + 3600);
	put(d->expiry, text);
	expect(d, NOW, 1, "");
	expect(d, NOW + 95, 0, "margin");
	expect(d, NOW + 200, 0, "expired 100 s ago");
}

/* Something planted at the token's path: refused as not a regular file,
 * before it is opened (a device with no driver would fail to open with
 * ENXIO, "No such device or address", and say so). */
static void
planted(struct dir *d, mode_t mode, dev_t dev)
{
	if (mode == S_IFDIR)
		assert_int_equal(mkdir(d->token, 0700), 0);
	else if (mknod(d->token, mode | 0600, dev) == -1)
		skip(); /* not root, or no CAP_MKNOD */
	expect(d, NOW, 0, "is not a regular file");
	if (mode == S_IFDIR)
		assert_int_equal(rmdir(d->token), 0);
	else
		assert_int_equal(unlink(d->token), 0);
}

static void
test_only_regular_files_are_opened(void **state)
{
	struct dir *d = *state;

	planted(d, S_IFIFO, 0);
	planted(d, S_IFDIR, 0);
	planted(d, S_IFCHR, makedev(1, 3));   /* /dev/null's numbers */
	planted(d, S_IFCHR, makedev(240, 0)); /* local use: no driver */
}

static void
test_symlinks_are_followed(void **state)
{
	struct dir *d = *state;
	char target[96], text[32];

	/* As an atomic-writer volume: token -> ..data/token. */
	snprintf(target, sizeof target, "%s/real", d->path);
	put(target, "opaque-secret");
	assert_int_equal(symlink("real", d->token), 0);
	expect(d, NOW, 1, "");
	snprintf(text, sizeof text, "%d\n", NOW + 5);
	put(d->expiry, text);
	expect(d, NOW, 0, "margin");
	/* A link to a device is refused like the device. */
	assert_int_equal(unlink(d->token), 0);
	assert_int_equal(symlink("/dev/null", d->token), 0);
	expect(d, NOW, 0, "is not a regular file");
	unlink(target);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jwt_exp),
		cmocka_unit_test(test_not_a_jwt),
		cmocka_unit_test(test_expiry_path),
		cmocka_unit_test_setup_teardown(test_missing_and_empty, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_opaque_token_uses_recorded_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_jwt_exp_wins_over_record,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_only_regular_files_are_opened, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlinks_are_followed,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
