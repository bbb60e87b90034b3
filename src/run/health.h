/*
 * health.h: the health and metrics listener (HEALTH_ADDR), served from the
 * event loop.
 *
 * HTTP/1.1 GET and HEAD of /livez, /readyz and /metrics, one request per
 * connection, answered and closed. Hostile clients are bounded: a new
 * connection waits, without buffers, in a ring of HEALTH_PENDING_MAX
 * until it sends a byte (a flood of silent connections only turns the
 * ring over); then it takes one of HEALTH_CLIENTS_MAX slots, in place of
 * the client that has spent longest on its request if all are taken (a
 * slowloris holding every slot cannot lock probes out);
 * HEALTH_REQUEST_MAX bytes of request head, HEALTH_CLIENT_MS for the
 * whole request and answer, and every step is one non-blocking system
 * call, so a flood or a slowloris never holds up a refresh, a signal or
 * another client. Nothing secret is read into an answer: /readyz reads the
 * token file only to find its expiry, and the answers name paths and
 * times, never bytes of a token.
 */
#ifndef TB_HEALTH_H
#define TB_HEALTH_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "config.h"
#include "err.h"
#include "metrics.h"

#define HEALTH_CLIENTS_MAX 4
#define HEALTH_REQUEST_MAX 2048
#define HEALTH_RESPONSE_MAX 49152 /* /metrics of 8 tokens: 44.2 KB at most */
#define HEALTH_CLIENT_MS 2000
/* Connections accepted that have not sent a byte yet. */
#define HEALTH_PENDING_MAX 64
/* Poll slots health_want() fills: the listener, every client, every
 * silent connection. */
#define HEALTH_FDS (1 + HEALTH_CLIENTS_MAX + HEALTH_PENDING_MAX)

/*
 * What the answers are made of; everything outlives the listener. Token i
 * writes token_path[i] and counts in metrics[i], named by metrics[i].name
 * (NULL for the one token of the environment-only configuration).
 */
struct health_view {
	const struct metrics *metrics;
	const char *token_path[CONFIG_TOKENS_MAX];
	size_t ntokens;
	int64_t ready_margin_s; /* READY_MIN_VALIDITY */
	struct check_buf *check;
};

struct health_client {
	int fd; /* -1: the slot is free */
	int64_t deadline;
	size_t in_len;
	size_t out_len;
	size_t out_sent;
	char in[HEALTH_REQUEST_MAX];
	char out[HEALTH_RESPONSE_MAX];
};

/* A connection that has not said anything yet: no buffers. */
struct health_pending {
	int fd; /* -1: free */
	int64_t deadline;
};

struct health {
	int fd; /* the listening socket, -1 for none */
	struct health_view view;
	struct health_client c[HEALTH_CLIENTS_MAX];
	struct health_pending pend[HEALTH_PENDING_MAX]; /* a ring */
	size_t pend_next; /* the ring's oldest, replaced next */
};

/*
 * Bind and listen on `l` (":PORT" listens on IPv6 and IPv4 together, or
 * IPv4 alone where the node has no IPv6). Returns 0, or -1 with err set
 * (ERR_CONFIG when the address is in use or not on this machine).
 */
int health_listen(struct health *h, const struct config_listen *l,
    const struct health_view *view, struct err *err);

/*
 * Fill fds[0..HEALTH_FDS) with what the listener waits for and return how
 * many were filled (HEALTH_FDS, or 0 without a listener); *until is
 * lowered to the earliest client deadline.
 */
size_t health_want(const struct health *h, struct pollfd *fds, int64_t *until);

/*
 * Serve what is ready in fds[0..n) (as filled by health_want(), revents
 * set by poll) and drop clients past their deadline.
 */
void health_step(struct health *h, const struct pollfd *fds, size_t n);

/* Close the listener and every client. */
void health_close(struct health *h);

/*
 * The answer to the request head in[0..len): returns 0 while the head is
 * incomplete and `len` under HEALTH_REQUEST_MAX, else 1 with the whole
 * response (status line, headers, body) in out[0..*out_len). Pure but for
 * /readyz, which reads the token files: ready when every token is, and
 * with ?verbose one line per token.
 */
int health_answer(const struct health_view *v, const char *in, size_t len,
    char *out, size_t cap, size_t *out_len);

#endif
