/*
 * fuzz_http.c: the incremental response reader, fed in pieces.
 *
 * Input: one byte k, then k bytes of piece sizes (cycled; 0 means 1), then
 * the response. The same response is also fed whole, and both feeds must
 * agree: a parser whose answer depends on how reads split is broken.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

struct outcome {
	enum http_step step;
	int status;
	size_t body_len;
	char *body; /* a copy */
};

static void
feed(const uint8_t *in, size_t len, const uint8_t *sizes, size_t nsizes,
    struct outcome *o)
{
	char *buf = malloc(HTTP_READER_BUF);
	struct http_reader r;
	struct http_response resp;
	struct err err;
	enum http_step step = HTTP_MORE;
	size_t off = 0, i = 0, avail, n;
	char *space;

	if (buf == NULL)
		abort();
	http_reader_init(&r, buf, HTTP_READER_BUF, &resp);
	while (step == HTTP_MORE && off < len) {
		space = http_reader_space(&r, &avail);
		/* Within the limits the buffer never fills up. */
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
		step = http_reader_commit(&r, n, &err);
	}
	if (step == HTTP_MORE)
		step = http_reader_commit(&r, 0, &err);
	if (step == HTTP_MORE)
		abort();
	o->step = step;
	o->status = step == HTTP_DONE ? resp.status : 0;
	o->body_len = step == HTTP_DONE ? resp.body_len : 0;
	o->body = malloc(o->body_len + 1);
	if (o->body == NULL)
		abort();
	if (o->body_len > 0) {
		if (o->body_len > HTTP_BODY_MAX)
			abort();
		memcpy(o->body, resp.body, o->body_len);
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome whole, split;
	size_t k;

	if (size == 0)
		return 0;
	k = data[0];
	if (k > size - 1)
		k = size - 1;
	feed(data + 1 + k, size - 1 - k, NULL, 0, &whole);
	feed(data + 1 + k, size - 1 - k, data + 1, k, &split);
	if (whole.step != split.step || whole.status != split.status ||
	    whole.body_len != split.body_len ||
	    memcmp(whole.body, split.body, whole.body_len) != 0)
		abort();
	free(whole.body);
	free(split.body);
	return 0;
}
