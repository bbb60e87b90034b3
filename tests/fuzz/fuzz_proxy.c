/*
 * fuzz_proxy.c: the CONNECT answer reader and proxy selection.
 *
 * Input: one byte; when even, the rest is a CONNECT answer: one byte k,
 * then k bytes of piece sizes (cycled; 0 means 1), then the answer, fed in
 * those pieces and whole; both feeds must agree on the outcome and the
 * message, and the reader never holds more than PROXY_HEAD_MAX. When odd,
 * the rest is three NUL-separated values: the target URL, HTTPS_PROXY (or
 * HTTP_PROXY for an http:// target) and NO_PROXY; whatever is chosen must
 * be printable, the CONNECT for it must fit PROXY_CONNECT_MAX, and the
 * credentials must be gone after proxy_wipe or a refusal.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy.h"

struct outcome {
	enum proxy_step step;
	int status;
	size_t extra;
	struct err err;
};

static void
feed(const struct proxy *p, const uint8_t *in, size_t len, const uint8_t *sizes,
    size_t nsizes, struct outcome *o)
{
	static char buf[PROXY_HEAD_MAX];
	struct proxy_reader r;
	size_t off = 0, i = 0, avail, n;
	char *space;

	memset(o, 0, sizeof *o);
	proxy_reader_init(&r, p, buf, sizeof buf);
	o->step = PROXY_MORE;
	while (o->step == PROXY_MORE) {
		space = proxy_reader_space(&r, &avail);
		if (avail == 0)
			abort();
		n = nsizes == 0 ? len - off : sizes[i++ % nsizes];
		if (n == 0)
			n = 1;
		if (n > avail)
			n = avail;
		if (n > len - off)
			n = len - off;
		memcpy(space, in + off, n);
		off += n;
		o->step = proxy_reader_commit(&r, n, &o->err);
	}
	if (r.len > PROXY_HEAD_MAX)
		abort();
	o->status = r.status;
	if (o->step == PROXY_DONE) {
		(void)proxy_reader_extra(&r, &o->extra);
		if (r.status != 200 || r.head_len + o->extra != r.len)
			abort();
	}
}

static void
printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			abort();
}

static void
fuzz_answer(const uint8_t *data, size_t size)
{
	struct proxy p;
	struct outcome whole, split;
	size_t k;

	memset(&p, 0, sizeof p);
	memcpy(p.shown, "http://proxy:3128", sizeof "http://proxy:3128");
	p.variable = "HTTPS_PROXY";
	if (size == 0)
		return;
	k = data[0];
	if (k > size - 1)
		k = size - 1;
	feed(&p, data + 1 + k, size - 1 - k, NULL, 0, &whole);
	feed(&p, data + 1 + k, size - 1 - k, data + 1, k, &split);
	if (whole.step != split.step || whole.status != split.status ||
	    strcmp(whole.err.msg, split.err.msg) != 0)
		abort();
	if (whole.step == PROXY_FAIL)
		printable(whole.err.msg);
}

/* No byte of the credentials left. */
static void
wiped(const struct proxy *p)
{
	for (size_t i = 0; i < sizeof p->authorization; i++)
		if (p->authorization[i] != 0)
			abort();
}

static const char *env[3]; /* target, proxy, NO_PROXY */

static const char *
lookup(const char *name)
{
	if (strcmp(name, "HTTPS_PROXY") == 0 || strcmp(name, "HTTP_PROXY") == 0)
		return env[1];
	if (strcmp(name, "no_proxy") == 0)
		return env[2];
	return NULL;
}

static void
fuzz_select(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 3), *s;
	char buf[PROXY_CONNECT_MAX];
	struct proxy p;
	struct url t;
	struct err err;
	size_t len, i;
	int rc;

	if (text == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = text[size + 1] = text[size + 2] = '\0';
	for (s = text, i = 0; i < 3; i++, s += strlen(s) + 1)
		env[i] = s;
	if (url_parse(&t, env[0], &err) == 0) {
		rc = proxy_select(&p, &t, lookup, &err);
		if (rc == -1) {
			printable(err.msg);
			wiped(&p);
		} else if (rc == 0) {
			printable(p.reason);
		} else {
			printable(p.shown);
			if (strchr(p.shown, '@') != NULL ||
			    proxy_connect_write(&p, &t, "tokenbridge-sidecar/x",
			        buf, sizeof buf, &len, &err) == -1)
				abort();
			proxy_wipe(&p);
			wiped(&p);
		}
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] % 2 == 0)
		fuzz_answer(data + 1, size - 1);
	else
		fuzz_select(data + 1, size - 1);
	return 0;
}
