// SPDX-License-Identifier: GPL-2.0
/*
 * Baselines for the classifier benchmark: the cheapest XDP program there is,
 * and the cheapest one that counts (one per-CPU array increment), so the
 * classifier's cost can be told apart from the hook's and from counting.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} bench_count_map SEC(".maps");

SEC("xdp")
int bench_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int bench_count(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *n;

	n = bpf_map_lookup_elem(&bench_count_map, &k);
	if (n)
		(*n)++;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
