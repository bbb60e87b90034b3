/*
 * url.c: the exchange URL and form encoding.
 */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "fmt.h"
#include "url.h"

static int
url_error(struct err *err, const char *why)
{
	return err_set(err, ERR_CONFIG, "%s", why);
}

static int
host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

/* Is the last label all digits, as only an IPv4 address may be? */
static int
numeric_last_label(const char *host)
{
	const char *dot = strrchr(host, '.'), *p;

	p = dot != NULL ? dot + 1 : host;
	if (*p == '\0')
		return 0;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

static int
parse_host(struct url *u, const char *s, size_t n, struct err *err)
{
	unsigned char addr[16];
	size_t i;

	if (n > 0 && s[0] == '[') {
		if (n < 3 || s[n - 1] != ']' || n - 2 >= sizeof u->host)
			return url_error(err,
			    "the IPv6 address is not enclosed in [ ]");
		for (i = 0; i < n - 2; i++)
			u->host[i] = (char)(s[i + 1] >= 'A' && s[i + 1] <= 'F' ?
			        s[i + 1] - 'A' + 'a' :
			        s[i + 1]);
		u->host[n - 2] = '\0';
		if (inet_pton(AF_INET6, u->host, addr) != 1)
			return url_error(err,
			    "the IPv6 address in [ ] is "
			    "not valid (zone identifiers are not supported)");
		u->host_kind = URL_HOST_IPV6;
		return 0;
	}
	if (n == 0)
		return url_error(err, "the host is missing");
	if (n >= sizeof u->host)
		return url_error(err,
		    "the host name is longer than 253 characters");
	for (i = 0; i < n; i++) {
		if (!host_char(s[i]))
			return url_error(err,
			    "the host name holds a "
			    "character other than letters, digits, '-', '_' "
			    "and '.'");
		u->host[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ?
		        s[i] - 'A' + 'a' :
		        s[i]);
	}
	u->host[n] = '\0';
	if (inet_pton(AF_INET, u->host, addr) == 1)
		u->host_kind = URL_HOST_IPV4;
	else if (numeric_last_label(u->host))
		return url_error(err,
		    "the host is not a valid IPv4 address or DNS name");
	else
		u->host_kind = URL_HOST_NAME;
	return 0;
}

static int
parse_port(struct url *u, const char *s, size_t n, struct err *err)
{
	unsigned long port = 0;
	size_t i;

	if (n == 0 || n > 5)
		return url_error(err,
		    "the port is not a number from 1 to 65535");
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return url_error(err,
			    "the port is not a number from 1 to 65535");
		port = port * 10 + (unsigned long)(s[i] - '0');
	}
	if (port == 0 || port > 65535)
		return url_error(err,
		    "the port is not a number from 1 to 65535");
	u->port = (uint16_t)port;
	return 0;
}

static int
parse_authority(struct url *u, const char *s, size_t n, struct err *err)
{
	const char *colon = NULL, *close;
	size_t hostlen;

	if (memchr(s, '@', n) != NULL)
		return url_error(err,
		    "credentials (user@ or user:password@) "
		    "in the URL are not supported: they would show in logs "
		    "and process listings");
	if (n > 0 && s[0] == '[') {
		close = memchr(s, ']', n);
		if (close == NULL)
			return url_error(err,
			    "the IPv6 address is missing its closing ]");
		if (close + 1 < s + n) {
			if (close[1] != ':')
				return url_error(err,
				    "unexpected text after the IPv6 address");
			colon = close + 1;
		}
	} else {
		colon = memchr(s, ':', n);
	}
	hostlen = colon != NULL ? (size_t)(colon - s) : n;
	if (parse_host(u, s, hostlen, err) == -1)
		return -1;
	if (colon != NULL &&
	    parse_port(u, colon + 1, n - hostlen - 1, err) == -1)
		return -1;
	/* The Host header keeps the port only when the URL states it. */
	if (u->host_kind == URL_HOST_IPV6)
		(void)fmt_snprintf(u->authority, sizeof u->authority, "[%s]",
		    u->host);
	else
		(void)fmt_snprintf(u->authority, sizeof u->authority, "%s",
		    u->host);
	if (colon != NULL)
		(void)fmt_snprintf(u->authority + strlen(u->authority),
		    sizeof u->authority - strlen(u->authority), ":%u",
		    (unsigned)u->port);
	return 0;
}

static int
parse_target(struct url *u, const char *s, struct err *err)
{
	size_t n = strcspn(s, "#"), i, off = 0;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return url_error(err,
			    "the path or query holds a "
			    "space, control or non-ASCII character: "
			    "percent-encode it");
	if (n == 0 || s[0] == '?')
		u->target[off++] = '/';
	if (off + n >= sizeof u->target)
		return url_error(err,
		    "the path and query are longer than 2047 characters");
	memcpy(u->target + off, s, n);
	u->target[off + n] = '\0';
	return 0;
}

int
url_parse(struct url *u, const char *text, struct err *err)
{
	const char *p;
	size_t n;

	memset(u, 0, sizeof *u);
	if (strncasecmp(text, "https://", 8) == 0) {
		u->tls = true;
		u->port = 443;
		p = text + 8;
	} else if (strncasecmp(text, "http://", 7) == 0) {
		u->port = 80;
		p = text + 7;
	} else {
		return url_error(err, "the URL must start with https://");
	}
	n = strcspn(p, "/?#");
	if (parse_authority(u, p, n, err) == -1)
		return -1;
	return parse_target(u, p + n, err);
}

static int
unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	    c == '~';
}

/* Encoded length of s[0..n), as form_append writes it. */
static size_t
encoded_len(const char *s, size_t n)
{
	size_t i, len = 0;

	for (i = 0; i < n; i++)
		len += unreserved((unsigned char)s[i]) || s[i] == ' ' ? 1 : 3;
	return len;
}

static size_t
encode(char *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (unreserved(c)) {
			out[o++] = (char)c;
		} else if (c == ' ') {
			out[o++] = '+';
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	return o;
}

int
form_append(char *buf, size_t cap, size_t *len, const char *key,
    const char *value, size_t value_len)
{
	size_t klen = strlen(key), need;

	need = (*len > 0) + encoded_len(key, klen) + 1 +
	    encoded_len(value, value_len);
	if (*len > cap || need > cap - *len)
		return -1;
	if (*len > 0)
		buf[(*len)++] = '&';
	*len += encode(buf + *len, key, klen);
	buf[(*len)++] = '=';
	*len += encode(buf + *len, value, value_len);
	return 0;
}

int
form_escape(char *buf, size_t cap, size_t *len, const char *s, size_t n)
{
	if (*len > cap || encoded_len(s, n) > cap - *len)
		return -1;
	*len += encode(buf + *len, s, n);
	return 0;
}
