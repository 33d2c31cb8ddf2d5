// SPDX-License-Identifier: GPL-2.0
/* Host facts and setup shared by the datapath test, fuzzer and benchmark. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>

#include "bpf_env.h"

bool bpf_env_has_kfunc(void)
{
	struct btf *btf = btf__load_vmlinux_btf();
	bool found;

	if (!btf)
		return false;
	found = btf__find_by_name_kind(btf, "bpf_xdp_get_xfrm_state", BTF_KIND_FUNC) >= 0;
	btf__free(btf);
	return found;
}

int bpf_env_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

int bpf_env_pin_cpu(void)
{
	cpu_set_t set;
	int cpu = sched_getcpu();

	if (cpu < 0)
		return -1;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		fprintf(stderr, "warning: cannot pin to CPU %d: %s\n", cpu, strerror(errno));
		return -1;
	}
	return cpu;
}

size_t bpf_env_percpu_size(size_t vsize, int ncpus)
{
	return ((vsize + 7) & ~(size_t)7) * ncpus;
}

int bpf_env_zero_array(int fd, __u32 n, size_t vsize, int ncpus)
{
	void *z = calloc(1, bpf_env_percpu_size(vsize, ncpus));
	int err = 0;
	__u32 k;

	if (!z)
		return -ENOMEM;
	for (k = 0; k < n && !err; k++)
		err = bpf_map_update_elem(fd, &k, z, BPF_ANY) ? -errno : 0;
	free(z);
	return err;
}

int bpf_env_clear_hash(int fd, size_t ksize)
{
	char k[64];

	if (ksize > sizeof(k))
		return -EINVAL;
	while (!bpf_map_get_next_key(fd, NULL, k)) {
		if (bpf_map_delete_elem(fd, k))
			return -errno;
	}
	return errno == ENOENT ? 0 : -errno;
}

void *bpf_env_mmap(int fd, size_t len)
{
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	return m == MAP_FAILED ? NULL : m;
}
