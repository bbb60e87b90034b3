/*
 * proxy.c: egress through a forward proxy, as Go's default transport does.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "fmt.h"
#include "http.h"
#include "proxy.h"

/* user:password after percent-decoding: what PROXY_AUTH_MAX holds. */
#define CREDENTIALS_MAX ((PROXY_AUTH_MAX - sizeof "Basic ") / 4 * 3)
/* Longer NO_PROXY entries cannot match a host of 253 characters. */
#define ENTRY_MAX (URL_HOST_MAX + 16)

/* ---- the proxy URL ---- */

/* A letter, a digit, or one of `more`. */
static int
alnum_or(char c, const char *more)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' && strchr(more, c) != NULL);
}

/* Go's validUserinfo: the bytes url.Parse accepts before the '@'. */
#define USERINFO_MORE "-._:~!$&'()*+,;=%@"
/* An HTTP token's (a header name's) bytes, RFC 9110. */
#define TCHAR_MORE "!#$%&'*+-.^_`|~"

/* The first of two variables that is set and not empty, Go's getEnvAny. */
static const char *
lookup_any(config_lookup_fn lookup, const char *upper, const char *lower,
    const char **name)
{
	const char *v = lookup(upper);

	*name = upper;
	if (v != NULL && *v != '\0')
		return v;
	v = lookup(lower);
	*name = lower;
	return v != NULL && *v != '\0' ? v : NULL;
}

/* Length of a URL scheme followed by "://" at the start of s, or 0. */
static size_t
scheme_len(const char *s)
{
	size_t i = 0;

	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return 0;
	while (alnum_or(s[i], "+-."))
		i++;
	return strncmp(s + i, "://", 3) == 0 ? i : 0;
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (c | 0x20) - 'a' + 10;
	return -1;
}

/* Percent-decode s[0..n) onto out[*o..cap). Returns 0, -1 on a bad
 * escape, or -2 when out is full. */
static int
unescape(unsigned char *out, size_t cap, size_t *o, const char *s, size_t n)
{
	size_t i;
	int hi, lo;

	for (i = 0; i < n; i++) {
		if (*o >= cap)
			return -2;
		if (s[i] != '%') {
			out[(*o)++] = (unsigned char)s[i];
			continue;
		}
		if (i + 2 >= n)
			return -1;
		if ((hi = hex_value(s[i + 1])) < 0 ||
		    (lo = hex_value(s[i + 2])) < 0)
			return -1;
		out[(*o)++] = (unsigned char)(hi << 4 | lo);
		i += 2;
	}
	return 0;
}

/* user[:password] into the Proxy-Authorization value, as Go's basicAuth. */
static int
set_authorization(struct proxy *p, const char *s, size_t n, struct err *err)
{
	unsigned char cred[CREDENTIALS_MAX];
	const char *colon = memchr(s, ':', n);
	size_t user_len = colon != NULL ? (size_t)(colon - s) : n, o = 0, i;
	long w = 0;
	int bad;

	for (i = 0; i < n; i++)
		if (!alnum_or(s[i], USERINFO_MORE))
			return err_set(err, ERR_CONFIG,
			    "%s: the user:password part holds a character that "
			    "must be percent-encoded",
			    p->variable);
	bad = unescape(cred, sizeof cred, &o, s, user_len);
	if (bad == 0 && o == sizeof cred)
		bad = -2;
	if (bad == 0)
		cred[o++] = ':';
	if (bad == 0 && colon != NULL)
		bad = unescape(cred, sizeof cred, &o, colon + 1,
		    n - user_len - 1);
	memcpy(p->authorization, "Basic ", 6);
	if (bad == 0 &&
	    (w = base64_encode(p->authorization + 6,
	         sizeof p->authorization - 7, cred, o, BASE64_STD, 1)) == -1)
		bad = -2;
	if (bad == 0)
		p->authorization[6 + w] = '\0';
	explicit_bzero(cred, sizeof cred);
	if (bad == 0)
		return 0;
	explicit_bzero(p->authorization, sizeof p->authorization);
	if (bad == -1)
		return err_set(err, ERR_CONFIG,
		    "%s: the user:password part holds a %% not followed by two "
		    "hexadecimal digits",
		    p->variable);
	return err_set(err, ERR_CONFIG,
	    "%s: the user:password part is longer than %zu bytes once decoded",
	    p->variable, CREDENTIALS_MAX - 1);
}

static void
set_shown(struct proxy *p)
{
	const char *lb = p->addr.host_kind == URL_HOST_IPV6 ? "[" : "";
	const char *rb = p->addr.host_kind == URL_HOST_IPV6 ? "]" : "";

	(void)fmt_snprintf(p->shown, sizeof p->shown, "%s://%s%s%s:%u",
	    p->tls ? "https" : "http", lb, p->addr.host, rb,
	    (unsigned)p->addr.port);
}

/*
 * Parse the proxy URL as Go's parseProxy does: a value without a scheme
 * is read as http://. Only http and https are accepted.
 */
static int
parse_proxy(struct proxy *p, const char *text, struct err *err)
{
	char hostport[URL_AUTHORITY_MAX + sizeof "https:///"];
	const char *s = text, *at;
	size_t n = scheme_len(text), alen;

	if (n == 5 && strncasecmp(text, "https", 5) == 0)
		p->tls = true;
	else if (n != 0 && (n != 4 || strncasecmp(text, "http", 4) != 0))
		return err_set(err, ERR_CONFIG,
		    "%s: the proxy URL's scheme is not http:// or https:// "
		    "(SOCKS proxies are not supported)",
		    p->variable);
	if (n != 0)
		s += n + 3;
	alen = strcspn(s, "/?#");
	/* A '/', '?' or '#' left unencoded in the password would make the
	 * user name the proxy's host (as Go reads it): logged, resolved. */
	if (strchr(s + alen, '@') != NULL)
		return err_set(err, ERR_CONFIG,
		    "%s: an '@' after the host: percent-encode '/', '?', '#' "
		    "and '@' in the user:password part (%%2F, %%3F, %%23, %%40)",
		    p->variable);
	for (at = s + alen; at > s && at[-1] != '@'; at--)
		;
	if (at > s && set_authorization(p, s, (size_t)(at - s - 1), err) == -1)
		return -1;
	n = alen - (size_t)(at - s);
	/* Go reads an empty port ("host:") as the scheme's default. */
	if (n > 0 && at[n - 1] == ':')
		n--;
	if (n + 10 > sizeof hostport)
		return err_set(err, ERR_CONFIG,
		    "%s: the proxy's host is longer than 253 characters",
		    p->variable);
	(void)fmt_snprintf(hostport, sizeof hostport, "%s://%.*s/",
	    p->tls ? "https" : "http", (int)n, at);
	if (url_parse(&p->addr, hostport, err) == -1)
		return err_wrap(err, "%s is not a usable proxy URL",
		    p->variable);
	set_shown(p);
	return 0;
}

/* ---- NO_PROXY ---- */

/* An address as 16 bytes, IPv4 as IPv4-mapped; v4: it is one (Go's To4). */
struct ip {
	unsigned char b[16];
	bool v4;
};

static bool
ip_parse(struct ip *ip, const char *s)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xff, 0xff };

	memset(ip, 0, sizeof *ip);
	if (inet_pton(AF_INET, s, ip->b + 12) == 1)
		memcpy(ip->b, mapped, sizeof mapped);
	else if (inet_pton(AF_INET6, s, ip->b) != 1)
		return false;
	ip->v4 = memcmp(ip->b, mapped, sizeof mapped) == 0;
	return true;
}

static bool
ip_loopback(const struct ip *ip)
{
	static const unsigned char one[16] = { [15] = 1 };

	return ip->v4 ? ip->b[12] == 127 : memcmp(ip->b, one, 16) == 0;
}

/* Do a and b agree in their first `bits` bits? */
static bool
prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, full) != 0)
		return false;
	return rest == 0 ||
	    ((a[full] ^ b[full]) & (unsigned char)(0xff00 >> rest)) == 0;
}

static void
mask(unsigned char *b, unsigned bits)
{
	unsigned i;

	for (i = 0; i<16; i++, bits = bits> 8 ? bits - 8 : 0)
		b[i] &= bits >= 8 ? 0xff : (unsigned char)(0xff00 >> bits);
}

/*
 * Go's ParseCIDR and IPNet.Contains: the network is masked first; when
 * what is left is IPv4-mapped it holds IPv4 addresses only, with the
 * mask's last 32 bits, and otherwise IPv6 addresses only.
 */
static int
cidr_match(const char *e, const struct ip *ip, bool *match)
{
	char addr[ENTRY_MAX];
	const char *slash = strchr(e, '/'), *d;
	unsigned long bits = 0;
	struct ip net;

	if (slash == NULL || (size_t)(slash - e) >= sizeof addr ||
	    slash[1] == '\0')
		return -1;
	memcpy(addr, e, (size_t)(slash - e));
	addr[slash - e] = '\0';
	for (d = slash + 1; *d >= '0' && *d <= '9' && bits <= 128; d++)
		bits = bits * 10 + (unsigned long)(*d - '0');
	if (*d != '\0' || !ip_parse(&net, addr) ||
	    bits > (strchr(addr, ':') != NULL ? 128u : 32u))
		return -1;
	if (strchr(addr, ':') == NULL)
		bits += 96;
	mask(net.b, (unsigned)bits);
	net.v4 = net.v4 && bits >= 96; /* ::ffff: survived the mask */
	*match = ip != NULL && net.v4 == ip->v4 &&
	    (net.v4 ? prefix_equal(net.b + 12, ip->b + 12,
	                  bits > 96 ? (unsigned)bits - 96 : 0) :
	              prefix_equal(net.b, ip->b, (unsigned)bits));
	return 0;
}

/*
 * Go's net.SplitHostPort: a port after the last colon, the host in
 * brackets when it starts with one. Returns 0, or -1 when e has no port or
 * is malformed. The host is copied out without brackets.
 */
static int
split_host_port(const char *e, char *host, const char **port)
{
	const char *colon = strrchr(e, ':'), *start = e, *end, *rb;

	if (colon == NULL)
		return -1;
	if (e[0] == '[') {
		rb = strchr(e, ']');
		if (rb == NULL || rb + 1 != colon)
			return -1;
		start = e + 1;
		end = rb;
		if (strchr(start, '[') != NULL || strchr(colon, ']') != NULL)
			return -1;
	} else {
		end = colon;
		if (memchr(e, ':', (size_t)(colon - e)) != NULL ||
		    strpbrk(e, "[]") != NULL)
			return -1;
	}
	memcpy(host, start, (size_t)(end - start));
	host[end - start] = '\0';
	*port = colon + 1;
	return 0;
}

static bool
domain_match(const char *host, const char *pattern)
{
	size_t hn = strlen(host), pn;
	bool match_host = pattern[0] != '.';

	if (strncmp(pattern, "*.", 2) == 0)
		pattern++, match_host = false;
	pn = strlen(pattern);
	if (match_host && strcmp(host, pattern) == 0)
		return true;
	/* Suffix ".pattern" (a leading '.' added when missing). */
	if (match_host)
		return hn > pn && host[hn - pn - 1] == '.' &&
		    strcmp(host + hn - pn, pattern) == 0;
	return hn >= pn && strcmp(host + hn - pn, pattern) == 0;
}

/* One NO_PROXY entry e, trimmed and lower-cased, against the target. */
static bool
entry_match(const char *e, const struct url *t, const struct ip *ip)
{
	char host[ENTRY_MAX], port[8];
	const char *pport = "";
	struct ip eip;
	bool match = false;

	if (strcmp(e, "*") == 0)
		return true;
	if (cidr_match(e, ip, &match) == 0)
		return match;
	if (split_host_port(e, host, &pport) == -1) {
		(void)fmt_snprintf(host, sizeof host, "%s", e);
		pport = "";
	}
	if (host[0] == '\0')
		return false;
	(void)fmt_snprintf(port, sizeof port, "%u", (unsigned)t->port);
	if (*pport != '\0' && strcmp(pport, port) != 0)
		return false;
	if (ip_parse(&eip, host))
		return ip != NULL && memcmp(eip.b, ip->b, 16) == 0;
	/* A domain entry never matches an IP target, as in x/net since
	 * v0.36.0 (Go 1.23.7, 1.24.1): "0.1" must not exempt 10.0.0.1. */
	return ip == NULL && domain_match(t->host, host);
}

bool
proxy_no_proxy_match(const char *list, const struct url *target)
{
	char e[ENTRY_MAX];
	struct ip ip;
	bool is_ip = target->host_kind != URL_HOST_NAME &&
	    ip_parse(&ip, target->host);
	const char *s = list, *end;
	size_t n, i;

	while (*s != '\0') {
		n = strcspn(s, ",");
		end = s + n;
		while (s < end && strchr(" \t\n\v\f\r", *s) != NULL)
			s++;
		while (end > s && strchr(" \t\n\v\f\r", end[-1]) != NULL)
			end--;
		if (end > s && (size_t)(end - s) < sizeof e) {
			for (i = 0; s + i < end; i++)
				e[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ?
				        s[i] - 'A' + 'a' :
				        s[i]);
			e[i] = '\0';
			if (entry_match(e, target, is_ip ? &ip : NULL))
				return true;
		}
		s += strcspn(s, ",");
		if (*s == ',')
			s++;
	}
	return false;
}

/* ---- selection ---- */

static int direct(struct proxy *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* No proxy for this target: say why. Returns 0. */
static int
direct(struct proxy *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)fmt_vsnprintf(p->reason, sizeof p->reason, fmt, ap);
	va_end(ap);
	return 0;
}

static bool
never_proxied(const struct url *t)
{
	struct ip ip;

	if (strcmp(t->host, "localhost") == 0)
		return true;
	return t->host_kind != URL_HOST_NAME && ip_parse(&ip, t->host) &&
	    ip_loopback(&ip);
}

int
proxy_select(struct proxy *p, const struct url *target, config_lookup_fn lookup,
    struct err *err)
{
	const char *upper = target->tls ? "HTTPS_PROXY" : "HTTP_PROXY";
	const char *lower = target->tls ? "https_proxy" : "http_proxy";
	const char *value, *list, *method, *list_name;

	memset(p, 0, sizeof *p);
	value = lookup_any(lookup, upper, lower, &p->variable);
	if (value == NULL)
		return direct(p, "neither %s nor %s is set", upper, lower);
	if (parse_proxy(p, value, err) == -1) {
		proxy_wipe(p);
		return -1;
	}
	p->tunnel = target->tls;
	/* Go refuses HTTP_PROXY under CGI, where a client may have set it. */
	method = lookup("REQUEST_METHOD");
	if (!target->tls && method != NULL && *method != '\0') {
		proxy_wipe(p);
		return err_set(err, ERR_CONFIG,
		    "%s is refused because REQUEST_METHOD is set: in a CGI "
		    "environment a client may have set it",
		    p->variable);
	}
	if (never_proxied(target)) {
		proxy_wipe(p);
		return direct(p,
		    "the URL's host %s is localhost or a loopback address, "
		    "never proxied",
		    target->host);
	}
	list = lookup_any(lookup, "NO_PROXY", "no_proxy", &list_name);
	if (list != NULL && proxy_no_proxy_match(list, target)) {
		proxy_wipe(p);
		return direct(p, "%s matches %s", list_name, target->host);
	}
	return 1;
}

void
proxy_wipe(struct proxy *p)
{
	explicit_bzero(p->authorization, sizeof p->authorization);
}

/* ---- CONNECT ---- */

int
proxy_connect_write(const struct proxy *p, const struct url *target,
    const char *user_agent, char *buf, size_t cap, size_t *len, struct err *err)
{
	const char *lb = target->host_kind == URL_HOST_IPV6 ? "[" : "";
	const char *rb = target->host_kind == URL_HOST_IPV6 ? "]" : "";
	int n;

	*len = 0;
	if (strpbrk(user_agent, "\r\n") != NULL)
		return err_set(err, ERR_SYSTEM,
		    "the User-Agent for the CONNECT holds a line break");
	n = fmt_snprintf(buf, cap,
	    "CONNECT %s%s%s:%u HTTP/1.1\r\nHost: %s%s%s:%u\r\n"
	    "User-Agent: %s\r\n%s%s%s\r\n",
	    lb, target->host, rb, (unsigned)target->port, lb, target->host, rb,
	    (unsigned)target->port, user_agent,
	    p->authorization[0] != '\0' ? "Proxy-Authorization: " : "",
	    p->authorization, p->authorization[0] != '\0' ? "\r\n" : "");
	if (n < 0 || (size_t)n >= cap) {
		if (cap > 0)
			explicit_bzero(buf, cap);
		return err_set(err, ERR_SYSTEM,
		    "the CONNECT request is larger than its %zu-byte buffer",
		    cap);
	}
	*len = (size_t)n;
	return 0;
}

void
proxy_reader_init(struct proxy_reader *r, const struct proxy *p, char *buf,
    size_t cap)
{
	memset(r, 0, sizeof *r);
	r->proxy = p;
	r->buf = buf;
	r->cap = cap < PROXY_HEAD_MAX ? cap : PROXY_HEAD_MAX;
}

char *
proxy_reader_space(struct proxy_reader *r, size_t *avail)
{
	*avail = r->cap - r->len;
	return r->buf + r->len;
}

const char *
proxy_reader_extra(const struct proxy_reader *r, size_t *n)
{
	*n = r->len - r->head_len;
	return r->buf + r->head_len;
}

static int
not_http(const struct proxy_reader *r, struct err *err)
{
	unsigned char c = (unsigned char)r->buf[0];

	return err_set(err, ERR_HTTP,
	    "the proxy %s (%s) did not answer the CONNECT with HTTP%s",
	    r->proxy->shown, r->proxy->variable,
	    c == 0x15 || c == 0x16 ?
	        ": it speaks TLS, so write https:// in the variable" :
	        ": is that port a proxy?");
}

/* A header field line, checked as http.c checks them, then ignored. */
static int
field_ok(const char *s, size_t n)
{
	const char *colon = memchr(s, ':', n);
	size_t i;

	if (colon == NULL || colon == s)
		return 0;
	for (i = 0; s + i < colon; i++)
		if (!alnum_or(s[i], TCHAR_MORE))
			return 0;
	return http_printable(colon + 1, n - (size_t)(colon - s) - 1);
}

/* Length of the line at `from` without its CRLF or LF; *next after it. */
static size_t
line_at(const struct proxy_reader *r, size_t from, size_t *next)
{
	const char *nl = memchr(r->buf + from, '\n', r->len - from);
	size_t n;

	*next = (size_t)(nl - r->buf) + 1;
	n = (size_t)(nl - (r->buf + from));
	return n > 0 && r->buf[from + n - 1] == '\r' ? n - 1 : n;
}

static int
status_line(struct proxy_reader *r, const char *s, size_t n)
{
	if (n < 12 || memcmp(s, "HTTP/1.", 7) != 0 ||
	    (s[7] != '0' && s[7] != '1') || s[8] != ' ' || s[9] < '1' ||
	    s[9] > '5' || s[10] < '0' || s[10] > '9' || s[11] < '0' ||
	    s[11] > '9' || (n > 12 && s[12] != ' ') || !http_printable(s, n))
		return -1;
	r->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
	return 0;
}

static int
refused(const struct proxy_reader *r, const char *line, size_t n,
    struct err *err)
{
	const struct proxy *p = r->proxy;
	char reason[65];
	size_t i;

	/* The reason phrase, bounded, tabs as spaces: one clean line. */
	for (i = 0; i + 13 < n && i < sizeof reason - 1; i++) {
		reason[i] = line[13 + i];
		if (reason[i] == '\t')
			reason[i] = ' ';
	}
	reason[i] = '\0';
	/* tinyproxy answers wrong credentials with 401, missing ones 407. */
	if (r->status == 407 || r->status == 401)
		return err_set(err, ERR_CONNECT,
		    "the proxy %s (%s) answered %d: the credentials %s",
		    p->shown, p->variable, r->status,
		    p->authorization[0] != '\0' ?
		        "in the variable are wrong" :
		        "are missing (give them as user:password@ in the URL)");
	return err_set(err, ERR_CONNECT,
	    "the proxy %s (%s) refused the tunnel with status %d%s%s", p->shown,
	    p->variable, r->status, i > 0 ? " " : "", reason);
}

/* The whole head is in buf[0..end): check it and judge the status. */
static enum proxy_step
parse_head(struct proxy_reader *r, size_t end, struct err *err)
{
	size_t pos, next, n, first;

	if (memchr(r->buf, '\0', end) != NULL)
		return err_set(err, ERR_HTTP,
		    "the answer of the proxy %s holds a NUL byte",
		    r->proxy->shown);
	first = line_at(r, 0, &pos);
	if (status_line(r, r->buf, first) == -1)
		return not_http(r, err);
	for (; pos < end; pos = next) {
		n = line_at(r, pos, &next);
		if (n == 0)
			break;
		if (!field_ok(r->buf + pos, n))
			return err_set(err, ERR_HTTP,
			    "the proxy %s answered with a malformed header line",
			    r->proxy->shown);
	}
	r->head_len = end;
	if (r->status != 200)
		return refused(r, r->buf, first, err);
	return PROXY_DONE;
}

enum proxy_step
proxy_reader_commit(struct proxy_reader *r, size_t n, struct err *err)
{
	size_t next, len;

	r->len += n;
	if (memcmp(r->buf, "HTTP/", r->len < 5 ? r->len : 5) != 0)
		return not_http(r, err);
	while (memchr(r->buf + r->scan, '\n', r->len - r->scan) != NULL) {
		len = line_at(r, r->scan, &next);
		if (len == 0 && r->scan > 0)
			return parse_head(r, next, err);
		/* Lines are checked once the whole head is in. */
		r->scan = next;
	}
	if (r->len >= r->cap)
		return err_set(err, ERR_HTTP,
		    "the answer of the proxy %s is over %zu bytes without the "
		    "end of its headers",
		    r->proxy->shown, r->cap);
	if (n == 0)
		return err_set(err, ERR_HTTP,
		    r->len == 0 ? "the proxy %s closed the connection without "
		                  "answering the CONNECT" :
		                  "the proxy %s closed the connection in the "
		                  "middle of its answer",
		    r->proxy->shown);
	return PROXY_MORE;
}
