/*
 * oauth_error.h: what an error response says, as text for one log line.
 *
 * Reads, in this order and leaving out what is absent or empty: RFC 6749
 * section 5.2 `error` and `error_description`, RFC 9457 problem details
 * `title` and `detail`, and a top-level `message` (API Gateway and many
 * others). A body that is not a JSON object is quoted as a short excerpt:
 * bounded, control characters and runs of white space made single
 * spaces. Nothing that looks like a credential is ever quoted: a value or
 * body holding a JWT, or a long run without spaces (a token, a key, a
 * hash), is withheld and only its size reported. A Content-Encoding the
 * sidecar does not decode is named instead of reading the body as text.
 */
#ifndef TB_OAUTH_ERROR_H
#define TB_OAUTH_ERROR_H

#include <stddef.h>

/* Characters of a quoted value or excerpt, at most: an error code and a
 * description this long fit in one ERR_MSG_MAX message after "the
 * exchange server answered HTTP 401: ". */
#define OAUTH_ERROR_FIELD_MAX 160
/* A buffer this large holds any text oauth_error_text writes. */
#define OAUTH_ERROR_TEXT_MAX 1024
/* A run this long without white space is taken for a credential. */
#define OAUTH_ERROR_WORD_MAX 40

/*
 * Write into out[0..cap), NUL-terminated and printable, what the body
 * body[0..len) of an error response says: `error="invalid_client"
 * error_description="..."`, `title="..." detail="..."`, `message="..."`,
 * `body="..."`, or a sentence about the body when nothing can be quoted.
 * `content_type` and `content_encoding` are the headers' values ("" when
 * absent). The caller writes the status before it ("the exchange server
 * answered HTTP 401: " + text).
 */
void oauth_error_text(char *out, size_t cap, const char *content_type,
    const char *content_encoding, const char *body, size_t len);

#endif
