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

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ipsm_config);
} correlation SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IPSM_BAD_SPI_SLOTS);
	__type(key, __u32);
	__type(value, struct ipsm_bad_spi);
} bad_spis SEC(".maps");

/* Monitor state: never touched by the programs, pinned with the rest. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, IPSM_DEFAULT_MAX_SAS);
	__type(key, struct ipsm_sa_key);
	__type(value, struct ipsm_sa_info);
} sa_info SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ipsm_totals);
} totals SEC(".maps");

/*
 * The kernel's own SA lookup (6.8+). Weak, so that the object still loads
 * where it is missing; the loader then leaves ipsecmon_xdp_kfunc unloaded.
 */
extern struct xfrm_state *bpf_xdp_get_xfrm_state(struct xdp_md *ctx,
						 struct bpf_xfrm_state_opts *opts,
						 __u32 opts__sz) __ksym __weak;
extern void bpf_xdp_xfrm_state_release(struct xfrm_state *x) __ksym __weak;

/* What is known about the packet's SA before the SA table is consulted. */
enum sa_check {
	SA_UNCHECKED, /* no kernel lookup: decide by the SA table */
	SA_EXISTS, /* the kernel has the SA */
	SA_MISSING, /* the kernel has no such SA: bad SPI if addressed to us */
	SA_TRANSIT, /* not addressed to this host: never a bad SPI here */
};

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
 * full. A packet that gets no row here is counted as untracked here, on the
 * same dp lookup. Returns 0 when a row exists now.
 */
static __noinline int sa_insert(struct ipsm_sa_key *key, __u64 now, __u32 bytes)
{
	struct ipsm_sa_val zero = {};
	struct ipsm_dp *d;
	__u32 k = 0;
	int err;

	d = bpf_map_lookup_elem(&dp, &k);
	if (!d)
		return -1;
	if (now < d->full_until)
		goto untracked;
	if (now - d->window_start >= 1000000000ULL) {
		d->window_start = now;
		d->window_inserts = 0;
	}
	if (d->window_inserts >= inserts_per_sec)
		goto untracked;
	d->window_inserts++;
	err = bpf_map_update_elem(&sa_stats, key, &zero, BPF_NOEXIST);
	if (err == -7 /* E2BIG */) {
		d->table_full++;
		d->full_until = now + 1000000000ULL;
		goto untracked;
	}
	if (!err)
		d->sa_inserts++;
	return 0; /* inserted, or another CPU raced us to it */

untracked:
	d->untracked_packets++;
	d->untracked_bytes += bytes;
	return -1;
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

static __always_inline void copy_addr(__u8 *dst, const void *src, __u32 af)
{
	if (af == IPSM_AF_IPV4)
		__builtin_memcpy(dst, src, 4);
	else
		__builtin_memcpy(dst, src, 16);
}

static __always_inline bool addr_eq(const __u8 *a, const __u8 *b, __u32 af)
{
	if (af == IPSM_AF_IPV4)
		return *(__u32 *)a == *(__u32 *)b;
	return *(__u64 *)a == *(__u64 *)b && *(__u64 *)(a + 8) == *(__u64 *)(b + 8);
}

/* The monitor's heartbeat: while fresh, the SA table mirrors the kernel's SAD. */
static __always_inline bool correlation_live(__u64 now)
{
	struct ipsm_config *c;
	__u32 k = 0;

	c = bpf_map_lookup_elem(&correlation, &k);
	return c && now < c->live_until;
}

static __noinline void count_bad_spi(struct pkt *p, __u64 now)
{
	struct ipsm_bad_spi *b;
	struct ipsm_dp *d;
	__u32 k = 0, h;

	d = bpf_map_lookup_elem(&dp, &k);
	if (!d)
		return;
	d->bad_spi_packets++;
	d->bad_spi_bytes += p->ip_len;

	/* Cheap mix of the identifying words; attackers choose SPIs, not slots. */
	h = p->spi ^ *(__u32 *)p->src * 0x9e3779b1 ^ *(__u32 *)p->dst * 0x85ebca6b;
	h ^= h >> 15;
	k = h & (IPSM_BAD_SPI_SLOTS - 1);
	b = bpf_map_lookup_elem(&bad_spis, &k);
	if (!b)
		return;
	if (b->spi != p->spi || b->proto != p->proto || b->family != p->af ||
	    !addr_eq(b->saddr, p->src, p->af) || !addr_eq(b->daddr, p->dst, p->af)) {
		if (b->spi)
			d->bad_spi_evicted++;
		__builtin_memset(b, 0, sizeof(*b));
		b->spi = p->spi;
		b->proto = p->proto;
		b->family = p->af;
		copy_addr(b->saddr, p->src, p->af);
		copy_addr(b->daddr, p->dst, p->af);
		b->first_seen = now;
	}
	b->packets++;
	b->bytes += p->ip_len;
	b->last_seen = now;
}

/*
 * XFRM only decrypts what is addressed to the host; ESP it forwards is not
 * its SAs' business, so a "bad SPI" needs a local destination. Asked only on
 * the miss path: a FIB lookup is not cheap.
 */
static __noinline bool dst_is_local(void *ctx, struct pkt *p, __u32 ifindex)
{
	struct bpf_fib_lookup fib = {};
	long ret;

	fib.ifindex = ifindex;
	fib.l4_protocol = p->cls == IPSM_CLASS_ESP_IN_UDP ? IPPROTO_UDP_ : p->proto;
	if (p->af == IPSM_AF_IPV4) {
		fib.family = 2; /* AF_INET */
		__builtin_memcpy(&fib.ipv4_src, p->src, 4);
		__builtin_memcpy(&fib.ipv4_dst, p->dst, 4);
	} else {
		fib.family = 10; /* AF_INET6 */
		__builtin_memcpy(fib.ipv6_src, p->src, 16);
		__builtin_memcpy(fib.ipv6_dst, p->dst, 16);
	}
	ret = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	/* A host that does not forward keeps everything it receives. */
	return ret == BPF_FIB_LKUP_RET_NOT_FWDED || ret == BPF_FIB_LKUP_RET_FWD_DISABLED;
}

static __always_inline void count_sa(struct pkt *p, __u32 dir, void *ctx, __u32 ifindex,
				     enum sa_check check)
{
	struct ipsm_sa_key key = {};
	struct ipsm_sa_val *v;
	__u64 now;

	key.dir = dir;
	key.proto = p->proto;
	key.family = p->af;
	key.spi = p->spi;
	copy_addr(key.daddr, p->dst, p->af);

	now = bpf_ktime_get_coarse_ns();
	if (check == SA_MISSING) {
		if (dst_is_local(ctx, p, ifindex)) {
			count_bad_spi(p, now);
			return;
		}
		check = SA_TRANSIT;
	}
	v = bpf_map_lookup_elem(&sa_stats, &key);
	if (!v) {
		/* With the monitor live, rows exist for exactly the kernel's SAs. */
		if (check == SA_UNCHECKED && dir == IPSM_DIR_RX && correlation_live(now) &&
		    dst_is_local(ctx, p, ifindex)) {
			count_bad_spi(p, now);
			return;
		}
		if (sa_insert(&key, now, p->ip_len))
			return;
		v = bpf_map_lookup_elem(&sa_stats, &key);
		if (!v) {
			/* Deleted again at once (the monitor pruning it): rare. */
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
	copy_addr(v->saddr, p->src, p->af);
	seq_track(v, p->seq);
}

/* Ask the kernel's SAD whether the inbound packet's SA exists (XDP, 6.8+). */
static __always_inline enum sa_check kernel_sa_check(struct xdp_md *ctx, struct pkt *p)
{
	struct bpf_xfrm_state_opts opts = {};
	struct xfrm_state *x;

	opts.netns_id = BPF_F_CURRENT_NETNS;
	opts.spi = p->spi;
	opts.proto = p->proto;
	opts.family = p->af == IPSM_AF_IPV4 ? 2 /* AF_INET */ : 10 /* AF_INET6 */;
	copy_addr((__u8 *)&opts.daddr, p->dst, p->af);
	x = bpf_xdp_get_xfrm_state(ctx, &opts, sizeof(opts));
	if (x) {
		bpf_xdp_xfrm_state_release(x);
		return SA_EXISTS;
	}
	/* -ENOENT is "no such SA"; anything else says nothing about the SPI. */
	return opts.error == -2 ? SA_MISSING : SA_UNCHECKED;
}

/*
 * ctx and ifindex are the hook's, for the FIB lookup; kfunc says whether to
 * ask the kernel's SAD (XDP on 6.8+ only: ctx is then an xdp_md).
 */
static __always_inline void count(void *ctx, __u32 ifindex, bool kfunc, void *data, void *data_end,
				  __u32 frame_len, __u32 dir)
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
		count_sa(&p, dir, ctx, ifindex,
			 kfunc && dir == IPSM_DIR_RX ? kernel_sa_check(ctx, &p) : SA_UNCHECKED);
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

	count(ctx, ctx->ingress_ifindex, false, data, data_end, data_end - data, IPSM_DIR_RX);
	return XDP_PASS;
}

/* The same, deciding bad SPIs with the kernel's SA lookup (6.8+). */
SEC("xdp")
int ipsecmon_xdp_kfunc(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	count(ctx, ctx->ingress_ifindex, true, data, data_end, data_end - data, IPSM_DIR_RX);
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
	count(skb, skb->ifindex, false, (void *)(long)skb->data, (void *)(long)skb->data_end,
	      skb->len, dir);
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
