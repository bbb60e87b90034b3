/*
 * fuzz_json.c: json_parse, then every accessor on every token of what it
 * accepts, checking the promises of json.h on the way.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static jsmntok_t tok[JSON_TOKENS_MAX];
	static char out[1 << 17];
	static const char *const keys[] = {
		"access_token",
		"expires_in",
		"error",
		"error_description",
		"",
	};
	struct json_doc d;
	struct err err;
	size_t len, len2;
	uint64_t v;
	int i, m;

	/* A copy of exactly `size` bytes, so that ASan sees any overread. */
	char *text = malloc(size ? size : 1);

	if (text == NULL)
		abort();
	memcpy(text, data, size);
	if (json_parse(&d, text, size, tok, JSON_TOKENS_MAX, &err) != 0) {
		if (err.kind != ERR_RESPONSE || err.msg[0] == '\0')
			abort();
		free(text);
		return 0;
	}
	if (d.count <= 0 || d.count > JSON_TOKENS_MAX)
		abort();
	for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
		m = json_member(&d, keys[k]);
		if (m < -2 || m >= d.count || (m >= 0 && !json_is_object(&d)))
			abort();
	}
	for (i = 0; i < d.count; i++) {
		(void)json_type(&d, i);
		(void)json_uint(&d, i, UINT64_MAX, &v);
		if (json_uint(&d, i, 1000, &v) == 0 && v > 1000)
			abort();
		if (json_string(&d, i, out, sizeof out, &len) != 0)
			continue;
		if (len >= sizeof out || out[len] != '\0')
			abort();
		/* Exactly len + 1 bytes is enough, len is not. */
		if (json_string(&d, i, out, len + 1, &len2) != 0 || len2 != len)
			abort();
		if (json_string(&d, i, out, len, &len2) != -1)
			abort();
	}
	free(text);
	return 0;
}
