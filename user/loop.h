/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The plumbing of the poll loops of run and watch: signals read from a
 * signalfd and a periodic timerfd.
 */
#ifndef IPSM_LOOP_H
#define IPSM_LOOP_H

/*
 * Block SIGINT, SIGTERM and SIGHUP in this thread, and so in every thread
 * started after it. Call it before any thread exists: a thread with them
 * unblocked would die of them instead of the signalfd reading them.
 */
void loop_block_signals(void);
/* A signalfd for the blocked signals (blocking them too); -errno on failure. */
int loop_signalfd(void);
/* The signal waiting on sfd, 0 if none could be read. */
int loop_signal(int sfd);
/* A CLOCK_MONOTONIC timerfd firing every ms; -errno on failure. */
int loop_timerfd(unsigned int ms);
/* Restart the timer with a new period. */
void loop_set_interval(int tfd, unsigned int ms);

#endif
