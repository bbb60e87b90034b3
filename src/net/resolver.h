/*
 * resolver.h: name lookups in a process that never held a secret.
 *
 * getaddrinfo() blocks and cannot be cancelled, so each lookup runs in a
 * process of its own. Forked from the sidecar, such a process would carry
 * a copy of whatever the sidecar held at that moment (the ServiceAccount
 * token, a client secret, a signing key, a TLS client key). Instead one
 * small resolver process is forked at start, before any of them is read
 * (privilege separation, as OpenSSH does it): it forks one worker per
 * request, so lookups stay concurrent, and each worker writes its answer
 * into a pipe the sidecar sent along with the request (SCM_RIGHTS). The
 * sidecar waits on that pipe like on any socket and abandons it at its
 * deadline; the resolver then sees the pipe's reading end closed and kills
 * the worker. The resolver dies with the sidecar (PR_SET_PDEATHSIG), keeps
 * only its socket and stderr, and wipes the environment (a proxy URL may
 * carry a password) from its copy of memory.
 */
#ifndef TB_RESOLVER_H
#define TB_RESOLVER_H

#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "net.h"

/* The sidecar's end of the resolver: caller-owned. */
struct resolver {
	pid_t pid; /* -1: none */
	int fd;    /* SOCK_SEQPACKET to it, or -1 */
};

/*
 * Fork the resolver. Call before any secret is read: its memory is a copy
 * of the caller's at this moment. Returns 0, or -1 with err set (r->pid
 * and r->fd are then -1).
 */
int resolver_start(struct resolver *r, struct err *err);

/*
 * Ask for `host` and `port`: on success *answer_fd is a non-blocking pipe
 * that will carry one struct net_answer (or end without one). Never
 * waits. Returns 0, or -1 with err set (ERR_DNS).
 */
int resolver_ask(const struct resolver *r, const char *host, uint16_t port,
    int *answer_fd, struct err *err);

/*
 * The resolver's socket hung up: reap the process and say how it ended
 * and what the sidecar does about it. Always returns -1 with err set.
 */
int resolver_ended(struct resolver *r, struct err *err);

/* Stop the resolver (SIGKILL, reaped) and close its socket. */
void resolver_stop(struct resolver *r);

/*
 * When `host` is an IPv4 or IPv6 address literal, fill `a` with it and
 * `port` and return 1, without any lookup; else 0.
 */
int resolver_literal(const char *host, uint16_t port, struct net_answer *a);

#endif
