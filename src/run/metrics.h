/*
 * metrics.h: what the sidecar has done, in Prometheus' text format.
 *
 * Names follow Prometheus' conventions: base units (seconds), `_total`
 * counters, timestamps as Unix seconds, every label value present from the
 * start (a series that appears only after its first failure breaks
 * rate()). The token's expiry is the model of cert-manager's
 * certmanager_certificate_expiration_timestamp_seconds. Nothing secret is
 * kept here, so nothing secret can be served.
 */
#ifndef TB_METRICS_H
#define TB_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Exchange duration histogram bounds, in ms. */
#define METRICS_BUCKETS 12

/*
 * One token's counters and gauges, owned by the caller; zero is the
 * initial state but for the name.
 */
struct metrics {
	const char *name; /* its token="..." label; NULL: no label */
	uint64_t attempts;
	uint64_t failures[ERR_SYSTEM + 1]; /* by enum err_kind */
	uint64_t responses[6];             /* by status class, 1 to 5 */
	uint64_t buckets[METRICS_BUCKETS]; /* cumulative at render */
	uint64_t duration_count;
	uint64_t duration_sum_ms;
	int64_t token_expiry; /* Unix s; 0 unknown */
	int64_t last_success; /* Unix s; 0 never */
	int64_t next_refresh; /* Unix s; 0 none scheduled */
	uint64_t trust_anchors;
	int64_t bundle_loaded; /* Unix s of the last successful load */
	uint64_t bundle_reload_failures;
};

/*
 * Count one exchange that took `ms`, ended with HTTP `status` (0 when no
 * answer came) and failed with `kind` (ERR_NONE on success).
 */
void metrics_exchange(struct metrics *m, uint64_t ms, int status,
    enum err_kind kind);

/*
 * Write the exposition of the n tokens m[0..n) into out[0..cap), each
 * family once with one series per token. Returns the length, or 0 when it
 * does not fit.
 */
size_t metrics_render(const struct metrics *m, size_t n, char *out, size_t cap);

#endif
