// SPDX-License-Identifier: GPL-2.0
/*
 * ipsecmon datapath: one classifier, compiled into an XDP program and two TC
 * programs. Counts only; every path passes the packet on unchanged.
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "ipsecmon.h"
#include "parse.h"

#define TC_ACT_UNSPEC_ (-1) /* "no verdict": the next filter still runs */
#define TC_PULL_LEN 256

/* Set by the loader before load. */
const volatile __u32 inserts_per_sec = IPSM_DEFAULT_INSERTS_PER_SEC;
const volatile __u64 revalidate_ns = IPSM_REVALIDATE_NS;

/* Per interface. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IPSM_TRAFFIC_MAX);
	__type(key, __u32);
	__type(value, struct ipsm_ctr);
} traffic SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IPSM_IKE_SLOTS);
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

/* The SA table's per-CPU cache, and the value user space changes after writing rows. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IPSM_SA_CACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct ipsm_sa_slot);
} sa_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sa_epoch SEC(".maps");

/* Rows per slot of a second hash of the key: see IPSM_ROW_FILTER_BITS. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, IPSM_ROW_FILTER_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} sa_filter SEC(".maps");

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

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IPSM_IKE_PEER_SLOTS);
	__type(key, __u32);
	__type(value, struct ipsm_ike_peer);
} ike_peers SEC(".maps");

/* IKEv2 messages and answered IKE SAs, for retransmits and half-open SAs. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, IPSM_IKE_MSG_SETS);
	__type(key, __u32);
	__type(value, struct ipsm_ike_msg_set);
} ike_msgs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, IPSM_IKE_SAS_MAX);
	__type(key, struct ipsm_ike_sa_key);
	__type(value, struct ipsm_ike_sa);
} ike_sas SEC(".maps");

/* The datapath's clock, per CPU: see dp_now(). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ipsm_clock);
} dp_clock SEC(".maps");

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

/* Kept by attach and the monitor, read on the miss path. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, IPSM_MAX_LOCAL_ADDRS);
	__type(key, struct ipsm_addr_key);
	__type(value, __u8);
} local_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IPSM_LOCAL_MEMO_SLOTS);
	__type(key, __u32);
	__type(value, struct ipsm_local_memo);
} local_memo SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ipsm_marks);
} marks SEC(".maps");

/*
 * The kernel's own SA lookup (6.8+). Weak, so that the object still loads
 * where it is missing; the loader then leaves ipsecmon_xdp_kfunc unloaded.
 */
extern struct xfrm_state *bpf_xdp_get_xfrm_state(struct xdp_md *ctx,
						 struct bpf_xfrm_state_opts *opts,
						 __u32 opts__sz) __ksym __weak;
extern void bpf_xdp_xfrm_state_release(struct xfrm_state *x) __ksym __weak;

/*
 * CLOCK_MONOTONIC_COARSE, which the datapath's timestamps are in, only
 * moves at a tick: read it once per jiffy per CPU and take that copy until
 * the next (bpf_jiffies64() is inlined to a load; the clock read is a call,
 * 5-9 ns in make bench's reference). Right at a tick the copy can be the
 * previous tick's value: a timestamp one tick early, never ahead.
 */
static __always_inline __u64 dp_now(void)
{
	__u64 j = bpf_jiffies64();
	struct ipsm_clock *c;
	__u32 k = 0;

	c = bpf_map_lookup_elem(&dp_clock, &k);
	if (!c)
		return bpf_ktime_get_coarse_ns();
	if (c->jiffies != j) {
		c->ns = bpf_ktime_get_coarse_ns();
		c->jiffies = j;
	}
	return c->ns;
}

/* What the kernel's SA lookup said about an inbound packet's SA. */
enum sa_check {
	SA_UNCHECKED, /* not asked, or it could not say */
	SA_EXISTS,
	SA_MISSING,
};

/* The hook a packet came through, and what its frame showed. */
#define CS_RX (1U << 0)
#define CS_XDP (1U << 1) /* ctx is an xdp_md, else an __sk_buff */
#define CS_KFUNC (1U << 2) /* XDP with the kernel's SA lookup (6.8+) */
#define CS_OTHER_HOST (1U << 3) /* to another host's MAC: never ours */

static __always_inline void seq_track(struct ipsm_sa_val *v, __u32 seq)
{
	__u32 ahead, back, from_jump;
	__s32 diff;
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
		ahead = diff;
		if (ahead > IPSM_SEQ_JUMP_MAX) {
			/* Believed only when the next packet is near it: one spoof cannot. */
			from_jump = seq - v->seq_jump;
			if (!(v->flags & IPSM_SA_F_SEQ_JUMP) || !from_jump ||
			    from_jump > IPSM_SEQ_JUMP_MAX) {
				v->flags |= IPSM_SA_F_SEQ_JUMP;
				v->seq_jump = seq;
				v->seq_suspect++;
				return;
			}
			/* Confirmed: the first of the two was no spoof after all. */
			v->seq_suspect--;
			v->seq_window = 1;
			if (from_jump < IPSM_SEQ_WINDOW)
				v->seq_window |= 1ULL << from_jump;
			v->seq_gaps += ahead - 1 - (from_jump < IPSM_SEQ_WINDOW);
			v->flags &= ~IPSM_SA_F_SEQ_JUMP;
			v->seq_max = seq;
			return;
		}
		v->seq_window = ahead < IPSM_SEQ_WINDOW ? (v->seq_window << ahead) | 1 : 1;
		v->seq_gaps += ahead - 1;
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
		/* A late packet filled a hole counted as a gap: reordered, not lost. */
		v->seq_window |= bit;
		v->seq_filled++;
	}
}

/* The one-second window of the per-CPU budgets: a new one, both budgets whole. */
static __always_inline void dp_window(struct ipsm_dp *d, __u64 now)
{
	if (now - d->window_start >= 1000000000ULL) {
		d->window_start = now;
		d->window_inserts = 0;
		d->window_checks = 0;
	}
}

static __always_inline struct ipsm_config *ns_config(void)
{
	__u32 k = 0;

	return bpf_map_lookup_elem(&correlation, &k);
}

/*
 * A zeroed row, counted in the filter first and out again if it was not
 * made (another CPU made it, or the table is full): the filter never
 * shows fewer rows than there are. Its own function, so that a refused
 * insert clears no stack.
 */
static __noinline int row_create(struct ipsm_sa_key *key)
{
	__u32 idx = ipsm_row_filter_slot(key);
	struct ipsm_sa_val zero = {};
	__u64 *n;
	long err;

	n = bpf_map_lookup_elem(&sa_filter, &idx);
	if (!n)
		return -1;
	__sync_fetch_and_add(n, 1);
	err = bpf_map_update_elem(&sa_stats, key, &zero, BPF_NOEXIST);
	if (err)
		__sync_fetch_and_add(n, (__u64)-1);
	return err;
}

/* Whether the filter says the key has no row; false when it cannot say. */
static __always_inline bool row_absent(const struct ipsm_sa_key *key)
{
	struct ipsm_config *c = ns_config();
	__u32 idx = ipsm_row_filter_slot(key);
	__u64 *n;

	if (!c || !(c->flags & IPSM_CFG_ROW_FILTER))
		return false;
	n = bpf_map_lookup_elem(&sa_filter, &idx);
	return n && !*(volatile __u64 *)n;
}

/*
 * Slow path for an SPI without a row: create one, within a per-CPU budget of
 * inserts per second, and not at all for a second after the table was found
 * full. A packet that gets no row here is counted as untracked here, on the
 * same dp lookup. Returns 0 when a row exists now.
 */
static __noinline int sa_insert(struct ipsm_sa_key *key, __u64 now, __u32 bytes)
{
	struct ipsm_dp *d;
	__u32 k = 0;
	int err;

	d = bpf_map_lookup_elem(&dp, &k);
	if (!d)
		return -1;
	if (now < d->full_until)
		goto untracked;
	dp_window(d, now);
	if (d->window_inserts >= inserts_per_sec)
		goto untracked;
	d->window_inserts++;
	err = row_create(key);
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

static __always_inline bool addr_eq(const __u8 *a, const __u8 *b, __u32 af)
{
	if (af == IPSM_AF_IPV4)
		return *(__u32 *)a == *(__u32 *)b;
	return *(__u64 *)a == *(__u64 *)b && *(__u64 *)(a + 8) == *(__u64 *)(b + 8);
}

/* c: the namespace's ns_config(), which the caller has at hand (may be NULL). */
static __noinline void count_bad_spi(struct pkt *p, __u64 now, const struct ipsm_config *c)
{
	struct ipsm_bad_spi *b;
	struct ipsm_dp *d;
	__u32 k = 0, h;

	d = bpf_map_lookup_elem(&dp, &k);
	if (!d)
		return;
	d->bad_spi_packets++;
	d->bad_spi_bytes += p->ip_len;

	/* Seeded per namespace: a flood cannot aim its SPIs at one slot. */
	h = (p->spi ^ (c ? c->hash_seed : 0)) * 0x9e3779b1;
	h ^= *(__u32 *)p->src * 0x85ebca6b ^ *(__u32 *)p->dst * 0xc2b2ae35;
	h ^= h >> 16;
	k = h & (IPSM_BAD_SPI_SLOTS - 1);
	b = bpf_map_lookup_elem(&bad_spis, &k);
	if (!b)
		return;
	if (b->spi != p->spi || b->proto != p->proto || b->family != p->af ||
	    !addr_eq(b->saddr, p->src, p->af) || !addr_eq(b->daddr, p->dst, p->af)) {
		/* Take the slot over field by field: no clearing of the whole slot. */
		if (b->spi)
			d->bad_spi_evicted++;
		b->spi = p->spi;
		b->proto = p->proto;
		b->family = p->af;
		__builtin_memcpy(b->saddr, p->src, 16);
		__builtin_memcpy(b->daddr, p->dst, 16);
		b->packets = 0;
		b->bytes = 0;
		b->first_seen = now;
	}
	b->packets++;
	b->bytes += p->ip_len;
	b->last_seen = now;
}

/* An IKE message to or from a peer: its slot, taken over if another peer held it. */
static __noinline void count_ike_peer(struct pkt *p, __u32 dir)
{
	/* Either address of the 8-aligned struct pkt: copied as words. */
	const __u8 *peer = __builtin_assume_aligned(dir == IPSM_DIR_RX ? p->src : p->dst, 8);
	struct ipsm_config *c = ns_config();
	struct ipsm_ike_peer *e;
	struct ipsm_dp *d;
	__u32 k = 0, h;

	/*
	 * Seeded per namespace; every address bit must reach the slot index
	 * (addresses of one subnet differ in their last byte only), hence a
	 * full 32-bit finalizer (MurmurHash3's) after folding the words.
	 */
	h = *(__u32 *)peer ^ (c ? c->hash_seed : 0);
	h ^= *(__u32 *)(peer + 4) * 0x9e3779b1 ^ *(__u32 *)(peer + 8) * 0x7feb352d ^
	     *(__u32 *)(peer + 12) * 0x846ca68b;
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	k = h & (IPSM_IKE_PEER_SLOTS - 1);
	e = bpf_map_lookup_elem(&ike_peers, &k);
	if (!e)
		return;
	if (!e->used || e->family != p->af || !addr_eq(e->addr, peer, p->af)) {
		if (e->used) {
			k = 0;
			d = bpf_map_lookup_elem(&dp, &k);
			if (d)
				d->ike_peer_evicted++;
		}
		e->used = 1;
		e->family = p->af;
		__builtin_memcpy(e->addr, peer, 16);
		e->msgs[IPSM_DIR_RX] = 0;
		e->msgs[IPSM_DIR_TX] = 0;
	}
	e->msgs[dir & 1]++;
	e->last_seen = dp_now();
}

/* Offsets in the IKE header (RFC 7296 §3.1). */
#define IKE_OFF_SPI_R 8
#define IKE_OFF_NEXT 16
#define IKE_OFF_EXCH 18
#define IKE_OFF_FLAGS 19
#define IKE_OFF_MSGID 20 /* the message ID, then the length: one word */
#define IKE_OFF_LEN 24

/* One round of the digest: a word in, mixed through a multiply. */
static __always_inline __u64 ike_mix(__u64 h, __u64 w)
{
	h ^= w;
	h *= 0xff51afd7ed558ccdULL;
	return h ^ (h >> 32);
}

/*
 * 64 bits that tell one IKEv2 message from another, seeded per namespace
 * so that no peer can aim its messages at another's set; never 0, which
 * marks an empty way. The length is in it, so that a request made again
 * with a cookie or another KE payload (same SPIs and message ID, RFC 7296
 * §2.6-2.7) is not taken for a retransmit; so is the fragment number of an
 * IKE fragment (RFC 7383), whose siblings share all the rest, and the
 * peer's address: another host's message with the same SPIs (a replay from
 * elsewhere, a collision) is none. Two messages share a digest with odds
 * of 2^-64: a new one is taken for a retransmit once in 2^62.
 *
 * The words are taken from the packet and from registers as they are, not
 * gathered into a struct first: a memcpy from the packet is a byte loop,
 * and a word read back over narrower stores stalls store forwarding
 * (together about 20 ns of make bench's IKE case).
 */
static __always_inline __u64 ike_digest(const __u8 *ih, const __u8 *peer, __u64 tail, __u32 seed)
{
	const __u32 *a = (const __u32 *)peer;
	__u64 h = seed ^ 0x9e3779b97f4a7c15ULL;

	h = ike_mix(h, *(const __u64 *)ih); /* the SPIs, as on the wire */
	h = ike_mix(h, *(const __u64 *)(ih + IKE_OFF_SPI_R));
	h = ike_mix(h, a[0] | (__u64)a[1] << 32);
	h = ike_mix(h, a[2] | (__u64)a[3] << 32);
	h = ike_mix(h, *(const __u64 *)(ih + IKE_OFF_MSGID));
	h = ike_mix(h, tail);
	/* MurmurHash3's 64-bit finalizer: every input bit reaches the set index. */
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h ? h : 1;
}

/* Whether the message was seen lately; remembered now if it was not. */
static __always_inline bool ike_seen(__u64 d)
{
	struct ipsm_ike_msg_set *set;
	__u32 idx = d >> 52, i;

	_Static_assert(IPSM_IKE_MSG_SETS == 1 << 12, "ike_seen(): 12 bits of set index");
	set = bpf_map_lookup_elem(&ike_msgs, &idx);
	if (!set)
		return false;
#pragma unroll
	for (i = 0; i < IPSM_IKE_MSG_WAYS; i++)
		if (set->digest[i] == d)
			return true;
#pragma unroll
	for (i = IPSM_IKE_MSG_WAYS - 1; i > 0; i--)
		set->digest[i] = set->digest[i - 1];
	set->digest[0] = d;
	return false;
}

#define IKE_F_INITIATOR 0x08
#define IKE_F_RESPONSE 0x20
#define IKE_V2_SA_INIT 34
#define IKE_V2_AUTH 35
#define IKE_PL_NOTIFY 41
#define IKE_PL_SKF 53 /* Encrypted and Authenticated Fragment (RFC 7383) */
/* An IKE_SA_INIT response has SA, KE, Nonce and a few notifies: 16 is ample. */
#define IKE_PAYLOADS_MAX 16

/*
 * Bytes at a frame offset, for either hook; the skb may be non-linear, the
 * XDP frame multi-buffer. how is a constant at every call.
 */
static __always_inline long ike_load(void *ctx, __u32 how, __u32 off, void *buf, __u32 len)
{
	if (how & CS_XDP)
		return bpf_xdp_load_bytes(ctx, off, buf, len);
	return bpf_skb_load_bytes(ctx, off, buf, len);
}

static __always_inline void ike_count(__u32 idx)
{
	__u64 *n = bpf_map_lookup_elem(&ike, &idx);

	if (n)
		(*n)++;
}

/* The counter of a notify type, or -1 for a status type we do not count. */
static __always_inline int notify_slot(__u16 type)
{
	switch (type) {
	case 14:
		return IPSM_NTF_NO_PROPOSAL_CHOSEN;
	case 17:
		return IPSM_NTF_INVALID_KE_PAYLOAD;
	case 16390:
		return IPSM_NTF_COOKIE;
	case 7:
		return IPSM_NTF_INVALID_SYNTAX;
	}
	return type < 16384 ? IPSM_NTF_OTHER : -1;
}

/*
 * Count the notifies of an IKE_SA_INIT response whose payloads run from off
 * to end, the first of type np. Returns 1 when one refused the exchange (an
 * error, or a cookie to come back with), else 0.
 */
static __noinline int ike_notifies(void *ctx, __u32 how, __u32 off, __u32 end, __u8 np)
{
	int i, slot, refused = 0;
	__u8 g[4], n[4];
	__u16 plen;

	for (i = 0; i < IKE_PAYLOADS_MAX; i++) {
		if (!np || off + 4 > end || ike_load(ctx, how, off, g, 4))
			break;
		plen = (__u16)g[2] << 8 | g[3];
		if (plen < 4)
			break; /* malformed: the responder's parser stops here too */
		/* Notify: protocol, SPI size, then the type (§3.10). */
		if (np == IKE_PL_NOTIFY && plen >= 8 && !ike_load(ctx, how, off + 4, n, 4)) {
			slot = notify_slot((__u16)n[2] << 8 | n[3]);
			if (slot >= 0) {
				ike_count(IPSM_IKE_NOTIFY_IDX(slot));
				refused = 1;
			}
		}
		np = g[0];
		off += plen;
	}
	return refused;
}

/*
 * An IKEv2 message: a retransmit when seen before (and nothing more is made
 * of it); else the notifies of an IKE_SA_INIT response, which starts a
 * half-open IKE SA unless it refused, and an IKE_AUTH that completes one.
 * classify() read the IKE header between data and data_end, so it is read
 * there again, directly: a load helper per field cost more than the rest.
 */
static __always_inline void ike_health(void *ctx, __u32 how, void *data, void *data_end,
				       const struct pkt *p)
{
	const __u32 dir = how & CS_RX ? IPSM_DIR_RX : IPSM_DIR_TX;
	/* The peer: the source of what we receive, the destination of what we send. */
	const __u8 *peer = __builtin_assume_aligned(dir == IPSM_DIR_RX ? p->src : p->dst, 8);
	__u32 l3 = p->l3_off, off = p->ike_off, len;
	struct ipsm_config *c = ns_config();
	struct ipsm_ike_sa_key sk;
	struct ipsm_ike_sa *sa;
	__u8 np, exch, flags;
	__u16 frag = 0;
	__u8 *ih = data;
	__u64 now, d;

	/* Bounds for the verifier, which sees the offsets as any value here. */
	if (l3 > ETH_HLEN_ + 4 * VLAN_MAX_DEPTH || off > L4_OFF_MAX)
		return;
	ih += l3 + off;
	if ((void *)(ih + IKE_HDR_LEN) > data_end)
		return;
	np = ih[IKE_OFF_NEXT];
	exch = ih[IKE_OFF_EXCH];
	flags = ih[IKE_OFF_FLAGS] & (IKE_F_INITIATOR | IKE_F_RESPONSE);
	/* Fragment Number: after the generic payload header; network order. */
	if (np == IKE_PL_SKF) {
		if ((void *)(ih + IKE_HDR_LEN + 6) <= data_end)
			frag = *(__u16 *)(ih + IKE_HDR_LEN + 4);
		else
			ike_load(ctx, how, l3 + off + IKE_HDR_LEN + 4, &frag, 2);
	}
	d = ike_digest(ih, peer,
		       p->ifindex | (__u64)frag << 32 | (__u64)exch << 48 |
			       (__u64)(dir | flags) << 56,
		       c ? c->hash_seed : 0);
	if (ike_seen(d)) {
		ike_count(IPSM_IKE_RETX_IDX(dir));
		return;
	}
	now = dp_now();

	sk.spi_i = *(__u64 *)ih;
	sk.spi_r = *(__u64 *)(ih + IKE_OFF_SPI_R);
	if (exch == IKE_V2_SA_INIT && (flags & IKE_F_RESPONSE)) {
		struct ipsm_ike_sa n = {};

		len = bpf_ntohl(*(__u32 *)(ih + IKE_OFF_LEN));
		off += l3 + IKE_HDR_LEN;
		if (ike_notifies(ctx, how, off, off - IKE_HDR_LEN + len, np) || !sk.spi_r)
			return;
		n.answered = now;
		n.family = p->af;
		__builtin_memcpy(n.peer, peer, sizeof(n.peer));
		bpf_map_update_elem(&ike_sas, &sk, &n, BPF_NOEXIST);
	} else if (exch == IKE_V2_AUTH) {
		sa = bpf_map_lookup_elem(&ike_sas, &sk);
		if (sa && !sa->authed)
			sa->authed = now;
	}
}

/*
 * Global functions, one per context type: the verifier checks each once,
 * not again on every parse path that reaches it (on 6.1 that exceeded its
 * 1M-instruction budget). p is never NULL (see ipsm_l4_xdp()); its ifindex
 * is the hook's.
 */
__noinline int ipsm_ike_health_xdp(struct xdp_md *ctx, struct pkt *p, __u32 rx)
{
	if (p)
		ike_health(ctx, CS_XDP | (rx & CS_RX), (void *)(long)ctx->data,
			   (void *)(long)ctx->data_end, p);
	return 0;
}

__noinline int ipsm_ike_health_skb(struct __sk_buff *ctx, struct pkt *p, __u32 rx)
{
	if (p)
		ike_health(ctx, rx & CS_RX, (void *)(long)ctx->data, (void *)(long)ctx->data_end,
			   p);
	return 0;
}

/*
 * Before the address list is kept, the FIB is asked: it says "not
 * forwarded" for local addresses (and also for some it cannot route).
 */
static __noinline bool fib_says_local(void *ctx, struct pkt *p)
{
	struct bpf_fib_lookup fib = {};
	long ret;

	fib.ifindex = p->ifindex;
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
	return ret == BPF_FIB_LKUP_RET_NOT_FWDED || ret == BPF_FIB_LKUP_RET_FWD_DISABLED;
}

/*
 * XFRM only decrypts what is addressed to the host; ESP it forwards is not
 * its SAs' business, so a bad SPI needs a local destination. The monitor
 * and attach keep the namespace's addresses in local_addrs. Inlined, with
 * the FIB's request in a function of its own: a flood's packet that the
 * memo answers makes no call and clears no 64-byte request.
 */
static __always_inline bool dst_is_local(void *ctx, struct pkt *p, __u64 now,
					 const struct ipsm_config *c)
{
	struct ipsm_addr_key key = {};
	struct ipsm_local_memo *m;
	bool local;
	__u32 k;

	if (c && (c->flags & IPSM_CFG_LOCAL_ADDRS)) {
		/* The memo first: the list is a hash lookup, the memo an array slot. */
		k = (*(__u32 *)p->dst ^ *(__u32 *)(p->dst + 12)) * 0x9e3779b1;
		k >>= 32 - 6;
		_Static_assert(IPSM_LOCAL_MEMO_SLOTS == 1 << 6, "dst_is_local(): 6 bits of slot");
		m = bpf_map_lookup_elem(&local_memo, &k);
		if (m && now < m->until && m->family == p->af && addr_eq(m->addr, p->dst, p->af))
			return m->local;
		key.family = p->af;
		__builtin_memcpy(key.addr, p->dst, 16);
		local = bpf_map_lookup_elem(&local_addrs, &key) != NULL;
		if (m) {
			__builtin_memcpy(m->addr, p->dst, 16);
			m->family = p->af;
			m->local = local;
			m->until = now + IPSM_LOCAL_MEMO_NS;
		}
		return local;
	}
	return fib_says_local(ctx, p);
}

/*
 * Ask the kernel's SAD whether the inbound packet's SA exists (XDP, 6.8+),
 * with no mark and then with each mark its SAs use.
 */
static __noinline int kernel_sa_check(struct xdp_md *ctx, struct pkt *p)
{
	struct bpf_xfrm_state_opts opts = {};
	struct xfrm_state *x;
	struct ipsm_marks *m;
	__u32 k = 0, i, n = 0;
	int res = SA_MISSING;

	m = bpf_map_lookup_elem(&marks, &k);
	if (m)
		n = m->n < IPSM_MAX_MARKS ? m->n : IPSM_MAX_MARKS;
	opts.netns_id = BPF_F_CURRENT_NETNS;
	opts.spi = p->spi;
	opts.proto = p->proto;
	opts.family = p->af == IPSM_AF_IPV4 ? 2 /* AF_INET */ : 10 /* AF_INET6 */;
	__builtin_memcpy(&opts.daddr, p->dst, 16);
	for (i = 0; i <= IPSM_MAX_MARKS; i++) {
		if (i > n)
			break;
		opts.mark = i && m ? m->mark[(i - 1) & (IPSM_MAX_MARKS - 1)] : 0;
		opts.error = 0;
		x = bpf_xdp_get_xfrm_state(ctx, &opts, sizeof(opts));
		if (x) {
			bpf_xdp_xfrm_state_release(x);
			return SA_EXISTS;
		}
		/* -ENOENT is "no such SA"; anything else says nothing about the SPI. */
		if (opts.error != -2)
			res = SA_UNCHECKED;
	}
	return res;
}

/*
 * Whether an SPI without a row may still be asked about this second: a
 * random-SPI flood pays for the kernel's lookup only up to the budget, and
 * past it is decided as on a kernel without the lookup. Rows due for their
 * revalidation are always asked (that finds deleted SAs).
 */
static __always_inline bool kernel_check_allowed(__u64 now)
{
	struct ipsm_dp *d;
	__u32 k = 0;

	d = bpf_map_lookup_elem(&dp, &k);
	if (!d)
		return false;
	dp_window(d, now);
	if (d->window_checks >= IPSM_KERNEL_CHECKS_PER_SEC) {
		d->kernel_checks_skipped++;
		return false;
	}
	d->window_checks++;
	return true;
}

/* Update a row: the only writes a known SA's packet makes. */
static __always_inline void sa_account(struct ipsm_sa_val *v, struct pkt *p, __u64 now)
{
	__u32 f = p->cls == IPSM_CLASS_ESP_IN_UDP ? IPSM_SA_F_UDP_ENCAP : IPSM_SA_F_PLAIN;

	if (!v->first_seen) {
		v->first_seen = now;
		__builtin_memcpy(v->saddr, p->src, 16);
	}
	v->last_seen = now;
	v->packets++;
	v->bytes += p->ip_len;
	if (!(v->flags & f))
		v->flags |= f;
	seq_track(v, p->seq);
}

/*
 * No row for the key, or one whose kernel lookup is due again (v != NULL).
 * Inbound: a bad SPI when nothing has the SA and it is addressed to us;
 * otherwise a row is made (within the insert budget, except for SAs the
 * kernel confirmed) and the packet counted.
 */
static __noinline void sa_slow(void *ctx, struct pkt *p, struct ipsm_sa_key *key,
			       struct ipsm_sa_val *v, __u32 how)
{
	struct ipsm_config *c = ns_config();
	__u64 now = dp_now();
	int check = SA_UNCHECKED;
	bool local = false;

	if (how & CS_RX) {
		/*
		 * Only what is addressed to us can be one of our SAs or a bad
		 * SPI: the address map first, the kernel's (dearer) lookup
		 * only for those, so a transit flood never pays for it.
		 */
		if (!(how & CS_OTHER_HOST))
			local = dst_is_local(ctx, p, now, c);
		if (local && (how & CS_KFUNC) && (v || kernel_check_allowed(now)))
			check = kernel_sa_check(ctx, p);
		if (local) {
			if (check == SA_MISSING ||
			    (check == SA_UNCHECKED && !v && c && now < c->live_until)) {
				/* A row the kernel has no SA for: bad SPIs until asked again. */
				if (v && check == SA_MISSING) {
					v->checked = now;
					v->flags |= IPSM_SA_F_MISSING;
				}
				count_bad_spi(p, now, c);
				return;
			}
		}
	}
	if (!v) {
		if (check == SA_EXISTS) {
			/* A kernel SA: its row, whatever the budget. */
			row_create(key);
		} else if (sa_insert(key, now, p->ip_len)) {
			return;
		}
		v = bpf_map_lookup_elem(&sa_stats, key);
		if (!v) {
			/* Table full, or deleted again at once (the monitor pruning it). */
			count_untracked(p->ip_len);
			return;
		}
	}
	/* Decided (the kernel's SA, or not ours to decide): ask again only later. */
	if (check == SA_EXISTS || ((how & CS_KFUNC) && !local)) {
		v->checked = now;
		if (v->flags & IPSM_SA_F_MISSING)
			v->flags &= ~IPSM_SA_F_MISSING;
	}
	sa_account(v, p, now);
}

/* Whether an XDP frame is for another host's MAC: the stack would drop it. */
static __always_inline bool other_host(void *data, void *data_end)
{
	struct ipsm_iface_meta *m;
	__u8 *eth = data;
	__u32 k = 0;

	if ((void *)(eth + 6) > data_end || (eth[0] & 1))
		return false; /* multicast and broadcast are everyone's */
	m = bpf_map_lookup_elem(&iface_meta, &k);
	if (!m || !(*(__u32 *)m->mac | *(__u16 *)(m->mac + 4)))
		return false;
	return *(__u32 *)eth != *(__u32 *)m->mac || *(__u16 *)(eth + 4) != *(__u16 *)(m->mac + 4);
}

/* The slow path's view of the hook: the ifindex and whether the frame is ours. */
static __always_inline __u32 slow_how(void *ctx, struct pkt *p, __u32 how, void *data,
				      void *data_end)
{
	if (how & CS_XDP) {
		p->ifindex = ((struct xdp_md *)ctx)->ingress_ifindex;
		if ((how & CS_RX) && other_host(data, data_end))
			how |= CS_OTHER_HOST;
	} else {
		p->ifindex = ((struct __sk_buff *)ctx)->ifindex;
		if ((how & CS_RX) && ((struct __sk_buff *)ctx)->pkt_type == 3 /* OTHERHOST */)
			how |= CS_OTHER_HOST;
	}
	return how;
}

/* A key as the three words the cache compares; the stack copy must be aligned for that. */
union sa_key_words {
	struct ipsm_sa_key k;
	__u64 w[3];
};

/* The first word of struct ipsm_sa_key: dir, proto, family, pad, then the SPI. */
static __always_inline __u64 sa_key_word0(__u8 dir, __u8 proto, __u8 family, __u32 spi)
{
	_Static_assert(__builtin_offsetof(struct ipsm_sa_key, spi) == 4 &&
			       __builtin_offsetof(struct ipsm_sa_key, daddr) == 8,
		       "sa_key_word0(): the key's layout");
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return dir | (__u32)proto << 8 | (__u32)family << 16 | (__u64)spi << 32;
#else
	return (__u64)dir << 56 | (__u64)proto << 48 | (__u64)family << 40 | spi;
#endif
}

static __always_inline bool slot_holds(const struct ipsm_sa_slot *s, const union sa_key_words *key)
{
	const __u64 *w = (const __u64 *)&s->key;

	return w[0] == key->w[0] && w[1] == key->w[1] && w[2] == key->w[2];
}

/*
 * Give the slot's value back to its row, unless the row changed under it
 * (user space rewrote it, or deleted it and a new one was made): then the
 * slot's counts were read from it by user space already, or belong to a
 * row that is gone.
 */
static __noinline void slot_flush(struct ipsm_sa_slot *s)
{
	struct ipsm_sa_val *w;

	/* Every change to a slot counts a packet: none since the fill, nothing to give. */
	if (s->val.packets == s->fill_packets) {
		s->key.spi = 0;
		return;
	}
	w = bpf_map_lookup_elem(&sa_stats, &s->key);
	if (w && w->cache_tag == s->val.cache_tag && w->packets == s->fill_packets &&
	    w->first_seen == s->val.first_seen)
		*w = s->val;
	s->key.spi = 0;
}

/*
 * The row gets a new tag, which its copy in the slot shares: a row deleted
 * and made again within the same tick, with as many packets, still differs.
 * The key last, so that a reader that sees it sees the value it goes with.
 */
static __always_inline void slot_fill(struct ipsm_sa_slot *s, const union sa_key_words *key,
				      struct ipsm_sa_val *v, __u64 epoch)
{
	__u64 *w = (__u64 *)&s->key;

	v->cache_tag = bpf_get_prandom_u32() | 1;
	s->val = *v;
	s->fill_packets = v->packets;
	s->epoch = epoch;
	asm volatile("" ::: "memory");
	w[1] = key->w[1];
	w[2] = key->w[2];
	asm volatile("" ::: "memory");
	w[0] = key->w[0];
}

static __always_inline void count_sa(void *ctx, struct pkt *p, __u32 how, void *data,
				     void *data_end)
{
	union sa_key_words key;
	struct ipsm_sa_slot *s;
	struct ipsm_sa_val *v;
	__u32 k = 0, idx;
	__u64 now, *epoch;

	/* SPIs 1-255 are reserved (RFC 4303 §2.1): no SA, so no row and no bad SPI. */
	if (!(p->spi & bpf_htonl(0xffffff00))) {
		struct ipsm_dp *d;

		d = bpf_map_lookup_elem(&dp, &k);
		if (d)
			d->reserved_spi_packets++;
		return;
	}
	/* Whole words, as slot_holds() reads them: narrow stores would not forward. */
	key.w[0] = sa_key_word0(how & CS_RX ? IPSM_DIR_RX : IPSM_DIR_TX, p->proto, p->af, p->spi);
	key.w[1] = *(__u64 *)p->dst;
	key.w[2] = *(__u64 *)(p->dst + 8);

	idx = ipsm_sa_slot_of(&key.k);
	s = bpf_map_lookup_elem(&sa_cache, &idx);
	epoch = bpf_map_lookup_elem(&sa_epoch, &k);
	if (!s || !epoch)
		return; /* cannot happen: arrays of fixed size */
	if (s->epoch == *epoch && slot_holds(s, &key)) {
		v = &s->val;
		s = NULL; /* nothing to fill */
	} else {
		v = row_absent(&key.k) ? NULL : bpf_map_lookup_elem(&sa_stats, &key.k);
		if (!v) {
			sa_slow(ctx, p, &key.k, NULL, slow_how(ctx, p, how, data, data_end));
			return;
		}
		/* The row takes the slot: what it held goes back first (maybe to this row). */
		if (s->key.spi)
			slot_flush(s);
	}
	now = dp_now();
	/* A row decided lately is trusted; an older one is asked about again. */
	if ((how & CS_KFUNC) && (__s64)(now - v->checked) > (__s64)revalidate_ns)
		sa_slow(ctx, p, &key.k, v, slow_how(ctx, p, how, data, data_end));
	else if ((how & CS_KFUNC) && (v->flags & IPSM_SA_F_MISSING) &&
		 !(slow_how(ctx, p, how, data, data_end) & CS_OTHER_HOST))
		count_bad_spi(p, now, ns_config());
	else
		sa_account(v, p, now);
	/* Only a row this CPU counted in: its first_seen tells it from a new row. */
	if (s && v->first_seen)
		slot_fill(s, &key, v, *epoch);
}

/* Count a classified packet; how: CS_* of the hook. */
static __always_inline void account(void *ctx, struct pkt *p, __u32 how, void *data, void *data_end)
{
	const __u32 dir = how & CS_RX ? IPSM_DIR_RX : IPSM_DIR_TX;
	struct ipsm_ctr *c;
	__u64 *n;
	__u32 k;

	k = IPSM_TRAFFIC_IDX(dir, p->af, p->cls);
	c = bpf_map_lookup_elem(&traffic, &k);
	if (c) {
		c->packets++;
		c->bytes += p->ip_len;
	}

	switch (p->cls) {
	case IPSM_CLASS_ESP:
	case IPSM_CLASS_AH:
	case IPSM_CLASS_ESP_IN_UDP:
		count_sa(ctx, p, how, data, data_end);
		break;
	case IPSM_CLASS_IKE:
		k = IPSM_IKE_IDX(dir, p->ike_ver, p->ike_exch, p->ike_resp);
		n = bpf_map_lookup_elem(&ike, &k);
		if (n)
			(*n)++;
		/* IKE over IP only: a peer has an address. */
		if (p->af != IPSM_AF_OTHER)
			count_ike_peer(p, dir);
		if (p->ike_ver == IPSM_IKE_V2) {
			if (how & CS_XDP) {
				p->ifindex = ((struct xdp_md *)ctx)->ingress_ifindex;
				ipsm_ike_health_xdp(ctx, p, how & CS_RX);
			} else {
				p->ifindex = ((struct __sk_buff *)ctx)->ifindex;
				ipsm_ike_health_skb(ctx, p, how & CS_RX);
			}
		}
		break;
	}
}

/*
 * The L4 parse, one global function per context type: see defer_l4().
 * p is never NULL; the check is what the verifier asks of a pointer
 * argument.
 */
__noinline int ipsm_l4_xdp(struct xdp_md *ctx, struct pkt *p)
{
	if (p)
		parse_l4_deferred(p, (void *)(long)ctx->data, (void *)(long)ctx->data_end,
				  IPSM_DIR_RX);
	return 0;
}

__noinline int ipsm_l4_skb(struct __sk_buff *skb, struct pkt *p, __u32 dir)
{
	if (p)
		parse_l4_deferred(p, (void *)(long)skb->data, (void *)(long)skb->data_end, dir);
	return 0;
}

SEC("xdp")
int ipsecmon_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	struct pkt p = {};

	classify(&p, data, data_end, data_end - data, IPSM_DIR_RX);
	if (p.l4_proto)
		ipsm_l4_xdp(ctx, &p);
	account(ctx, &p, CS_RX | CS_XDP, data, data_end);
	return XDP_PASS;
}

/* The same, deciding bad SPIs with the kernel's SA lookup (6.8+). */
SEC("xdp")
int ipsecmon_xdp_kfunc(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	struct pkt p = {};

	classify(&p, data, data_end, data_end - data, IPSM_DIR_RX);
	if (p.l4_proto)
		ipsm_l4_xdp(ctx, &p);
	account(ctx, &p, CS_RX | CS_XDP | CS_KFUNC, data, data_end);
	return XDP_PASS;
}

/*
 * TC reads the linear part of the skb in place. Only when the headers did
 * not all fit in it (which locally built and GRO'd skbs never do) is the
 * skb pulled and the packet classified again: a pull may un-clone and
 * reallocate the skb, so it must not happen to every packet.
 */
static __always_inline void tc_count(struct __sk_buff *skb, const __u32 how)
{
	const __u32 dir = how & CS_RX ? IPSM_DIR_RX : IPSM_DIR_TX;
	__u32 want = skb->len < TC_PULL_LEN ? skb->len : TC_PULL_LEN;
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct pkt p = {};

	classify(&p, data, data_end, skb->len, dir);
	if (p.l4_proto)
		ipsm_l4_skb(skb, &p, dir);
	if (data_end - data < want &&
	    (p.cls == IPSM_CLASS_MALFORMED ||
	     (p.cls == IPSM_CLASS_IKE && p.ike_ver == IPSM_IKE_UNKNOWN))) {
		bpf_skb_pull_data(skb, want);
		/*
		 * The pull moved skb->data: reload it. The barrier also stops
		 * clang from turning the ctx field offsets into pointer
		 * arithmetic the verifier rejects.
		 */
		asm volatile("" : "+r"(skb));
		data = (void *)(long)skb->data;
		data_end = (void *)(long)skb->data_end;
		__builtin_memset(&p, 0, sizeof(p));
		classify(&p, data, data_end, skb->len, dir);
		if (p.l4_proto)
			ipsm_l4_skb(skb, &p, dir);
	}
	account(skb, &p, how, data, data_end);
}

SEC("tc")
int ipsecmon_tc_ingress(struct __sk_buff *skb)
{
	tc_count(skb, CS_RX);
	return TC_ACT_UNSPEC_;
}

SEC("tc")
int ipsecmon_tc_egress(struct __sk_buff *skb)
{
	tc_count(skb, 0);
	return TC_ACT_UNSPEC_;
}

char LICENSE[] SEC("license") = "GPL";
