// SPDX-License-Identifier: GPL-2.0
/*
 * ipsecmon datapath: one classifier, compiled into an XDP program and two TC
 * programs. Counts only; every path passes the packet on unchanged.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "ipsecmon.h"
#include "parse.h"

#define TC_ACT_UNSPEC_ (-1) /* "no verdict": the next filter still runs */
#define TC_PULL_LEN 256

/* Set by the loader before load. */
const volatile __u32 inserts_per_sec = IPSM_DEFAULT_INSERTS_PER_SEC;

/* Per interface. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IPSM_TRAFFIC_MAX);
	__type(key, __u32);
	__type(value, struct ipsm_ctr);
} traffic SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IPSM_IKE_MAX);
	__type(key, __u32);
	__type(value, __u64);
} ike SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ipsm_iface_meta);
} iface_meta SEC(".maps");

/* Per network namespace, shared by all its interfaces. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, IPSM_DEFAULT_MAX_SAS);
	__type(key, struct ipsm_sa_key);
	__type(value, struct ipsm_sa_val);
} sa_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ipsm_dp);
} dp SEC(".maps");

static __always_inline void seq_track(struct ipsm_sa_val *v, __u32 seq)
{
	__s32 diff;
	__u32 back;
	__u64 bit;

	if (!(v->flags & IPSM_SA_F_SEQ_VALID)) {
		v->flags |= IPSM_SA_F_SEQ_VALID;
		v->seq_max = seq;
		v->seq_window = 1;
		return;
	}
	/* Serial-number arithmetic: ESN carries only the low 32 bits. */
	diff = (__s32)(seq - v->seq_max);
	if (diff > 0) {
		v->seq_window = diff < IPSM_SEQ_WINDOW ? (v->seq_window << diff) | 1 : 1;
		v->seq_gaps += (__u32)diff - 1;
		v->seq_max = seq;
		return;
	}
	back = (__u32)-diff;
	if (back >= IPSM_SEQ_WINDOW) {
		v->seq_late++;
		return;
	}
	bit = 1ULL << back;
	if (v->seq_window & bit) {
		v->seq_replays++;
	} else {
		/* A late packet filled a hole we had counted as lost. */
		v->seq_window |= bit;
		if (v->seq_gaps)
			v->seq_gaps--;
	}
}

/*
 * Slow path for an SPI without a row: create one, within a per-CPU budget of
 * inserts per second, and not at all for a second after the table was found
 * full. Packets that get no row are still counted as untracked.
 */
static __noinline int sa_insert(struct ipsm_sa_key *key, __u64 now)
{
	struct ipsm_sa_val zero = {};
	struct ipsm_dp *d;
	__u32 k = 0;
	int err;

	d = bpf_map_lookup_elem(&dp, &k);
	if (!d)
		return -1;
	if (now < d->full_until)
		return -1;
	if (now - d->window_start >= 1000000000ULL) {
		d->window_start = now;
		d->window_inserts = 0;
	}
	if (d->window_inserts >= inserts_per_sec)
		return -1;
	d->window_inserts++;
	err = bpf_map_update_elem(&sa_stats, key, &zero, BPF_NOEXIST);
	if (err == -7 /* E2BIG */) {
		d->table_full++;
		d->full_until = now + 1000000000ULL;
		return -1;
	}
	if (!err)
		d->sa_inserts++;
	return 0; /* inserted, or another CPU raced us to it */
}

static __always_inline void count_untracked(__u32 bytes)
{
	struct ipsm_dp *d;
	__u32 k = 0;

	d = bpf_map_lookup_elem(&dp, &k);
	if (d) {
		d->untracked_packets++;
		d->untracked_bytes += bytes;
	}
}

static __always_inline void count_sa(struct pkt *p, __u32 dir)
{
	struct ipsm_sa_key key = {};
	struct ipsm_sa_val *v;
	__u64 now;

	key.dir = dir;
	key.proto = p->proto;
	key.family = p->af;
	key.spi = p->spi;
	if (p->af == IPSM_AF_IPV4)
		__builtin_memcpy(key.daddr, p->daddr, 4);
	else
		__builtin_memcpy(key.daddr, p->daddr, 16);

	now = bpf_ktime_get_coarse_ns();
	v = bpf_map_lookup_elem(&sa_stats, &key);
	if (!v) {
		if (sa_insert(&key, now) || !(v = bpf_map_lookup_elem(&sa_stats, &key))) {
			count_untracked(p->ip_len);
			return;
		}
	}
	if (!v->first_seen)
		v->first_seen = now;
	v->last_seen = now;
	v->packets++;
	v->bytes += p->ip_len;
	v->flags |= p->cls == IPSM_CLASS_ESP_IN_UDP ? IPSM_SA_F_UDP_ENCAP : IPSM_SA_F_PLAIN;
	if (p->af == IPSM_AF_IPV4)
		__builtin_memcpy(v->saddr, p->saddr, 4);
	else
		__builtin_memcpy(v->saddr, p->saddr, 16);
	seq_track(v, p->seq);
}

static __always_inline void count(void *data, void *data_end, __u32 frame_len, __u32 dir)
{
	struct pkt p = {};
	struct ipsm_ctr *c;
	__u64 *n;
	__u32 k;

	classify(&p, data, data_end, frame_len);

	k = IPSM_TRAFFIC_IDX(dir, p.af, p.cls);
	c = bpf_map_lookup_elem(&traffic, &k);
	if (c) {
		c->packets++;
		c->bytes += p.ip_len;
	}

	switch (p.cls) {
	case IPSM_CLASS_ESP:
	case IPSM_CLASS_AH:
	case IPSM_CLASS_ESP_IN_UDP:
		count_sa(&p, dir);
		break;
	case IPSM_CLASS_IKE:
		k = IPSM_IKE_IDX(dir, p.ike_ver, p.ike_exch, p.ike_resp);
		n = bpf_map_lookup_elem(&ike, &k);
		if (n)
			(*n)++;
		break;
	}
}

SEC("xdp")
int ipsecmon_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	count(data, data_end, data_end - data, IPSM_DIR_RX);
	return XDP_PASS;
}

/* Headers past the linear part of an skb are invisible to direct access. */
static __always_inline void tc_count(struct __sk_buff *skb, __u32 dir)
{
	__u32 want = skb->len < TC_PULL_LEN ? skb->len : TC_PULL_LEN;

	if (skb->data_end - skb->data < want)
		bpf_skb_pull_data(skb, want);
	/*
	 * The pull moved skb->data: reload it. The barrier also stops clang from
	 * turning the ctx field offsets into pointer arithmetic the verifier
	 * rejects.
	 */
	asm volatile("" : "+r"(skb));
	count((void *)(long)skb->data, (void *)(long)skb->data_end, skb->len, dir);
}

SEC("tc")
int ipsecmon_tc_ingress(struct __sk_buff *skb)
{
	tc_count(skb, IPSM_DIR_RX);
	return TC_ACT_UNSPEC_;
}

SEC("tc")
int ipsecmon_tc_egress(struct __sk_buff *skb)
{
	tc_count(skb, IPSM_DIR_TX);
	return TC_ACT_UNSPEC_;
}

char LICENSE[] SEC("license") = "GPL";
