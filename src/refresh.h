/*
 * refresh.h: one refresh, from the ServiceAccount token on disk to the
 * access token on disk.
 */
#ifndef TB_REFRESH_H
#define TB_REFRESH_H

#include "config.h"
#include "err.h"
#include "exchange.h"
#include "trust.h"

/*
 * Read the subject token anew, exchange it, write the access token file.
 * Logs success itself; on failure returns -1 with err set for the caller to
 * log, and the token file is as it was.
 */
int refresh_once(const struct config *cfg, const struct trust *trust,
    struct exchange_result *res, struct err *err);

#endif
