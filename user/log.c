// SPDX-License-Identifier: GPL-2.0
/* Logging: our messages on stderr, libbpf's demoted one level below ours. */
#include <stdio.h>
#include <stdarg.h>
#include <bpf/libbpf.h>

#include "log.h"

int ipsm_verbose;
static int libbpf_quiet;
static int first_exit_code;

static void vlog(const char *prefix, const char *fmt, va_list ap)
{
	fprintf(stderr, "ipsecmon-bpf: %s", prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf warnings show at -v, its debug output at -vv. */
	if (libbpf_quiet)
		return 0;
	if (level == LIBBPF_DEBUG && ipsm_verbose < 2)
		return 0;
	if (level != LIBBPF_DEBUG && ipsm_verbose < 1)
		return 0;
	return vfprintf(stderr, fmt, ap); /* already prefixed "libbpf: " */
}

void log_init(int verbose)
{
	ipsm_verbose = verbose;
	libbpf_set_print(libbpf_print);
}

void log_libbpf_quiet(int quiet)
{
	libbpf_quiet = quiet;
}

void pr_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

void pr_info(const char *fmt, ...)
{
	va_list ap;

	if (ipsm_verbose < 1)
		return;
	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void pr_debug(const char *fmt, ...)
{
	va_list ap;

	if (ipsm_verbose < 2)
		return;
	va_start(ap, fmt);
	vlog("debug: ", fmt, ap);
	va_end(ap);
}

int ipsm_error(enum ipsm_exit code, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("error: ", fmt, ap);
	va_end(ap);
	if (!first_exit_code)
		first_exit_code = code;
	return err;
}

int ipsm_exit_code(void)
{
	return first_exit_code ? first_exit_code : IPSM_EXIT_FAIL;
}
