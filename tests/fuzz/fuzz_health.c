/*
 * fuzz_health.c: the listener's answer to whatever a client sends.
 *
 * The input is fed as the listener receives it, a prefix at a time (split
 * points taken from the input's first byte), until an answer is made.
 * Every answer must be one whole HTTP/1.1 response whose Content-Length
 * matches its body, must come at the latest when the request limit is
 * reached, and must never hold a byte of the token on disk.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "health.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A JWT whose payload says {"exp":4102444800}: the year 2100. */
static const char token[] = "eyJhbGciOiJub25lIn0.eyJleHAiOjQxMDI0NDQ4MDB9."
                            "c2VjcmV0LXNpZ25hdHVyZS1ieXRlcw";

static struct health_view view;
static struct metrics metrics;
static struct check_buf check;
static char path[64];
static char out[HEALTH_RESPONSE_MAX];

static void
setup(void)
{
	FILE *f;

	(void)snprintf(path, sizeof path, "/tmp/fuzz-health-%d", (int)getpid());
	if ((f = fopen(path, "w")) == NULL || fputs(token, f) < 0 ||
	    fclose(f) != 0)
		abort();
	metrics.attempts = 3;
	metrics.token_expiry = 4102444800;
	view.metrics = &metrics;
	view.token_path[0] = path;
	view.ntokens = 1;
	view.ready_margin_s = 10;
	view.check = &check;
}

static void
check_answer(size_t len)
{
	const char *body;
	unsigned long clen;

	if (len < 12 || memcmp(out, "HTTP/1.1 ", 9) != 0)
		abort();
	if ((body = memmem(out, len, "\r\n\r\n", 4)) == NULL)
		abort();
	body += 4;
	if (sscanf(strstr(out, "Content-Length: ") + 16, "%lu", &clen) != 1)
		abort();
	/* HEAD: headers only, with the length GET would have. */
	if ((size_t)(out + len - body) != clen && out + len != body)
		abort();
	if (memmem(out, len, "c2VjcmV0", 8) != NULL ||
	    memmem(out, len, "secret", 6) != NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t step, n, len = 0;
	char *in;

	if (view.metrics == NULL)
		setup();
	if (size == 0)
		return 0;
	step = (size_t)data[0] + 1;
	data++;
	size--;
	if (size > HEALTH_REQUEST_MAX)
		size = HEALTH_REQUEST_MAX;
	if ((in = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(in, data, size);
	for (n = step < size ? step : size;;
	     n = n + step < size ? n + step : size) {
		if (health_answer(&view, in, n, out, sizeof out, &len) == 1) {
			check_answer(len);
			break;
		}
		if (n == HEALTH_REQUEST_MAX)
			abort();
		if (n == size)
			break;
	}
	free(in);
	return 0;
}
