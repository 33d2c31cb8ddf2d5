/* SPDX-License-Identifier: GPL-2.0 */
/* What the datapath test, fuzzer and benchmark all need from their host. */
#ifndef IPSM_TEST_BPF_ENV_H
#define IPSM_TEST_BPF_ENV_H

#include <stdarg.h>
#include <stdbool.h>
#include <bpf/libbpf.h>

/* Whether the running kernel has the XDP SA lookup (bpf_xdp_get_xfrm_state). */
bool bpf_env_has_kfunc(void);
/* libbpf's messages without its debug ones (libbpf_set_print). */
int bpf_env_print(enum libbpf_print_level level, const char *fmt, va_list ap);
/*
 * Stay on the CPU we run on: an SA's per-CPU state then lives in one slot
 * for every test run. The CPU, or -1.
 */
int bpf_env_pin_cpu(void);

#endif
