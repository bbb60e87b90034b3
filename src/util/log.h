/*
 * log.h: one structured line per event on stderr.
 *
 * Records are a message plus key/value string pairs, printed as logfmt
 * (`time=... level=info msg="..." key=value`) or as one JSON object.
 * Values are escaped and bounded. Secrets registered with log_secret() are
 * replaced by "[REDACTED]" wherever they or a piece of them (8 bytes or
 * more) would appear, as a second line of defence: no caller passes a
 * token to the logger in the first place, but a server may quote one back.
 */
#ifndef TB_LOG_H
#define TB_LOG_H

#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_TEXT, LOG_JSON };

/* Set format and minimum level (defaults: text, info). */
void log_setup(enum log_format format, enum log_level min_level);

/*
 * Emit one record: `msg`, then pairs of (const char *key, const char *value)
 * ended by a NULL key. A NULL value prints as an empty string.
 */
void log_event(enum log_level level, const char *msg, ...)
    __attribute__((sentinel));

/*
 * Register a secret of the current job (log_job(); at most LOG_SECRETS of
 * them, by slot): every occurrence of these bytes in a record is redacted,
 * whichever job the record is about. The bytes are copied by reference:
 * the caller keeps the buffer alive until it clears the slot with len 0.
 */
#define LOG_SECRETS 7
enum log_secret_slot {
	LOG_SECRET_SUBJECT = 0,
	LOG_SECRET_ACCESS,
	LOG_SECRET_ACTOR,
	LOG_SECRET_CLIENT,    /* the client secret */
	LOG_SECRET_ASSERTION, /* a signed client assertion */
	LOG_SECRET_PROXY,     /* the proxy's Basic credentials, in base64 */
	LOG_SECRET_BASIC      /* client_secret_basic's id:secret, in base64 */
};
void log_secret(enum log_secret_slot slot, const char *secret, size_t len);

/*
 * Records from now on are about job `index` (< LOG_JOBS; 0 is the only
 * job without a configuration file) and carry token=<name> after msg
 * (name NULL: no such field); log_secret() fills that job's slots. Each
 * token's job says so whenever it runs, so lines logged below it (the
 * exchange, TLS) name their token too.
 */
#define LOG_JOBS 8
void log_job(size_t index, const char *name);

/*
 * Write len bytes of buf to the descriptor fd, across short writes: what
 * the log lines, the usage and the version go out with (no stdio).
 * Returns 0, or -1 when a write fails or writes nothing.
 */
int log_write_all(int fd, const char *buf, size_t len);

/* Format Unix time `t` as RFC 3339 UTC ("2026-01-02T03:04:05Z"). */
void log_format_time(char *out, size_t cap, int64_t t);

#endif
