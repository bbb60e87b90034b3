/*
 * proxy.h: egress through a forward proxy, as Go's default transport does.
 *
 * Selection follows golang.org/x/net/http/httpproxy (FromEnvironment and
 * ProxyFunc): HTTPS_PROXY, then https_proxy, for an https:// target;
 * HTTP_PROXY, then http_proxy, for an http:// one (the first that is set
 * and not empty wins); NO_PROXY, then no_proxy, lists the hosts reached
 * directly; "localhost" and loopback addresses are never proxied. A proxy
 * value is http://host[:port], https://host[:port] or a bare host[:port]
 * (read as http://), with optional user:password@ sent as
 * Proxy-Authorization: Basic. Where Go silently ignores a value it cannot
 * parse, a bad value is refused here with a sentence naming the variable.
 *
 * For an https:// target the connection to the proxy carries a CONNECT
 * tunnel (proxy_connect_write, then proxy_reader for the answer), and TLS
 * to the target runs inside it. For an http:// target Go sends the request
 * itself to the proxy in absolute form ("POST http://host/path"), with the
 * Proxy-Authorization header, and no CONNECT: `tunnel` says which.
 *
 * Nothing here touches a socket or the clock: the driver owns the I/O.
 */
#ifndef TB_PROXY_H
#define TB_PROXY_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "err.h"
#include "url.h"

/* "Basic " and the base64 of user:password: room for 765 decoded bytes. */
#define PROXY_AUTH_MAX 1027
#define PROXY_SHOWN_MAX (sizeof "https://" + URL_AUTHORITY_MAX)
#define PROXY_REASON_MAX 160
/* The CONNECT answer's status line and headers; the buffer handed to
 * proxy_reader_init must hold at least this much. */
#define PROXY_HEAD_MAX 8192u
/* CONNECT line, Host, User-Agent and Proxy-Authorization always fit. */
#define PROXY_CONNECT_MAX (2 * URL_AUTHORITY_MAX + PROXY_AUTH_MAX + 256)

struct proxy {
	bool tls;    /* https:// proxy: TLS to the proxy before anything */
	bool tunnel; /* CONNECT (https:// target), or absolute form */
	/* host, host_kind and port (explicit or the scheme's default). */
	struct url addr;
	const char *variable;        /* where it came from: "HTTPS_PROXY" .. */
	char shown[PROXY_SHOWN_MAX]; /* "http://host:port": no credentials */
	/* The Proxy-Authorization value, "" without credentials. A secret:
	 * never logged; proxy_wipe clears it. */
	char authorization[PROXY_AUTH_MAX];
	/* When no proxy is used, why, for the start-up log. */
	char reason[PROXY_REASON_MAX];
};

/*
 * Choose how to reach `target` from the environment read through `lookup`.
 * Returns 1 when a proxy is used (every field but `reason` set), 0 when the
 * connection is direct (`reason` says why: no variable set, loopback
 * target, which NO_PROXY variable matched), or -1 with err set (kind
 * ERR_CONFIG) naming the variable when the proxy value is not a usable
 * URL. The value's text is never echoed: it may hold credentials.
 */
int proxy_select(struct proxy *p, const struct url *target,
    config_lookup_fn lookup, struct err *err);

/*
 * Does the NO_PROXY list `list` exempt `target`, with Go's rules? Entries
 * are separated by commas, trimmed of white space and compared without
 * regard to case: "*" matches every host; an IP address or CIDR range
 * matches IP literals (IPv4-mapped IPv6 addresses as their IPv4 form);
 * "example.com" matches it and every name under it, ".example.com" and
 * "*.example.com" only the names under it (a domain entry never matches
 * an IP literal, as in x/net since v0.36.0); an optional ":port" restricts
 * an entry to that port ("[v6]:port" for IPv6). Empty and malformed
 * entries are skipped. Loopback targets are not special here.
 */
bool proxy_no_proxy_match(const char *list, const struct url *target);

/* Clear the credentials from `p`. */
void proxy_wipe(struct proxy *p);

/*
 * Serialize the CONNECT request for `target` into buf[0..cap): request
 * line and Host as "host:port" (port always given, IPv6 in brackets),
 * User-Agent, and Proxy-Authorization when `p` has credentials. Returns 0
 * with the length in *len, or -1 with err set (ERR_SYSTEM) when it does
 * not fit or `user_agent` holds a line break. The buffer then holds the
 * credentials: wipe it once sent.
 */
int proxy_connect_write(const struct proxy *p, const struct url *target,
    const char *user_agent, char *buf, size_t cap, size_t *len,
    struct err *err);

enum proxy_step { PROXY_MORE = 0, PROXY_DONE = 1, PROXY_FAIL = -1 };

/*
 * The CONNECT answer: head only (a 200 to CONNECT has no body). Driven
 * like http_reader: read into proxy_reader_space, then commit the count.
 */
struct proxy_reader {
	const struct proxy *proxy; /* named in messages */
	char *buf;
	size_t cap;
	size_t len;      /* bytes held */
	size_t scan;     /* where the search for the head's end resumes */
	size_t head_len; /* once done: the head's length, blank line included */
	int status;
};

/* Start reading an answer from `p` into buf[0..cap), cap >= PROXY_HEAD_MAX. */
void proxy_reader_init(struct proxy_reader *r, const struct proxy *p, char *buf,
    size_t cap);

/*
 * Where the next read goes, and how much may be read: never more than the
 * head may still take, so the buffer never holds more than PROXY_HEAD_MAX.
 */
char *proxy_reader_space(struct proxy_reader *r, size_t *avail);

/*
 * Account for n bytes read into the space (n == 0: end of stream) and
 * parse as far as possible. Returns PROXY_MORE; PROXY_DONE when the head
 * is complete and says 200 (the tunnel is open); or PROXY_FAIL with err
 * set: ERR_HTTP when the answer is not well-formed HTTP, is over
 * PROXY_HEAD_MAX or ends early; ERR_CONNECT when the proxy refused (407,
 * or 401 as tinyproxy sends: credentials missing or wrong; any other
 * status, 1xx included as Go reads a CONNECT answer, named with its
 * reason phrase).
 */
enum proxy_step proxy_reader_commit(struct proxy_reader *r, size_t n,
    struct err *err);

/*
 * Once done: the bytes read past the head, which belong to the tunnel.
 * A TLS server never speaks first, so a well-behaved proxy leaves none.
 */
const char *proxy_reader_extra(const struct proxy_reader *r, size_t *n);

#endif
