/*
 * exchange.h: one RFC 8693 token exchange.
 *
 * Builds the form the original sidecar sends (keys in Go's sorted order:
 * audience, grant_type, subject_token, subject_token_type), posts it over
 * HTTPS (or plain HTTP where allowed), and reads the RFC 8693 / RFC 6749
 * answer. Knows nothing of files: the subject token comes in, the access
 * token goes out, both in caller buffers.
 */
#ifndef TB_EXCHANGE_H
#define TB_EXCHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "http.h"
#include "trust.h"

#define EXCHANGE_TOKEN_MAX (32u * 1024)   /* access token, decoded */
#define EXCHANGE_SUBJECT_MAX (16u * 1024) /* ServiceAccount token */
#define EXCHANGE_TEXT_MAX 200             /* server text kept for logs */

struct exchange_result {
	char access_token[EXCHANGE_TOKEN_MAX];
	size_t access_token_len;
	bool has_expires_in;
	uint64_t expires_in; /* seconds */
	char token_type[64];
	char issued_token_type[128];
	int http_status;      /* 0 when no response arrived */
	uint64_t retry_after; /* seconds, 0 when none */
};

/*
 * Exchange `subject` (len bytes, no trailing newline) at cfg->url before
 * `deadline` (monotonic ms). On success fills `res` and returns 0; else -1
 * with err set (ERR_DNS ... ERR_RESPONSE) and res->http_status and
 * res->retry_after filled where the server answered.
 */
int exchange_token(const struct config *cfg, const struct trust *trust,
    const char *subject, size_t subject_len, int64_t deadline,
    struct exchange_result *res, struct err *err);

/*
 * Read a token response body (status already known) into `res`. Split out
 * so that parsing is tested and fuzzed without a network. For a non-2xx
 * status, fills err (ERR_STATUS) with the RFC 6749 `error` and
 * `error_description`, cleaned of control characters and bounded; the raw
 * body is never copied into a message.
 */
int exchange_parse_response(const struct http_response *resp,
    struct exchange_result *res, struct err *err);

#endif
