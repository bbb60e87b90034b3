/*
 * test_health.c: the listener's answers and the metrics exposition,
 * without sockets (tests/integration/test_health.py has the sockets, a
 * real Prometheus and promtool).
 */
#include <time.h>
#include <unistd.h>

#include "unit.h"

#include "health.h"

static struct metrics metrics;
static struct check_buf check;
static struct health_view view;
static char out[HEALTH_RESPONSE_MAX];
static char path[64];

static int
setup(void **state)
{
	(void)snprintf(path, sizeof path, "/tmp/test-health-%d", (int)getpid());
	(void)unlink(path);
	memset(&metrics, 0, sizeof metrics);
	view.metrics = &metrics;
	view.token_path[0] = path;
	view.ntokens = 1;
	view.ready_margin_s = 10;
	view.check = &check;
	return 0;
}

static int
teardown(void **state)
{
	(void)unlink(path);
	return 0;
}

/* The answer to a whole request, NUL-terminated. */
static const char *
answer(const char *req)
{
	size_t len = 0;

	assert_int_equal(health_answer(&view, req, strlen(req), out,
	                     sizeof out - 1, &len),
	    1);
	out[len] = '\0';
	return out;
}

static void
test_livez(void **state)
{
	assert_contains(answer("GET /livez HTTP/1.1\r\nHost: x\r\n\r\n"),
	    "HTTP/1.1 200 OK\r\n");
	assert_contains(out, "Content-Length: 3\r\n");
	assert_contains(out, "\r\n\r\nok\n");
	assert_contains(answer("GET /livez?verbose HTTP/1.0\n\n"),
	    "[+]loop ok\nlivez check passed\n");
	/* HEAD: the same headers, no body. */
	answer("HEAD /livez HTTP/1.1\r\n\r\n");
	assert_contains(out, "Content-Length: 3\r\n");
	assert_int_equal(strstr(out, "\r\n\r\n")[4], '\0');
}

static void
test_incomplete_then_too_large(void **state)
{
	static char big[HEALTH_REQUEST_MAX];
	size_t len = 1;

	assert_int_equal(health_answer(&view, LIT("GET /livez HTTP/1.1\r\n"),
	                     out, sizeof out, &len),
	    0);
	assert_int_equal(len, 0);
	memset(big, 'a', sizeof big);
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	assert_int_equal(health_answer(&view, big, sizeof big, out, sizeof out,
	                     &len),
	    1);
	assert_true(len > 0 && memcmp(out, "HTTP/1.1 431 ", 13) == 0);
}

static void
test_refusals(void **state)
{
	assert_contains(answer("POST /livez HTTP/1.1\r\n\r\n"),
	    "HTTP/1.1 405 ");
	assert_contains(out, "Allow: GET, HEAD\r\n");
	assert_contains(answer("GET /token HTTP/1.1\r\n\r\n"), "HTTP/1.1 404 ");
	assert_contains(answer("GET /livez HTTP/2.0\r\n\r\n"), "HTTP/1.1 400 ");
	assert_contains(answer("GET livez HTTP/1.1\r\n\r\n"), "HTTP/1.1 400 ");
	assert_contains(answer("G\x01T /livez HTTP/1.1\r\n\r\n"),
	    "HTTP/1.1 400 ");
	assert_contains(answer("\r\n\r\n"), "HTTP/1.1 400 ");
	assert_contains(answer("GET /livez\x7f HTTP/1.1\r\n\r\n"),
	    "HTTP/1.1 400 ");
	/* A malformed HEAD gets its 400 without a body too. */
	assert_contains(answer("HEAD /livez HT\x0eTP/1.0\n\n"),
	    "HTTP/1.1 400 ");
	assert_int_equal(strstr(out, "\r\n\r\n")[4], '\0');
}

static void
put(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static void
test_readyz(void **state)
{
	assert_contains(answer("GET /readyz HTTP/1.1\r\n\r\n"),
	    "HTTP/1.1 503 ");
	assert_contains(out, "token not ready: no token at ");
	assert_contains(answer("GET /readyz?verbose HTTP/1.1\r\n\r\n"),
	    "[-]token failed: no token at ");
	assert_contains(out, "readyz check failed\n");
	/* {"exp":4102444800}: valid until 2100. */
	put("eyJhbGciOiJub25lIn0.eyJleHAiOjQxMDI0NDQ4MDB9.c2lnbmF0dXJl");
	assert_contains(answer("GET /readyz HTTP/1.1\r\n\r\n"),
	    "HTTP/1.1 200 ");
	assert_contains(answer("GET /readyz?x=1&verbose HTTP/1.1\r\n\r\n"),
	    "[+]token ok: valid for ");
	assert_not_contains(out, "c2lnbmF0dXJl");
	/* {"exp":1}: long expired. */
	put("eyJhbGciOiJub25lIn0.eyJleHAiOjF9.c2lnbmF0dXJl");
	assert_contains(answer("GET /readyz HTTP/1.1\r\n\r\n"),
	    "HTTP/1.1 503 ");
	assert_contains(out, "expired");
	assert_not_contains(out, "c2lnbmF0dXJl");
}

static void
test_metrics(void **state)
{
	metrics_exchange(&metrics, 7, 200, ERR_NONE);
	metrics_exchange(&metrics, 40000, 0, ERR_TIMEOUT);
	metrics_exchange(&metrics, 120, 503, ERR_STATUS);
	metrics.token_expiry = 1800000000;
	answer("GET /metrics HTTP/1.1\r\n\r\n");
	assert_contains(out, "Content-Type: text/plain; version=0.0.4");
	assert_contains(out, "\ntokenbridge_exchange_attempts_total 3\n");
	assert_contains(out,
	    "\ntokenbridge_exchange_failures_total{kind=\"timeout\"} 1\n");
	assert_contains(out,
	    "\ntokenbridge_exchange_failures_total{kind=\"dns\"} 0\n");
	assert_contains(out,
	    "\ntokenbridge_exchange_responses_total{code=\"5xx\"} 1\n");
	assert_contains(out,
	    "\ntokenbridge_exchange_duration_seconds_bucket{le=\"0.010\"} 1\n");
	assert_contains(out,
	    "\ntokenbridge_exchange_duration_seconds_bucket{le=\"30.000\"} "
	    "2\n");
	assert_contains(out,
	    "\ntokenbridge_exchange_duration_seconds_bucket{le=\"+Inf\"} 3\n");
	assert_contains(out,
	    "\ntokenbridge_exchange_duration_seconds_sum 40.127\n");
	assert_contains(out,
	    "\ntokenbridge_token_expiry_timestamp_seconds 1800000000\n");
	/* Unknown yet: the series has no sample rather than a false 0. */
	assert_not_contains(out,
	    "\ntokenbridge_token_last_success_timestamp_"
	    "seconds ");
	assert_contains(out, "tokenbridge_build_info{version=\"");
}

/* Two named tokens: a series each, the families once, readiness of both. */
static void
test_two_tokens(void **state)
{
	static struct metrics two[2];
	static char path_b[80];

	memset(two, 0, sizeof two);
	two[0].name = "app-a";
	two[1].name = "app-b";
	metrics_exchange(&two[1], 7, 503, ERR_STATUS);
	two[0].token_expiry = 1800000000;
	(void)snprintf(path_b, sizeof path_b, "%s-b", path);
	view.metrics = two;
	view.token_path[1] = path_b;
	view.ntokens = 2;
	answer("GET /metrics HTTP/1.1\r\n\r\n");
	assert_contains(out,
	    "\ntokenbridge_exchange_attempts_total{token=\"app-a\"} 0\n"
	    "tokenbridge_exchange_attempts_total{token=\"app-b\"} 1\n");
	assert_contains(out,
	    "\ntokenbridge_exchange_failures_total{token=\"app-b\","
	    "kind=\"status\"} 1\n");
	assert_contains(out,
	    "\ntokenbridge_exchange_duration_seconds_bucket{token=\"app-a\","
	    "le=\"+Inf\"} 0\n");
	assert_contains(out,
	    "\ntokenbridge_token_expiry_timestamp_seconds{token=\"app-a\"} "
	    "1800000000\n");
	assert_not_contains(out, "expiry_timestamp_seconds{token=\"app-b\"}");
	assert_contains(out, "tokenbridge_build_info{version=\"");
	assert_not_contains(out, "\ntokenbridge_exchange_attempts_total 0");
	/* One HELP per family, however many tokens. */
	assert_non_null(strstr(out, "# HELP tokenbridge_trust_anchors"));
	assert_null(strstr(strstr(out, "# HELP tokenbridge_trust_anchors") + 1,
	    "# HELP tokenbridge_trust_anchors"));
	put("eyJhbGciOiJub25lIn0.eyJleHAiOjQxMDI0NDQ4MDB9.c2lnbmF0dXJl");
	assert_contains(answer("GET /readyz?verbose HTTP/1.1\r\n\r\n"),
	    "HTTP/1.1 503 ");
	assert_contains(out, "[+]token app-a ok: valid for ");
	assert_contains(out, "\n[-]token app-b failed: no token at ");
	assert_contains(out, "\nreadyz check failed\n");
	assert_contains(answer("GET /readyz HTTP/1.1\r\n\r\n"),
	    "\r\n\r\ntoken app-b not ready: no token at ");
	assert_int_equal(rename(path, path_b), 0);
	put("eyJhbGciOiJub25lIn0.eyJleHAiOjQxMDI0NDQ4MDB9.c2lnbmF0dXJl");
	assert_contains(answer("GET /readyz HTTP/1.1\r\n\r\n"),
	    "HTTP/1.1 200 ");
	assert_contains(out, "\r\n\r\nok\n");
	assert_contains(answer("GET /readyz?verbose HTTP/1.1\r\n\r\n"),
	    "[+]token app-b ok");
	assert_contains(out, "\nreadyz check passed\n");
	assert_int_equal(unlink(path_b), 0);
}

/* The most tokens, the longest names, every counter at its widest: the
 * exposition still fits an answer (it was 503 from 3 tokens on). */
static void
test_metrics_of_the_most_tokens(void **state)
{
	static struct metrics most[CONFIG_TOKENS_MAX];
	static char names[CONFIG_TOKENS_MAX][64];
	size_t i;

	for (i = 0; i < CONFIG_TOKENS_MAX; i++) {
		memset(&most[i], 0xff, sizeof most[i]);
		memset(names[i], 'x', sizeof names[i] - 1);
		names[i][0] = (char)('a' + i);
		most[i].name = names[i];
		most[i].token_expiry = most[i].last_success = INT64_MAX;
		most[i].next_refresh = most[i].bundle_loaded = INT64_MAX;
	}
	view.metrics = most;
	view.ntokens = CONFIG_TOKENS_MAX;
	assert_contains(answer("GET /metrics HTTP/1.1\r\n\r\n"),
	    "HTTP/1.1 200 ");
	assert_contains(out, "{token=\"hxxx");
}

static void
test_metrics_too_small(void **state)
{
	char small[64];

	assert_int_equal(metrics_render(&metrics, 1, small, sizeof small), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_livez, setup, teardown),
		cmocka_unit_test_setup_teardown(test_incomplete_then_too_large,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readyz, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_tokens, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_metrics_of_the_most_tokens,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics_too_small, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
