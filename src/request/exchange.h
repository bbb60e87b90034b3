/*
 * exchange.h: one RFC 8693 token exchange.
 *
 * Builds the form the original sidecar sends (keys in Go's sorted order:
 * audience, grant_type, subject_token, subject_token_type), posts it over
 * HTTPS (or plain HTTP where allowed), and reads the RFC 8693 / RFC 6749
 * answer. Knows nothing of files: the subject token comes in, the access
 * token goes out, both in caller buffers.
 */
#ifndef TB_EXCHANGE_H
#define TB_EXCHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "http.h"
#include "grant.h"
#include "net.h"
#include "proxy.h"
#include "tls.h"
#include "trust.h"

#define EXCHANGE_TOKEN_MAX (32u * 1024)   /* access token, decoded */
#define EXCHANGE_SUBJECT_MAX (16u * 1024) /* ServiceAccount token */
#define EXCHANGE_TEXT_MAX 200             /* server text kept for logs */
/* The form with every field at its limit, and the request's head. */
#define EXCHANGE_FORM_MAX GRANT_FORM_MAX
#define EXCHANGE_REQUEST_MAX \
	(EXCHANGE_FORM_MAX + GRANT_AUTHORIZATION_MAX + 4096)

struct exchange_result {
	char access_token[EXCHANGE_TOKEN_MAX];
	size_t access_token_len;
	bool has_expires_in;
	uint64_t expires_in; /* seconds */
	char token_type[64];
	char issued_token_type[128];
	int http_status;      /* 0 when no response arrived */
	uint64_t retry_after; /* seconds, 0 when none */
};

enum exchange_phase {
	EXCHANGE_DIAL,      /* resolving, then connecting (to the proxy) */
	EXCHANGE_PROXY_TLS, /* an https:// proxy: the handshake with it */
	EXCHANGE_CONNECT,   /* the CONNECT request, then its answer */
	EXCHANGE_TLS,       /* the handshake with the token service */
	EXCHANGE_HTTP,      /* the request, then the response */
	EXCHANGE_DONE
};

/*
 * One exchange in flight, owned by the caller. The buffers are large
 * (about 230 KiB) but only what an exchange uses becomes resident: keep
 * the struct in static storage, not on the stack.
 */
struct exchange {
	const struct config *cfg;
	const struct trust *trust;
	const struct proxy *proxy; /* NULL: straight to the token service */
	const struct resolver *resolver;
	const struct tls_client *client; /* mTLS; NULL for none */
	struct exchange_result *res;
	enum exchange_phase phase;
	int64_t deadline; /* event_now() ms */
	short events;     /* what the stream waits for */
	bool tls_started;
	bool proxy_tls_started;
	struct net_dial dial;
	struct net_conn conn;
	struct stream sock;
	struct stream proxy_stream; /* TLS to an https:// proxy */
	struct stream tls_stream;
	struct stream *hop; /* to the first hop: sock or proxy_stream */
	struct stream *s;   /* the one HTTP runs over */
	struct tls_conn tls;
	struct tls_conn proxy_tls;
	struct proxy_reader connect_reader;
	size_t connect_len;
	size_t connect_sent;
	char via[PROXY_SHOWN_MAX + 16];              /* the peer, in messages */
	char authorization[GRANT_AUTHORIZATION_MAX]; /* client_secret_basic */
	char connect[PROXY_CONNECT_MAX];
	char connect_answer[PROXY_HEAD_MAX];
	struct http_call call;
	struct http_reader reader;
	struct http_response resp;
	size_t form_len;
	size_t req_len;
	char form[EXCHANGE_FORM_MAX];
	char request[EXCHANGE_REQUEST_MAX];
	char response[HTTP_READER_BUF];
};

/* Return values of exchange_step(). */
#define EXCHANGE_MORE 0
#define EXCHANGE_OK 1

/*
 * Bind `x` to what every exchange of one token uses: its configuration,
 * the trust anchors, the proxy (NULL: straight to the token service) and
 * the resolver process for names, which all outlive it. Once, before the
 * first exchange.
 */
void exchange_init(struct exchange *x, const struct config *cfg,
    const struct trust *trust, const struct proxy *proxy,
    const struct resolver *resolver);

/*
 * Start the request `g` describes (grant_form(); every string and byte
 * string it points to is copied into the request) before `deadline`
 * (event_now() ms), offering `client` (NULL: none) when the server asks
 * for a certificate; the answer goes into `res`. client and res outlive
 * the exchange. Returns EXCHANGE_MORE, or -1 with err set; exchange_end()
 * is due either way.
 */
int exchange_begin(struct exchange *x, const struct grant *g,
    const struct tls_client *client, int64_t deadline,
    struct exchange_result *res, struct err *err);

/*
 * The descriptor to wait on (-1 for none), for which events, and the time
 * after which exchange_step() is due even if it never becomes ready.
 */
void exchange_want(const struct exchange *x, int *fd, short *events,
    int64_t *until);

/*
 * Go on after the descriptor became ready (`revents`, from poll) or the
 * time from exchange_want() passed (`revents` 0). Returns EXCHANGE_MORE to
 * wait again, EXCHANGE_OK with res filled, or -1 with err set (ERR_DNS ...
 * ERR_RESPONSE) and res->http_status and res->retry_after filled where
 * the server answered. After EXCHANGE_OK or -1 the connection is closed.
 */
int exchange_step(struct exchange *x, short revents, struct err *err);

/* Close the connection and stop the resolver, if any: the work ends. */
void exchange_close(struct exchange *x);

/* Close, and wipe every byte of both tokens the exchange held. */
void exchange_end(struct exchange *x);

/*
 * Read a token response body (status already known) into `res`. Split out
 * so that parsing is tested and fuzzed without a network. For a non-2xx
 * status, fills err (ERR_STATUS) with the RFC 6749 `error` and
 * `error_description`, cleaned of control characters and bounded; the raw
 * body is never copied into a message.
 */
int exchange_parse_response(const struct http_response *resp,
    struct exchange_result *res, struct err *err);

#endif
