/*
 * check.h: is the token file usable? The probe for images without a
 * shell (startupProbe, readinessProbe), and nothing else: no network, no
 * CA bundle, a few system calls.
 */
#ifndef TB_CHECK_H
#define TB_CHECK_H

#include <stdint.h>

#include "err.h"

#include "exchange.h"

/* A JWT payload worth reading is far smaller than the token limit. */
#define CHECK_PAYLOAD_MAX 8192

/* Where the token is read and decoded, owned by the caller; wiped after. */
struct check_buf {
	char token[EXCHANGE_TOKEN_MAX + 1];
	unsigned char payload[CHECK_PAYLOAD_MAX];
};

/*
 * Decide whether the token at `path` is present, non-empty and valid for
 * at least `margin_s` more seconds at Unix time `now`. The
 * expiry is the JWT `exp` claim when the token is a JWT, else the one the
 * exchange reported, recorded next to the token (tokenfile_expiry_path);
 * with neither, a present token counts as usable. Both files are read only
 * when they are regular files (symlinks followed): a device node or FIFO
 * at the path is never opened for reading. On success *expires_at
 * is the expiry (0 when unknown) and 0 is returned; else -1 with err set
 * to the reason.
 */
int check_token_file(struct check_buf *b, const char *path, int64_t now,
    int64_t margin_s, int64_t *expires_at, struct err *err);

/*
 * The `exp` claim of a JWT (three base64url segments), or -1 when `token`
 * is not a JWT with a numeric exp. The payload is decoded into `payload`.
 */
int64_t check_jwt_exp(const char *token, size_t len,
    unsigned char payload[CHECK_PAYLOAD_MAX]);

#endif
