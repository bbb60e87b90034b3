/*
 * refresh.c: one refresh, from the ServiceAccount token on disk to the
 * access token on disk.
 */
#include <stdio.h>
#include <string.h>

#include "event.h"
#include "log.h"
#include "refresh.h"
#include "tokenfile.h"

static char subject[EXCHANGE_SUBJECT_MAX];

int
refresh_once(const struct config *cfg, const struct trust *trust,
    struct exchange_result *res, struct err *err)
{
	char expires[24], status[8];
	size_t len = 0;
	int rc;

	/* The kubelet rotates the token: read it anew for every exchange. */
	rc = tokenfile_read_subject(cfg->sa_token_path, subject,
	    sizeof subject, &len, err);
	if (rc == 0) {
		log_secret(LOG_SECRET_SUBJECT, subject, len);
		rc = exchange_token(cfg, trust, subject, len,
		    event_deadline(cfg->exchange_timeout_ms), res, err);
	}
	if (rc == 0) {
		log_secret(LOG_SECRET_ACCESS, res->access_token,
		    res->access_token_len);
		rc = tokenfile_write(cfg->output_token_path, res->access_token,
		    res->access_token_len, cfg->token_file_mode, err);
	}
	if (rc == 0) {
		snprintf(status, sizeof status, "%d", res->http_status);
		if (res->has_expires_in)
			snprintf(expires, sizeof expires, "%llu",
			    (unsigned long long)res->expires_in);
		log_event(LOG_INFO, "token written",
		    "path", cfg->output_token_path,
		    "expires_in", res->has_expires_in ? expires : "unknown",
		    "token_type", res->token_type,
		    "issued_token_type", res->issued_token_type,
		    "status", status, (char *)NULL);
	}
	/*
	 * A server may echo what it was sent into its error text: scrub the
	 * message while the subject token is still known, then forget it.
	 */
	if (rc == -1)
		log_scrub(err->msg, sizeof err->msg);
	log_secret(LOG_SECRET_SUBJECT, NULL, 0);
	explicit_bzero(subject, len);
	return rc;
}
