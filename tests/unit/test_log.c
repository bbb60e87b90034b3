/*
 * test_log.c: the log line format, escaping, and redaction of secrets and
 * of pieces of them.
 */
#include "unit.h"

#include <unistd.h>

#include "log.h"

static char captured[8192];

/* Run log_event with stderr on a pipe; the line lands in `captured`. */
#define CAPTURE(call) \
	do { \
		int p_[2], saved_; \
		ssize_t n_; \
		assert_int_equal(pipe(p_), 0); \
		saved_ = dup(2); \
		dup2(p_[1], 2); \
		call; \
		dup2(saved_, 2); \
		close(saved_); \
		close(p_[1]); \
		n_ = read(p_[0], captured, sizeof captured - 1); \
		close(p_[0]); \
		captured[n_ > 0 ? n_ : 0] = '\0'; \
	} while (0)

static const char secret[] = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.c2ln";

static int
teardown(void **state)
{
	log_secret(LOG_SECRET_SUBJECT, NULL, 0);
	log_secret(LOG_SECRET_ACCESS, NULL, 0);
	log_setup(LOG_TEXT, LOG_INFO);
	return 0;
}

static void
test_text_format_and_quoting(void **state)
{
	CAPTURE(log_event(LOG_WARN, "a message", "plain", "value", "spaced",
	    "two words", "empty", "", "quote", "say \"hi\"\n", (char *)NULL));
	assert_contains(captured,
	    " level=warn msg=\"a message\" plain=value "
	    "spaced=\"two words\" empty=\"\" quote=\"say \\\"hi\\\"\\n\"\n");
	assert_true(strncmp(captured, "time=", 5) == 0);
	/* One line, whatever the values held. */
	assert_ptr_equal(strchr(captured, '\n'),
	    captured + strlen(captured) - 1);
}

static void
test_json_format_escapes_everything(void **state)
{
	log_setup(LOG_JSON, LOG_INFO);
	CAPTURE(log_event(LOG_ERROR, "m", "k", "tab\there \x01 \xc3\xa9",
	    (char *)NULL));
	assert_contains(captured,
	    "\"level\":\"error\",\"msg\":\"m\","
	    "\"k\":\"tab\\there \\u0001 \\u00c3\\u00a9\"}\n");
	assert_true(captured[0] == '{');
}

static void
test_level_filter(void **state)
{
	log_setup(LOG_TEXT, LOG_WARN);
	CAPTURE(log_event(LOG_INFO, "hidden", (char *)NULL));
	assert_string_equal(captured, "");
}

static void
test_whole_and_pieces_of_secrets_are_redacted(void **state)
{
	char quote[64];

	log_secret(LOG_SECRET_SUBJECT, secret, strlen(secret));
	CAPTURE(log_event(LOG_ERROR, secret, "whole", secret, (char *)NULL));
	assert_not_contains(captured, "eyJhbGci");
	assert_contains(captured, "msg=[REDACTED] whole=[REDACTED]");

	/* A server quoting the start, the middle or the end. */
	snprintf(quote, sizeof quote, "JWT %.12s... rejected", secret);
	CAPTURE(log_event(LOG_ERROR, "m", "e", quote, (char *)NULL));
	assert_contains(captured, "e=\"JWT [REDACTED]... rejected\"");
	snprintf(quote, sizeof quote, "bad %.10s!", secret + 20);
	CAPTURE(log_event(LOG_ERROR, "m", "e", quote, (char *)NULL));
	assert_contains(captured, "e=\"bad [REDACTED]!\"");
	/* Seven bytes are chance, not a leak. */
	snprintf(quote, sizeof quote, "%.7s", secret + 30);
	CAPTURE(log_event(LOG_ERROR, "m", "e", quote, (char *)NULL));
	assert_contains(captured, quote);
	/* Forgotten secrets are no longer matched. */
	log_secret(LOG_SECRET_SUBJECT, NULL, 0);
	CAPTURE(log_event(LOG_ERROR, "m", "e", secret, (char *)NULL));
	assert_contains(captured, secret);
}

static void
test_long_values_are_bounded(void **state)
{
	static char big[5000];

	memset(big, 'x', sizeof big - 1);
	CAPTURE(log_event(LOG_ERROR, "m", "big", big, "after", "kept",
	    (char *)NULL));
	assert_true(strlen(captured) < 2048);
	assert_contains(captured, "...");
	assert_contains(captured, "after=kept");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_text_format_and_quoting,
		    teardown),
		cmocka_unit_test_teardown(test_json_format_escapes_everything,
		    teardown),
		cmocka_unit_test_teardown(test_level_filter, teardown),
		cmocka_unit_test_teardown(
		    test_whole_and_pieces_of_secrets_are_redacted, teardown),
		cmocka_unit_test_teardown(test_long_values_are_bounded,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
