/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The wait loop of run and watch: SIGINT/SIGTERM end it, SIGHUP reopens the
 * output, a periodic timer ticks, and extra file descriptors (XFRM events,
 * terminal keys) have their own handlers. One loop, so both commands treat
 * signals, errors and a gone reader alike.
 */
#ifndef IPSM_LOOP_H
#define IPSM_LOOP_H

#include <stdbool.h>

#include "stream.h"

/* What a handler returns besides 0 (go on) and a negative errno (end with it). */
#define LOOP_TICK 1 /* run the tick handler now */
#define LOOP_STOP 2 /* end the loop without an error */

#define LOOP_MAX_FDS 2

typedef int (*loop_fn)(void *ctx);

struct loop {
	unsigned int interval_ms;
	loop_fn on_tick; /* every interval, and when a handler asks */
	struct ipsm_stream *out; /* reopened on SIGHUP */
	struct {
		int fd;
		loop_fn fn;
		bool timer; /* made by loop_add_timer(): read and closed here */
	} fds[LOOP_MAX_FDS];
	int n_fds;
	void *ctx;
	/* Private to loop.c. */
	int sfd, tfd;
};

/*
 * Block SIGINT, SIGTERM and SIGHUP in this thread, and so in every thread
 * started after it. Call it before any thread exists: a thread with them
 * unblocked would die of them instead of the signalfd reading them.
 */
void loop_block_signals(void);
/* Create the signalfd and the timer (blocking the signals); 0 or -errno. */
int loop_open(struct loop *l);
/* Handle events until a signal ends it (0), a handler stops it, or an error. */
int loop_run(struct loop *l);
/* A second periodic handler, every ms, for work that must not wait for a tick. */
int loop_add_timer(struct loop *l, unsigned int ms, loop_fn fn);
/* Restart the timer with a new period. */
void loop_set_interval(struct loop *l, unsigned int ms);
void loop_close(struct loop *l);

#endif
