// SPDX-License-Identifier: GPL-2.0
/*
 * Baselines and drivers for the datapath benchmark.
 *
 * bench_pass_*: the cheapest program of each hook, the baseline every
 * ipsecmon program is measured against. bench_count: one per-CPU array
 * increment, to tell the cost of counting at all from the classifier's.
 *
 * bench_drive_*: for cases that need a different packet each time
 * (random SPIs, many SAs in turn), which BPF_PROG_TEST_RUN's repeat cannot
 * give: rewrite the SPI in place, then tail-call the program in slot 0 or
 * 1 of the hook's program array. Both the baseline and the program under
 * test are driven alike, so the driver's cost cancels out.
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "ipsecmon.h"

#define TC_ACT_UNSPEC_ (-1)

enum { DRIVE_RANDOM = 0, DRIVE_ROUND_ROBIN = 1 };

struct drive_cfg {
	__u32 mode;
	__u32 spi_off; /* SPI's offset in the frame */
	__u32 n; /* round robin: SPIs base .. base + n - 1 */
	__u32 base;
};

struct drive_state {
	__u64 rnd;
	__u32 next;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} bench_count_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct drive_cfg);
} drive_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct drive_state);
} drive_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} xdp_targets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} tc_targets SEC(".maps");

SEC("xdp")
int bench_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("tc")
int bench_pass_tc(struct __sk_buff *skb)
{
	return TC_ACT_UNSPEC_;
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

/*
 * References: one lookup in a per-CPU hash keyed like sa_stats (24 bytes,
 * what a cache miss pays), the coarse clock and jiffies, and the two
 * floors of the targets: the least a classifier that counts IP bytes per
 * class must do (Ethernet and IPv4 headers checked, one count), and the
 * least a known SA's packet can cost with a per-CPU slot (that, the ESP
 * header, and one slot compared and updated); bench_ref_bad_spi, further
 * down, the flood's.
 */
struct ref_key {
	__u8 dir, proto, family, pad;
	__u32 spi;
	__u8 daddr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct ref_key);
	__type(value, __u64);
} ref_hash SEC(".maps");

SEC("xdp")
int bench_ref_hash(struct xdp_md *ctx)
{
	struct ref_key k = { .proto = 50, .spi = 0x01100000, .daddr = { 198, 51, 100, 1 } };
	__u64 *v;

	v = bpf_map_lookup_elem(&ref_hash, &k);
	if (v)
		(*v)++;
	return XDP_PASS;
}

SEC("xdp")
int bench_ref_clock(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *n;

	n = bpf_map_lookup_elem(&bench_count_map, &k);
	if (n)
		*n = bpf_ktime_get_coarse_ns();
	return XDP_PASS;
}

SEC("xdp")
int bench_ref_jiffies(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *n;

	n = bpf_map_lookup_elem(&bench_count_map, &k);
	if (n)
		*n = bpf_jiffies64();
	return XDP_PASS;
}

/* As large as the datapath's slot, in as many: the floors miss caches as often. */
struct ref_slot {
	__u64 key[3];
	__u64 packets, bytes, last_seen;
	__u8 rest[sizeof(struct ipsm_sa_slot) - 48];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IPSM_SA_CACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct ref_slot);
} ref_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64[2]);
} ref_classes SEC(".maps");

/* IPv4 behind Ethernet: the IP header, or NULL when it is none. */
static __always_inline __u8 *ref_ipv4(void *data, void *data_end)
{
	__u8 *eth = data, *ip = eth + 14;

	if ((void *)(ip + 20) > data_end || *(__u16 *)(eth + 12) != bpf_htons(0x0800) ||
	    (ip[0] & 0xf0) != 0x40)
		return NULL;
	return ip;
}

/*
 * An ESP packet's slot, probed as a known SA's would be: the IPv4 header
 * in *ipp, the key in key[3], the slot by (SPI, destination); NULL when the
 * packet is not ESP over IPv4.
 */
static __always_inline struct ref_slot *ref_esp_slot(struct xdp_md *ctx, __u8 **ipp, __u64 key[3])
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	__u8 *ip = ref_ipv4(data, data_end);
	__u32 spi, dst, k;

	if (!ip || ip[9] != 50 || (void *)(ip + 28) > data_end)
		return NULL;
	*ipp = ip;
	spi = *(__u32 *)(ip + 20);
	dst = *(__u32 *)(ip + 16);
	key[0] = (__u64)spi << 32 | 50 << 8;
	key[1] = dst;
	key[2] = 0;
	k = ((spi ^ dst) * 0x9e3779b1U) >> (32 - IPSM_SA_CACHE_BITS);
	return bpf_map_lookup_elem(&ref_slots, &k);
}

SEC("xdp")
int bench_ref_classify(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	__u8 *ip = ref_ipv4(data, data_end);
	__u32 k = ip ? (ip[9] == 50 ? 0 : 1) : 2;
	__u64 *c;

	c = bpf_map_lookup_elem(&ref_classes, &k);
	if (c) {
		c[0]++;
		c[1] += ip ? bpf_ntohs(*(__u16 *)(ip + 2)) : 0;
	}
	return XDP_PASS;
}

SEC("xdp")
int bench_ref_slot(struct xdp_md *ctx)
{
	struct ref_slot *s;
	__u64 key[3];
	__u8 *ip;

	s = ref_esp_slot(ctx, &ip, key);
	if (!s)
		return XDP_PASS;
	if (s->key[0] != key[0] || s->key[1] != key[1] || s->key[2] != key[2]) {
		s->key[0] = key[0];
		s->key[1] = key[1];
		s->key[2] = key[2];
	}
	s->packets++;
	s->bytes += bpf_ntohs(*(__u16 *)(ip + 2));
	s->last_seen = bpf_jiffies64();
	return XDP_PASS;
}

/*
 * The least a row-less SPI's packet can cost (the flood's floor): the
 * known-SA reference's parse and slot probe, missed; one word of a row
 * filter, 0; one count; and an offender slot of (SPI, source,
 * destination) taken over field by field and counted in. The filter and
 * the offender slots are the datapath's sizes.
 */
struct ref_offender {
	__u32 spi, saddr, daddr, pad;
	__u64 packets, bytes, first_seen, last_seen;
	__u8 rest[sizeof(struct ipsm_bad_spi) - 48];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, IPSM_ROW_FILTER_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} ref_filter SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IPSM_BAD_SPI_SLOTS);
	__type(key, __u32);
	__type(value, struct ref_offender);
} ref_offenders SEC(".maps");

SEC("xdp")
int bench_ref_bad_spi(struct xdp_md *ctx)
{
	struct ref_offender *o;
	__u32 spi, src, dst, k;
	__u64 key[3], now, *f;
	struct ref_slot *s;
	__u8 *ip;

	s = ref_esp_slot(ctx, &ip, key);
	if (!s)
		return XDP_PASS;
	spi = *(__u32 *)(ip + 20);
	src = *(__u32 *)(ip + 12);
	dst = *(__u32 *)(ip + 16);
	if (s->key[0] == key[0] && s->key[1] == key[1] && s->key[2] == key[2]) {
		s->packets++;
		return XDP_PASS;
	}
	k = ((spi ^ dst) * 0x85ebca6bU) >> (32 - IPSM_ROW_FILTER_BITS);
	f = bpf_map_lookup_elem(&ref_filter, &k);
	if (!f || *f)
		return XDP_PASS;
	k = 0;
	f = bpf_map_lookup_elem(&bench_count_map, &k);
	if (f)
		(*f)++;
	_Static_assert(IPSM_BAD_SPI_SLOTS == 1 << 8, "bench_ref_bad_spi(): 8 bits of slot");
	k = ((spi ^ src) * 0x9e3779b1U ^ dst * 0xc2b2ae35U) >> 24;
	o = bpf_map_lookup_elem(&ref_offenders, &k);
	if (!o)
		return XDP_PASS;
	now = bpf_jiffies64();
	if (o->spi != spi || o->saddr != src || o->daddr != dst) {
		o->spi = spi;
		o->saddr = src;
		o->daddr = dst;
		o->packets = 0;
		o->bytes = 0;
		o->first_seen = now;
	}
	o->packets++;
	o->bytes += bpf_ntohs(*(__u16 *)(ip + 2));
	o->last_seen = now;
	return XDP_PASS;
}

/* The next SPI, never a reserved one (1-255). */
static __always_inline __u32 next_spi(void)
{
	struct drive_state *st;
	struct drive_cfg *c;
	__u32 k = 0, spi;

	c = bpf_map_lookup_elem(&drive_cfg, &k);
	st = bpf_map_lookup_elem(&drive_state, &k);
	if (!c || !st)
		return 0x1000;
	if (c->mode == DRIVE_ROUND_ROBIN && c->n) {
		spi = c->base + st->next;
		st->next = st->next + 1 < c->n ? st->next + 1 : 0;
		return spi;
	}
	/* xorshift64 */
	st->rnd ^= st->rnd << 13;
	st->rnd ^= st->rnd >> 7;
	st->rnd ^= st->rnd << 17;
	return (__u32)st->rnd | 0x100;
}

static __always_inline void put_spi(void *data, void *data_end)
{
	struct drive_cfg *c;
	__u32 k = 0, off;
	__u8 *p;

	c = bpf_map_lookup_elem(&drive_cfg, &k);
	if (!c)
		return;
	off = c->spi_off & 0xff;
	p = (__u8 *)data + off;
	if ((void *)(p + 4) > data_end)
		return;
	*(__u32 *)p = bpf_htonl(next_spi());
}

SEC("xdp")
int bench_drive_xdp0(struct xdp_md *ctx)
{
	put_spi((void *)(long)ctx->data, (void *)(long)ctx->data_end);
	bpf_tail_call(ctx, &xdp_targets, 0);
	return XDP_PASS;
}

SEC("xdp")
int bench_drive_xdp1(struct xdp_md *ctx)
{
	put_spi((void *)(long)ctx->data, (void *)(long)ctx->data_end);
	bpf_tail_call(ctx, &xdp_targets, 1);
	return XDP_PASS;
}

SEC("tc")
int bench_drive_tc0(struct __sk_buff *skb)
{
	put_spi((void *)(long)skb->data, (void *)(long)skb->data_end);
	bpf_tail_call(skb, &tc_targets, 0);
	return TC_ACT_UNSPEC_;
}

SEC("tc")
int bench_drive_tc1(struct __sk_buff *skb)
{
	put_spi((void *)(long)skb->data, (void *)(long)skb->data_end);
	bpf_tail_call(skb, &tc_targets, 1);
	return TC_ACT_UNSPEC_;
}

char LICENSE[] SEC("license") = "GPL";
