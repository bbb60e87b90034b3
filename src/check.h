/*
 * check.h: is the token file usable? The probe for images without a
 * shell (startupProbe, readinessProbe), and nothing else: no network, no
 * CA bundle, a few system calls.
 */
#ifndef TB_CHECK_H
#define TB_CHECK_H

#include <stdint.h>

#include "err.h"

/* A token this close to its expiry no longer counts as usable. */
#define CHECK_MIN_VALIDITY_S 10

/*
 * Decide whether the token at `path` is present, non-empty and valid for
 * at least CHECK_MIN_VALIDITY_S more seconds at Unix time `now`. The
 * expiry is the JWT `exp` claim when the token is a JWT, else the one the
 * exchange reported, recorded next to the token (tokenfile_expiry_path);
 * with neither, a present token counts as usable. On success *expires_at
 * is the expiry (0 when unknown) and 0 is returned; else -1 with err set
 * to the reason.
 */
int check_token_file(const char *path, int64_t now, int64_t *expires_at,
    struct err *err);

/*
 * The `exp` claim of a JWT (three base64url segments), or -1 when `token`
 * is not a JWT with a numeric exp.
 */
int64_t check_jwt_exp(const char *token, size_t len);

#endif
