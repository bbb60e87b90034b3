/*
 * output.c: what the token file holds, by OUTPUT_FORMAT.
 */
#include <string.h>

#include "jsonw.h"
#include "output.h"

int
output_render(enum output_format format, const struct output_token *t,
    char *out, size_t cap, size_t *len, struct err *err)
{
	struct jsonw w;

	if (format == OUTPUT_TOKEN) {
		if (t->len > cap)
			return err_set(err, ERR_SYSTEM,
			    "the access token is longer than %zu bytes", cap);
		memcpy(out, t->token, t->len);
		*len = t->len;
		return 0;
	}
	jsonw_begin(&w, out, cap);
	jsonw_string(&w, "access_token", t->token, t->len);
	if (t->type[0] != '\0')
		jsonw_string(&w, "token_type", t->type, strlen(t->type));
	if (t->has_expiry)
		jsonw_int(&w, "expires_at", t->expires_at);
	if (jsonw_end(&w, len) == -1)
		return err_set(err, ERR_SYSTEM,
		    "the JSON token file would be longer than %zu bytes", cap);
	return 0;
}
