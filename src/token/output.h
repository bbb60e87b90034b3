/*
 * output.h: what the token file holds, by OUTPUT_FORMAT.
 *
 * `token` (the default): the access token's bytes as they are. `json`:
 * {"access_token","token_type","expires_at"}, expires_at in Unix seconds,
 * for applications that want the expiry without parsing the token; a
 * token_type the server left empty and an expiry it did not give are left
 * out rather than written as "" or 0. Either is written atomically by
 * tokenfile.c like today's token.
 */
#ifndef TB_OUTPUT_H
#define TB_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"

/* JSON escaping grows a byte to at most six; plus the keys and numbers. */
#define OUTPUT_MAX(token_max) (6 * (token_max) + 6 * 64 + 128)

/* The exchange's result, as the file formats need it. */
struct output_token {
	const char *token; /* the access token's bytes */
	size_t len;
	const char *type;   /* token_type; "" when the server gave none */
	int has_expiry;     /* expires_at is known */
	int64_t expires_at; /* Unix seconds */
};

/*
 * Write the file's content for `format` into out[0..cap), its length in
 * *len: the token itself, or the JSON object. Returns 0, or -1 with err
 * set (ERR_SYSTEM) when it does not fit. The caller wipes `out` after
 * writing it: it holds the token.
 */
int output_render(enum output_format format, const struct output_token *t,
    char *out, size_t cap, size_t *len, struct err *err);

#endif
