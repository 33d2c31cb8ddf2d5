// SPDX-License-Identifier: GPL-2.0
/* signalfd and timerfd helpers shared by the run and watch loops. */
#include <errno.h>
#include <signal.h>
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

int loop_signalfd(void)
{
	sigset_t mask;
	int fd;

	loop_mask(&mask);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	fd = signalfd(-1, &mask, SFD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int loop_signal(int sfd)
{
	struct signalfd_siginfo si;

	if (read(sfd, &si, sizeof(si)) != sizeof(si))
		return 0;
	return si.ssi_signo;
}

void loop_set_interval(int tfd, unsigned int ms)
{
	struct itimerspec its = {};

	its.it_interval.tv_sec = ms / 1000;
	its.it_interval.tv_nsec = (ms % 1000) * 1000000L;
	its.it_value = its.it_interval;
	timerfd_settime(tfd, 0, &its, NULL);
}

int loop_timerfd(unsigned int ms)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	loop_set_interval(fd, ms);
	return fd;
}
