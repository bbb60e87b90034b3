/*
 * loop.h: run mode's one event loop.
 *
 * One ppoll() waits on everything at once: each token's job's socket or
 * resolver pipe, the health listener and its clients, a timer on each
 * clock, and the termination and reload signals. Every source advances by
 * non-blocking steps, so none can hold up another: a stalled token service
 * never delays a probe, a slow probe never delays a refresh, and SIGTERM
 * ends the loop within one wakeup. While nothing is due the process makes
 * no system call at all.
 */
#ifndef TB_LOOP_H
#define TB_LOOP_H

#include "health.h"
#include "refresh.h"
#include "resolver.h"

/*
 * Run the n jobs r[0..n) (1 to CONFIG_TOKENS_MAX), each on its own
 * schedule, and the listener (h->fd -1: none) until SIGTERM or SIGINT.
 * Returns 0, or -1 with err set when the loop cannot start (no timers) or
 * cannot go on: the resolver process `res` (fd -1: none) ended.
 */
int loop_run(struct refresh *r, size_t n, struct health *h,
    struct resolver *res, struct err *err);

#endif
