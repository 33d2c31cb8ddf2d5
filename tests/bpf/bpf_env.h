/* SPDX-License-Identifier: GPL-2.0 */
/* What the datapath test, fuzzer and benchmark all need from their host. */
#ifndef IPSM_TEST_BPF_ENV_H
#define IPSM_TEST_BPF_ENV_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
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
/* Userspace sees a per-CPU value as one 8-byte aligned slot per possible CPU. */
size_t bpf_env_percpu_size(size_t vsize, int ncpus);
/* Zero keys 0..n-1 of a per-CPU array on every CPU: 0 or -errno. */
int bpf_env_zero_array(int fd, __u32 n, size_t vsize, int ncpus);
/* Delete every key of a hash map with keys of ksize (<= 64) bytes: 0 or -errno. */
int bpf_env_clear_hash(int fd, size_t ksize);
/* An mmapable array map's memory, read-write (len bytes), or NULL. */
void *bpf_env_mmap(int fd, size_t len);

#endif
