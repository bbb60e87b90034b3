/*
 * json.h: strict reading of a JSON object with jsmn.
 *
 * jsmn tokenizes without allocating; this layer adds what jsmn leaves out,
 * so that only RFC 8259 JSON is accepted: one value spanning the text,
 * number and literal grammar, string escapes, no raw control characters,
 * valid UTF-8. Members of the top-level object are found by key; strings are
 * decoded into caller buffers.
 */
#ifndef TB_JSON_H
#define TB_JSON_H

#include <stddef.h>
#include <stdint.h>

#define JSMN_HEADER
#include <jsmn.h>
#undef JSMN_HEADER

#include "err.h"

/* Tokens allowed in one document: ample for any token response. */
#define JSON_TOKENS_MAX 512

struct json_doc {
	const char *text;
	size_t len;
	jsmntok_t *tok;
	int count;
};

/*
 * Parse and validate `text`, which must be one JSON value (any type: the
 * caller checks for an object); tokens go into the caller's array.
 * Returns 0, or -1 with err set (kind ERR_RESPONSE).
 */
int json_parse(struct json_doc *d, const char *text, size_t len, jsmntok_t *tok,
    unsigned ntok, struct err *err);

/* Non-zero when the document's top-level value is an object. */
int json_is_object(const struct json_doc *d);

/*
 * Index of the value of top-level member `key` (compared after decoding
 * the key's escapes). Returns the index, -1 when absent, -2 when the key
 * appears more than once.
 */
int json_member(const struct json_doc *d, const char *key);

/*
 * The same for member `key` of the object at token `obj` (0 is the
 * top-level value): -1 also when token `obj` is not an object.
 */
int json_member_of(const struct json_doc *d, int obj, const char *key);

/*
 * Index of the token after value i and everything inside it: in an
 * object, from a key (i) to the next key is json_next(d, i + 1).
 */
int json_next(const struct json_doc *d, int i);

/* JSMN type of token i. */
int json_type(const struct json_doc *d, int i);

/*
 * Decode string token i into out (NUL-terminated, UTF-8). Returns 0 and the
 * decoded length in *len, or -1 when it is not a string or does not fit
 * in cap - 1 bytes.
 */
int json_string(const struct json_doc *d, int i, char *out, size_t cap,
    size_t *len);

/*
 * As json_string, but a string too long for out is cut to what fits
 * (text for messages, where a prefix beats nothing). Fails only when token
 * i is not a string.
 */
int json_string_prefix(const struct json_doc *d, int i, char *out, size_t cap,
    size_t *len);

/*
 * Read token i as a non-negative integer: a number without fraction or
 * exponent (a fraction is truncated toward zero), or a string holding one.
 * Returns 0, or -1 when it is neither or exceeds `max`.
 */
int json_uint(const struct json_doc *d, int i, uint64_t max, uint64_t *out);

#endif
