// SPDX-License-Identifier: GPL-2.0
/* The signalfd/timerfd/poll loop shared by run and watch. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>

#include "loop.h"

static void loop_mask(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGHUP);
}

void loop_block_signals(void)
{
	sigset_t mask;

	loop_mask(&mask);
	sigprocmask(SIG_BLOCK, &mask, NULL);
}

static void set_period(int fd, unsigned int ms)
{
	struct itimerspec its = {};

	its.it_interval.tv_sec = ms / 1000;
	its.it_interval.tv_nsec = (ms % 1000) * 1000000L;
	its.it_value = its.it_interval;
	timerfd_settime(fd, 0, &its, NULL);
}

void loop_set_interval(struct loop *l, unsigned int ms)
{
	l->interval_ms = ms;
	set_period(l->tfd, ms);
}

int loop_open(struct loop *l)
{
	sigset_t mask;
	int err;

	l->sfd = l->tfd = -1;
	loop_mask(&mask);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	l->sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (l->sfd < 0)
		return -errno;
	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (l->tfd < 0) {
		err = -errno;
		close(l->sfd);
		l->sfd = -1;
		return err;
	}
	loop_set_interval(l, l->interval_ms);
	return 0;
}

int loop_add_timer(struct loop *l, unsigned int ms, loop_fn fn)
{
	int fd;

	if (l->n_fds == LOOP_MAX_FDS)
		return -ENOSPC;
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	set_period(fd, ms);
	l->fds[l->n_fds].fd = fd;
	l->fds[l->n_fds].fn = fn;
	l->fds[l->n_fds++].timer = true;
	return 0;
}

void loop_close(struct loop *l)
{
	int i;

	for (i = 0; i < l->n_fds; i++)
		if (l->fds[i].timer && l->fds[i].fd >= 0) {
			close(l->fds[i].fd);
			l->fds[i].fd = -1;
		}
	if (l->tfd >= 0)
		close(l->tfd);
	if (l->sfd >= 0)
		close(l->sfd);
	l->sfd = l->tfd = -1;
}

/* The signal waiting on the signalfd, 0 if none could be read. */
static int read_signal(int sfd)
{
	struct signalfd_siginfo si;

	if (read(sfd, &si, sizeof(si)) != sizeof(si))
		return 0;
	return si.ssi_signo;
}

int loop_run(struct loop *l)
{
	struct pollfd pfd[2 + LOOP_MAX_FDS];
	uint64_t expirations;
	int i, rc = 0;
	bool tick;

	pfd[0] = (struct pollfd){ .fd = l->sfd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = l->tfd, .events = POLLIN };
	for (i = 0; i < l->n_fds; i++)
		pfd[2 + i] = (struct pollfd){ .fd = l->fds[i].fd, .events = POLLIN };
	for (;;) {
		if (poll(pfd, 2 + l->n_fds, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pfd[0].revents) {
			if (read_signal(l->sfd) != SIGHUP)
				return 0;
			rc = l->out ? stream_reopen(l->out) : 0;
			if (rc < 0)
				return rc;
			continue;
		}
		tick = false;
		for (i = 0; i < l->n_fds; i++) {
			if (!pfd[2 + i].revents)
				continue;
			if (l->fds[i].timer &&
			    read(l->fds[i].fd, &expirations, sizeof(expirations)) < 0)
				expirations = 0;
			rc = l->fds[i].fn(l->ctx);
			if (rc < 0)
				return rc;
			if (rc == LOOP_STOP)
				return 0;
			tick |= rc == LOOP_TICK;
		}
		if (pfd[1].revents) {
			if (read(l->tfd, &expirations, sizeof(expirations)) < 0)
				expirations = 0;
			tick = true;
		}
		if (tick) {
			rc = l->on_tick(l->ctx);
			if (rc < 0)
				return rc;
			if (rc == LOOP_STOP)
				return 0;
		}
	}
}
