/*
 * err.c: errors as values.
 */
#include <stdarg.h>
#include <string.h>

#include "err.h"
#include "fmt.h"

/* The functions themselves, not the analyzer's view of them (err.h). */
#undef err_set
#undef err_wrap

int
err_set(struct err *err, enum err_kind kind, const char *fmt, ...)
{
	va_list ap;

	err->kind = kind;
	va_start(ap, fmt);
	(void)fmt_vsnprintf(err->msg, sizeof err->msg, fmt,
	    ap); /* cut if long */
	va_end(ap);
	return -1;
}

int
err_wrap(struct err *err, const char *fmt, ...)
{
	char prefix[ERR_MSG_MAX], old[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)fmt_vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof old);
	(void)fmt_snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old);
	return -1;
}

const char *
err_kind_name(enum err_kind kind)
{
	static const char *const names[] = {
		[ERR_NONE] = "none",
		[ERR_CONFIG] = "config",
		[ERR_FILE] = "file",
		[ERR_TRUST] = "trust",
		[ERR_DNS] = "dns",
		[ERR_CONNECT] = "connect",
		[ERR_TIMEOUT] = "timeout",
		[ERR_TLS] = "tls",
		[ERR_HTTP] = "http",
		[ERR_STATUS] = "status",
		[ERR_RESPONSE] = "response",
		[ERR_INTERRUPTED] = "interrupted",
		[ERR_SYSTEM] = "system",
	};

	if ((unsigned)kind >= sizeof names / sizeof names[0])
		return "unknown";
	return names[kind];
}
