/* SPDX-License-Identifier: GPL-2.0 */
/* Logging and error reporting; the only place that talks to libbpf_set_print. */
#ifndef IPSM_LOG_H
#define IPSM_LOG_H

#include <stdarg.h>

/* Exit codes. 0-2 as every CLI; the rest name what went wrong. */
enum ipsm_exit {
	IPSM_EXIT_OK = 0,
	IPSM_EXIT_FAIL = 1, /* runtime error not covered below */
	IPSM_EXIT_USAGE = 2,
	IPSM_EXIT_PERM = 3, /* not root / missing capabilities */
	IPSM_EXIT_NODEV = 4, /* unknown interface or network namespace */
	IPSM_EXIT_KERNEL = 5, /* kernel lacks BTF, BPF or the hook */
	IPSM_EXIT_CONFLICT = 6, /* another program holds the hook */
	IPSM_EXIT_NOT_ATTACHED = 7, /* nothing attached (here) */
	IPSM_EXIT_BPFFS = 8, /* bpffs missing and not mountable */
	IPSM_EXIT_BUSY = 9, /* another monitor runs in this namespace */
};

extern int ipsm_verbose;

void log_init(int verbose);
/* Silence libbpf while probing something whose failure we report ourselves. */
void log_libbpf_quiet(int quiet);

void pr_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Print a one-line error and remember which exit code it maps to; returns
 * err (a negative errno) so callers can "return ipsm_error(...)".
 */
int ipsm_error(enum ipsm_exit code, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The exit code of the first error reported, IPSM_EXIT_FAIL if none was. */
int ipsm_exit_code(void);

#endif
