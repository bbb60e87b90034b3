/*
 * url.h: the exchange URL and form encoding.
 *
 * Only what a token endpoint needs: scheme http or https, a host (DNS
 * name, IPv4 literal or bracketed IPv6 literal), an optional port, and
 * path with query. Userinfo is refused (credentials in an environment
 * variable end up in logs and process listings); a fragment is dropped, as
 * clients never send it.
 */
#ifndef TB_URL_H
#define TB_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define URL_HOST_MAX 254      /* a DNS name's 253 characters and the NUL */
#define URL_TARGET_MAX 2048   /* path and query */
#define URL_AUTHORITY_MAX 264 /* [host]:port */

enum url_host_kind { URL_HOST_NAME, URL_HOST_IPV4, URL_HOST_IPV6 };

struct url {
	bool tls; /* https */
	enum url_host_kind host_kind;
	char host[URL_HOST_MAX]; /* lower case, no brackets */
	uint16_t port;           /* explicit or the scheme's default */
	char authority[URL_AUTHORITY_MAX]; /* the Host header's value */
	char target[URL_TARGET_MAX];       /* "/" when the URL has no path */
};

/*
 * Parse an absolute http or https URL into `u`. Returns 0, or -1 with err
 * set (kind ERR_CONFIG) naming what is wrong with the text. The URL text is
 * not echoed beyond the part that failed.
 */
int url_parse(struct url *u, const char *text, struct err *err);

/*
 * Append `key=value` to an application/x-www-form-urlencoded body in
 * buf[*len..cap), with a '&' first when *len > 0. Encoding is Go's
 * url.QueryEscape, byte for byte: [A-Za-z0-9-_.~] kept, space as '+',
 * every other byte as %XX (upper-case hex). Returns 0, or -1 when the
 * result would not fit (buf is then unchanged past the old *len).
 */
int form_append(char *buf, size_t cap, size_t *len, const char *key,
    const char *value, size_t value_len);

/*
 * Append s[0..n), encoded as form_append encodes a value, to
 * buf[*len..cap) (the client id and secret of RFC 6749 section 2.3.1,
 * before Basic). Returns 0, or -1 when it would not fit (buf unchanged).
 */
int form_escape(char *buf, size_t cap, size_t *len, const char *s, size_t n);

#endif
