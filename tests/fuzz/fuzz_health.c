/*
 * fuzz_health.c: the listener's answer to whatever a client sends.
 *
 * The input is fed as the listener receives it, a prefix at a time (split
 * points taken from the input's first byte), until an answer is made.
 * Every answer must be one whole HTTP/1.1 response (check_answer: status
 * line, headers, Content-Length equal to the body's length, no body for
 * HEAD, a body for a 200 to GET, Connection: close), must come at the
 * latest when the request limit is reached, and must never hold a byte of
 * the token on disk.
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

/* The status codes the listener answers with. */
static int
known_status(unsigned status)
{
	return status == 200 || status == 400 || status == 404 ||
	    status == 405 || status == 431 || status == 503;
}

/* The line at out[*at..len) up to CRLF; its length, *at past it. A line
 * without CRLF, or with a control byte, ends the run. */
static size_t
line(size_t *at, size_t len)
{
	size_t start = *at, i;

	for (i = start; i + 1 < len; i++) {
		if (out[i] == '\r' && out[i + 1] == '\n') {
			*at = i + 2;
			return i - start;
		}
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			abort();
	}
	abort();
}

static int
token_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

/* "Name: value": the value's offset, or abort. */
static size_t
header_value(size_t at, size_t n)
{
	size_t i = at;

	while (i < at + n && token_char(out[i]))
		i++;
	if (i == at || i + 2 > at + n || out[i] != ':' || out[i + 1] != ' ')
		abort();
	return i + 2;
}

/* Whether the header's name (start to the colon) is `name`. */
static int
named(size_t start, size_t value, const char *name)
{
	return value - start - 2 == strlen(name) &&
	    memcmp(out + start, name, value - start - 2) == 0;
}

/* A Content-Length value: digits, no leading zero, not absurd. */
static size_t
length_value(size_t v, size_t n)
{
	size_t clen = 0, i;

	if (n == 0 || n > 6 || (out[v] == '0' && n > 1))
		abort();
	for (i = v; i < v + n; i++) {
		if (out[i] < '0' || out[i] > '9')
			abort();
		clen = clen * 10 + (size_t)(out[i] - '0');
	}
	return clen;
}

/*
 * One whole HTTP/1.1 answer to a request (HEAD when `head`): a status
 * line the listener uses, headers with one Content-Length, a Content-Type
 * and Connection: close, then exactly Content-Length bytes of body, none
 * for HEAD, and some for a 200 to GET.
 */
static void
check_answer(size_t len, int head)
{
	size_t at = 0, start, n, v, vlen, body, clen = 0;
	size_t ncl = 0, ntype = 0, nclose = 0;
	unsigned status;

	n = line(&at, len);
	if (n < 14 || memcmp(out, "HTTP/1.1 ", 9) != 0 || out[12] != ' ')
		abort();
	for (v = 9; v < 12; v++)
		if (out[v] < '0' || out[v] > '9')
			abort();
	status = (unsigned)(out[9] - '0') * 100 +
	    (unsigned)(out[10] - '0') * 10 + (unsigned)(out[11] - '0');
	/* A reason phrase, whatever its words. */
	if (!known_status(status) || out[13] == ' ')
		abort();
	for (start = at; (n = line(&at, len)) != 0; start = at) {
		v = header_value(start, n);
		vlen = start + n - v;
		if (named(start, v, "Content-Length")) {
			clen = length_value(v, vlen);
			ncl++;
		} else if (named(start, v, "Content-Type")) {
			ntype++;
		} else if (named(start, v, "Connection")) {
			if (vlen != 5 || memcmp(out + v, "close", 5) != 0)
				abort();
			nclose++;
		}
	}
	body = len - at;
	if (ncl != 1 || ntype != 1 || nclose != 1)
		abort();
	if (head ? body != 0 : body != clen)
		abort();
	if (status == 200 && !head && body == 0)
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
			check_answer(len,
			    n >= 5 && memcmp(in, "HEAD ", 5) == 0);
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
