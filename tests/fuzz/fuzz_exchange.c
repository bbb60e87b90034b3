/*
 * fuzz_exchange.c: exchange_parse_response on a status and a body.
 *
 * Input: an optional "NNN\n" status prefix (200 without one, so that bare
 * JSON seeds are success responses), then the body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exchange.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct exchange_result res;
	struct http_response resp;
	struct err err;
	char *body;
	int status = 200;

	if (size >= 4 && data[3] == '\n' && data[0] >= '0' && data[0] <= '9' &&
	    data[1] >= '0' && data[1] <= '9' && data[2] >= '0' &&
	    data[2] <= '9') {
		status = (data[0] - '0') * 100 + (data[1] - '0') * 10 +
		    (data[2] - '0');
		data += 4;
		size -= 4;
	}
	if ((body = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(body, data, size);
	memset(&resp, 0, sizeof resp);
	resp.status = status;
	resp.body = body;
	resp.body_len = size;
	memset(&err, 0, sizeof err);
	if (exchange_parse_response(&resp, &res, &err) == 0) {
		if (status < 200 || status > 299)
			abort();
		if (res.access_token_len == 0 ||
		    res.access_token_len >= EXCHANGE_TOKEN_MAX ||
		    res.access_token[res.access_token_len] != '\0' ||
		    !printable(res.access_token, res.access_token_len))
			abort();
	} else {
		if (memchr(err.msg, '\0', sizeof err.msg) == NULL ||
		    !printable(err.msg, strlen(err.msg)))
			abort();
		if ((status < 200 || status > 299) != (err.kind == ERR_STATUS))
			abort();
	}
	free(body);
	return 0;
}
