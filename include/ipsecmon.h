/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Types shared by the datapath (bpf/) and the loader (user/).
 *
 * No includes on purpose: the BPF side gets __u8..__u64 from vmlinux.h, the
 * user side from <linux/types.h>. Every layout here is part of the pinned-map
 * ABI: changing one means old pins must be detached first.
 */
#ifndef IPSECMON_H
#define IPSECMON_H

#define IPSM_ABI_VERSION 4

enum ipsm_dir {
	IPSM_DIR_RX = 0, /* XDP or TC ingress */
	IPSM_DIR_TX = 1, /* TC egress */
	IPSM_DIR_MAX,
};

enum ipsm_family {
	IPSM_AF_IPV4 = 0,
	IPSM_AF_IPV6 = 1,
	IPSM_AF_OTHER = 2, /* not IP, or a third VLAN tag we do not look under */
	IPSM_AF_MAX,
};

enum ipsm_class {
	IPSM_CLASS_ESP = 0,
	IPSM_CLASS_AH,
	IPSM_CLASS_ESP_IN_UDP,
	IPSM_CLASS_IKE, /* UDP 500, or UDP 4500 behind the non-ESP marker */
	IPSM_CLASS_NAT_KEEPALIVE,
	IPSM_CLASS_OTHER,
	IPSM_CLASS_FRAGMENT, /* non-first IPv4/IPv6 fragment: no L4 header */
	IPSM_CLASS_MALFORMED, /* truncated or inconsistent headers */
	IPSM_CLASS_MAX,
};

/* Index into the per-interface "traffic" map. */
#define IPSM_TRAFFIC_IDX(dir, af, cls) ((((dir)*IPSM_AF_MAX) + (af)) * IPSM_CLASS_MAX + (cls))
#define IPSM_TRAFFIC_MAX (IPSM_DIR_MAX * IPSM_AF_MAX * IPSM_CLASS_MAX)

struct ipsm_ctr {
	__u64 packets;
	__u64 bytes; /* IP bytes: outer IP header included, L2 excluded */
};

enum ipsm_ike_ver {
	IPSM_IKE_UNKNOWN = 0, /* too short for an IKE header, or bad version */
	IPSM_IKE_V1 = 1,
	IPSM_IKE_V2 = 2,
	IPSM_IKE_VER_MAX,
};

/* Exchange slots; the meaning depends on the version. */
enum ipsm_ike_exch {
	IPSM_IKE_X0 = 0, /* v2 IKE_SA_INIT (34),     v1 Main / Identity Protection (2) */
	IPSM_IKE_X1, /*     v2 IKE_AUTH (35),        v1 Aggressive (4) */
	IPSM_IKE_X2, /*     v2 CREATE_CHILD_SA (36), v1 Quick Mode (32) */
	IPSM_IKE_X3, /*     v2 INFORMATIONAL (37),   v1 Informational (5) */
	IPSM_IKE_XOTHER,
	IPSM_IKE_EXCH_MAX,
};

/* v2: 1 = the Response flag is set. v1 has no such flag: always 0. */
#define IPSM_IKE_IDX(dir, ver, exch, resp) \
	(((((dir)*IPSM_IKE_VER_MAX + (ver)) * IPSM_IKE_EXCH_MAX) + (exch)) * 2 + (resp))
#define IPSM_IKE_MAX (IPSM_DIR_MAX * IPSM_IKE_VER_MAX * IPSM_IKE_EXCH_MAX * 2)

/*
 * IKEv2 health from the wire, in the same per-interface "ike" map after the
 * message counts: retransmits by direction, and the notify payloads of
 * IKE_SA_INIT responses (RFC 7296 §3.10.1 types; "other" is any other error
 * type, below 16384). A retransmit is counted once and not inspected again.
 */
enum ipsm_ike_notify {
	IPSM_NTF_NO_PROPOSAL_CHOSEN = 0, /* 14 */
	IPSM_NTF_INVALID_KE_PAYLOAD, /* 17 */
	IPSM_NTF_COOKIE, /* 16390 */
	IPSM_NTF_INVALID_SYNTAX, /* 7 */
	IPSM_NTF_OTHER,
	IPSM_NTF_MAX,
};

#define IPSM_IKE_RETX_IDX(dir) (IPSM_IKE_MAX + (dir))
#define IPSM_IKE_NOTIFY_IDX(n) (IPSM_IKE_MAX + IPSM_DIR_MAX + (n))
#define IPSM_IKE_SLOTS (IPSM_IKE_MAX + IPSM_DIR_MAX + IPSM_NTF_MAX)

/*
 * IKEv2 messages seen lately, per network namespace: a 64-bit digest of
 * what tells one message from another (see ike_health()), kept in a set of
 * IPSM_IKE_MSG_WAYS picked by the digest; the same digest again is a
 * retransmit. A new digest takes the set's first way and pushes the oldest
 * out, so a message is forgotten once as many newer ones fell in its set:
 * 16,384 in all (the LRU hash this replaced kept 8192), each an array slot
 * to look at instead of a hash lookup. 0 marks an empty way.
 */
#define IPSM_IKE_MSG_SETS 4096
#define IPSM_IKE_MSG_WAYS 4

struct ipsm_ike_msg_set {
	__u64 digest[IPSM_IKE_MSG_WAYS];
};

/*
 * IKEv2 SAs whose IKE_SA_INIT was answered (a response with the responder's
 * SPI and no error notify), per network namespace (an LRU hash): half-open
 * until an IKE_AUTH with both SPIs is seen. Bounded under an IKE_SA_INIT
 * flood: the oldest go first.
 */
#define IPSM_IKE_SAS_MAX 4096

struct ipsm_ike_sa_key {
	__u64 spi_i;
	__u64 spi_r;
};

struct ipsm_ike_sa {
	__u64 answered; /* CLOCK_MONOTONIC_COARSE ns of the response */
	__u64 authed; /* of the first IKE_AUTH, 0: none yet */
	__u8 family; /* the peer's (the other end of the response) */
	__u8 pad[7];
	__u8 peer[16];
};

/*
 * One SA as seen on the wire: the XFRM lookup triple (SPI, destination,
 * protocol) plus the direction we saw it in. ESP-in-UDP uses proto 50, as
 * XFRM does.
 */
struct ipsm_sa_key {
	__u8 dir; /* enum ipsm_dir */
	__u8 proto; /* IPPROTO_ESP (50) or IPPROTO_AH (51) */
	__u8 family; /* IPSM_AF_IPV4 or IPSM_AF_IPV6 */
	__u8 pad;
	__u32 spi; /* network byte order, as on the wire */
	__u8 daddr[16]; /* IPv4 in the first 4 bytes, rest zero */
};

#define IPSM_SA_F_SEQ_VALID (1U << 0) /* seq_max/seq_window hold a value */
#define IPSM_SA_F_UDP_ENCAP (1U << 1) /* seen as ESP-in-UDP */
#define IPSM_SA_F_PLAIN (1U << 2) /* seen as bare ESP/AH */
#define IPSM_SA_F_SEQ_JUMP (1U << 3) /* seq_jump holds an unconfirmed jump */
/* The kernel's SA lookup found no SA at checked: bad SPIs until it is asked again. */
#define IPSM_SA_F_MISSING (1U << 4)

#define IPSM_SEQ_WINDOW 64
/*
 * A packet further ahead than this is believed only when a second one
 * follows it: one spoofed sequence number must not move seq_max.
 */
#define IPSM_SEQ_JUMP_MAX 65536

/*
 * Per-CPU value of an SA. Sequence analysis is per CPU: RSS and RPS hash an
 * SA's packets (same addresses, same SPI) to one CPU, so a CPU sees the SA's
 * whole sequence. The loader sums counters and takes the max of seq_max.
 * Only what changes is written per packet: the source is recorded with the
 * CPU's first packet.
 */
struct ipsm_sa_val {
	__u64 packets;
	__u64 bytes;
	__u64 first_seen; /* CLOCK_MONOTONIC_COARSE ns, 0 = never on this CPU */
	__u64 last_seen;
	__u64 seq_window; /* bit i set: seq_max - i was seen */
	__u64 seq_gaps; /* sequence numbers skipped when seq_max moved on (only grows) */
	__u64 seq_filled; /* of those, seen later within the window: reordered, not lost */
	__u64 seq_replays; /* duplicates inside the window: replays on the wire */
	__u64 seq_late; /* older than the window: counted, not classified */
	__u64 seq_suspect; /* packets far ahead that no second packet confirmed */
	__u64 checked; /* when the kernel's SA lookup last decided on it (6.8+ XDP) */
	__u32 seq_max; /* highest sequence number (low 32 bits with ESN) */
	__u32 flags; /* IPSM_SA_F_* */
	__u32 seq_jump; /* the last unconfirmed far-ahead sequence number */
	__u32 cache_tag; /* set when a CPU's cache slot takes the row (never 0 then) */
	__u8 saddr[16]; /* source of this CPU's first packet */
};

/*
 * A per-CPU direct-mapped cache in front of sa_stats: a known SA's packet
 * costs an array slot instead of a hash lookup. While a row sits in a
 * CPU's slot, the slot holds that CPU's value of it and the row's copy is
 * stale; readers (user/sa_table.c) therefore read the slots first and the
 * rows after, and take a slot for its row where the row still shows what
 * it held when the slot was filled (packets, first_seen and the cache_tag
 * the fill wrote, which a row made anew under the key does not have). The datapath
 * writes a slot back to its row under the same test when another row takes
 * the slot, so a row that user space rewrote or deleted and made again is
 * never overwritten with the old one's counts. Whoever writes or deletes a
 * row from user space changes sa_epoch afterwards: each CPU's next packet
 * of a cached SA then goes to the table again (a deleted SA is a miss).
 */
#define IPSM_SA_CACHE_BITS 10
#define IPSM_SA_CACHE_SLOTS (1U << IPSM_SA_CACHE_BITS)

struct ipsm_sa_slot {
	struct ipsm_sa_key key; /* spi 0: empty */
	__u64 epoch; /* sa_epoch when filled */
	__u64 fill_packets; /* the row's packets on this CPU when filled */
	struct ipsm_sa_val val; /* this CPU's value of the row while resident */
};

/* The slot of a key: the same function on both sides of the map. */
static inline __u32 ipsm_sa_slot_of(const struct ipsm_sa_key *k)
{
	__u32 d[4], h;

	__builtin_memcpy(d, k->daddr, sizeof(d));
	h = k->spi ^ d[0] ^ d[1] ^ d[2] ^ d[3] ^ ((__u32)k->dir << 8 | k->proto);
	return (h * 0x9e3779b1U) >> (32 - IPSM_SA_CACHE_BITS);
}

/*
 * How many rows of the SA table each slot of a second hash of the key
 * covers (sa_filter): a miss of the per-CPU cache looks the table up only
 * when the key's slot counts a row, so a random-SPI flood costs an array
 * read, not a failed hash lookup. Every writer counts a row in before it
 * makes it and out after it deleted it (or failed to make it), atomically
 * (user space maps the array), so a slot never counts fewer rows than it
 * covers; too many (a writer killed in between) costs only a lookup. The
 * datapath trusts it with IPSM_CFG_ROW_FILTER, which attach sets unless
 * it found rows pinned without their filter. 64-bit counts: an array's
 * elements are 8 bytes apart in its mapping whatever their size.
 */
#define IPSM_ROW_FILTER_BITS 17
#define IPSM_ROW_FILTER_SLOTS (1U << IPSM_ROW_FILTER_BITS)

static inline __u32 ipsm_row_filter_slot(const struct ipsm_sa_key *k)
{
	__u32 d[4], h;

	__builtin_memcpy(d, k->daddr, sizeof(d));
	h = k->spi * 0x85ebca6bU;
	h ^= (d[0] ^ d[1] ^ d[2] ^ d[3] ^
	      ((__u32)k->dir << 16 | (__u32)k->family << 8 | k->proto)) *
	     0xc2b2ae35U;
	h ^= h >> 15;
	h *= 0x27d4eb2fU;
	return h >> (32 - IPSM_ROW_FILTER_BITS);
}

/*
 * How long a row confirmed by the kernel's SA lookup is trusted before the
 * next packet asks again: a deleted SA is a bad SPI again at most this late,
 * and a busy SA costs one kernel lookup per CPU per period.
 */
#define IPSM_REVALIDATE_NS 10000000ULL /* 10 ms */

/*
 * Datapath bookkeeping shared by all interfaces of a network namespace, one
 * per CPU. The insert budget keeps a random-SPI flood from paying for a hash
 * insert per packet and from filling the SA table in one burst; the check
 * budget keeps it from paying for the kernel's SA lookup per packet (past
 * it, a live monitor's table decides, as on kernels without the lookup).
 */
#define IPSM_KERNEL_CHECKS_PER_SEC 4096

struct ipsm_dp {
	__u64 window_start; /* coarse ns of the current one-second window */
	__u64 full_until; /* no insert attempts before this (table full) */
	__u32 window_inserts;
	__u32 window_checks; /* kernel SA lookups for SPIs without a row */
	__u64 sa_inserts; /* SA rows created by the datapath */
	__u64 untracked_packets; /* ESP/AH packets not counted in any SA row */
	__u64 untracked_bytes;
	__u64 table_full; /* insert attempts refused: SA table full */
	__u64 bad_spi_packets; /* inbound ESP/AH for which no SA existed */
	__u64 bad_spi_bytes;
	__u64 bad_spi_evicted; /* bad-SPI slots taken over by another SPI */
	__u64 reserved_spi_packets; /* ESP/AH with SPI 1-255 (RFC 4303): no SA can match */
	__u64 ike_peer_evicted; /* IKE peer slots taken over by another address */
	__u64 kernel_checks_skipped; /* row-less SPIs not asked about: check budget spent */
};

/* The datapath's per-CPU copy of the coarse clock, and the jiffy it was read in. */
struct ipsm_clock {
	__u64 jiffies;
	__u64 ns;
};

/*
 * Correlation state written by the monitor (run): while its heartbeat is
 * fresh the SA table holds exactly the kernel's SAs, so an inbound miss is a
 * bad SPI.
 */
#define IPSM_CFG_LOCAL_ADDRS (1U << 0) /* local_addrs holds this namespace's addresses */
#define IPSM_CFG_ROW_FILTER (1U << 1) /* sa_filter covers every row of sa_stats */

struct ipsm_config {
	__u64 live_until; /* CLOCK_MONOTONIC_COARSE ns */
	__u32 hash_seed; /* of the bad-SPI slots, random per namespace */
	__u32 flags; /* IPSM_CFG_* */
	__u64 netns_ino; /* the namespace's nsfs inode: tells pins of a gone one */
};

/*
 * dst_is_local()'s recent answers from the address list, per CPU, in a slot
 * picked by the address: a flood to one address asks the list once per
 * IPSM_LOCAL_MEMO_NS, not per packet. The list itself follows the kernel's
 * addresses at the monitor's tick, so the memo adds no lag worth the name.
 */
#define IPSM_LOCAL_MEMO_SLOTS 64
#define IPSM_LOCAL_MEMO_NS 10000000ULL /* 10 ms */

struct ipsm_local_memo {
	__u64 until; /* CLOCK_MONOTONIC_COARSE ns; 0: empty */
	__u8 addr[16];
	__u8 family;
	__u8 local;
	__u8 pad[6];
};

/*
 * The namespace's own addresses, kept by attach and the monitor: only ESP
 * to one of them can be a bad SPI (XFRM never decrypts what it forwards).
 * Without IPSM_CFG_LOCAL_ADDRS the datapath asks the FIB instead.
 */
#define IPSM_MAX_LOCAL_ADDRS 1024

struct ipsm_addr_key {
	__u8 family; /* IPSM_AF_IPV4 or IPSM_AF_IPV6 */
	__u8 pad[3];
	__u8 addr[16] __attribute__((aligned(4))); /* copied as words, not bytes */
};

/*
 * The marks of the kernel's SAs. The kernel's lookup finds an SA with a mark
 * only when asked with that mark, and XDP runs before any rule sets
 * skb->mark: on a miss each mark in use is tried (the miss path only, so a
 * known SA costs the same whatever the number of marks).
 */
#define IPSM_MAX_MARKS 16

struct ipsm_marks {
	__u32 n;
	__u32 mark[IPSM_MAX_MARKS];
};

/*
 * Recent bad SPIs, a fixed per-CPU table indexed by a hash of SPI and
 * addresses: bounded whatever the attacker sends. A slot keeps one key; a
 * colliding key takes the slot over (bad_spi_evicted counts it), so the
 * exact totals are in struct ipsm_dp, the names here.
 */
#define IPSM_BAD_SPI_SLOTS 256

/*
 * IKE messages per peer address (the source of what is received, the
 * destination of what is sent), a fixed per-CPU table indexed by a seeded
 * hash of the address: bounded under an IKE_SA_INIT flood from spoofed
 * sources, which can only take slots over (ike_peer_evicted counts it).
 */
#define IPSM_IKE_PEER_SLOTS 256

struct ipsm_ike_peer {
	__u8 used; /* 0 = empty slot */
	__u8 family; /* IPSM_AF_IPV4 or IPSM_AF_IPV6 */
	__u8 pad[6];
	__u8 addr[16];
	__u64 msgs[IPSM_DIR_MAX]; /* since the slot was taken */
	__u64 last_seen; /* CLOCK_MONOTONIC_COARSE ns */
};

struct ipsm_bad_spi {
	__u32 spi; /* network order; 0 = empty slot */
	__u8 proto;
	__u8 family;
	__u8 pad[2];
	__u8 saddr[16];
	__u8 daddr[16];
	__u64 packets;
	__u64 bytes;
	__u64 first_seen; /* CLOCK_MONOTONIC_COARSE ns */
	__u64 last_seen;
};

/*
 * Monitor state, pinned beside the SA table and written by the monitor (run)
 * only, so that its totals survive it: what it learned about each kernel SA,
 * and what it folded in from SAs that are gone.
 */
#define IPSM_SA_I_CONFIDENTIAL (1U << 0) /* ESP with a real cipher, or AEAD */
#define IPSM_SA_I_AUTHENTICATED (1U << 1) /* AH, ESP with integrity, or AEAD */
#define IPSM_SA_I_TUNNEL (1U << 2)
#define IPSM_SA_I_REKEY (1U << 3) /* its addition counted as a rekey too */
#define IPSM_SA_I_OFFLOADED (1U << 4) /* crypto or packet offload to a device */

enum ipsm_kind {
	IPSM_KIND_CONFIDENTIAL = 0,
	IPSM_KIND_AUTHENTICATED,
	IPSM_KIND_TRANSPORT,
	IPSM_KIND_TUNNEL,
	IPSM_KIND_OFFLOADED, /* the kernel's bytes (curlft), not the wire's: see correlate.c */
	IPSM_KIND_MAX,
};

/*
 * What SAs add up to: wire bytes by kind and the IPSECMON failure counters.
 * One SA's contribution, the live counters and the pinned totals all use it.
 */
struct ipsm_acct {
	__u64 bytes[IPSM_DIR_MAX][IPSM_KIND_MAX];
	__u64 not_decrypted;
	__u64 not_authenticated;
	__u64 replayed;
};

/*
 * What the kernel counted against one SA, the one record every failure
 * counter derives from (user/correlate.c says how).
 */
struct ipsm_sa_fail {
	__u64 integrity_failed;
	__u64 replayed; /* duplicates + outside the window */
};

struct ipsm_sa_info {
	__u32 flags; /* IPSM_SA_I_* */
	__u32 reqid;
	/* The SA's kernel counters at the monitor's last reading. */
	__u64 k_packets;
	__u64 k_bytes;
	struct ipsm_sa_fail k_fail;
	/* Wire, kernel and failures when the monitor first saw the SA. */
	__u64 base_wire;
	__u64 base_kernel;
	__u64 base_failed;
	/* Packets dropped on the SA for other reasons (reconciliation), highest seen. */
	__u64 other_drops;
	__u64 add_time; /* the kernel's: another add time under the key is another SA */
	/*
	 * The journal (struct ipsm_totals): the totals.journal that counts the
	 * SA's addition, and the one that holds its fold (0: not yet), each
	 * written here before the totals, with what the fold adds.
	 */
	__u64 added_in;
	__u64 folded_in;
	struct ipsm_acct fold;
};

/*
 * The monitor's totals. Every change is one numbered write (journal): a
 * change that also concerns an SA's record is first noted in the record
 * with the number the totals will carry, so that a monitor killed between
 * the two writes is completed, not repeated, by the next one, and a reader
 * knows whether a record's fold is in the totals already.
 */
struct ipsm_totals {
	__u64 monitor_since; /* realtime s of the first monitor start, 0: never */
	__u64 key_additions;
	__u64 key_deletions;
	__u64 rekeys;
	__u64 pending; /* ACQUIREs not yet answered, as of the last tick */
	struct ipsm_acct acct; /* folded in from SAs that were deleted */
	__u64 journal; /* writes so far */
	/* Rekey analytics (rekeys.h), inbound SAs. */
	__u64 rekey_early_packets; /* on new SPIs before their SA was there */
	__u64 rekey_late_packets; /* on old SPIs after their replacement was there */
};

enum ipsm_hook {
	IPSM_HOOK_XDP = 0,
	IPSM_HOOK_TC_INGRESS,
	IPSM_HOOK_TC_EGRESS,
	IPSM_HOOK_MAX,
};

#define IPSM_IFNAMSIZ 16

/*
 * What attach recorded about one interface, so that detach removes exactly
 * what it made and status can tell what is attached. Written by the loader
 * only; the datapath reads the MAC on its miss path.
 */
struct ipsm_iface_meta {
	__u32 abi;
	__u32 ifindex;
	char name[IPSM_IFNAMSIZ];
	__u32 hooks; /* bit per enum ipsm_hook, as attached */
	__u32 xdp_flags; /* XDP_FLAGS_SKB_MODE or XDP_FLAGS_DRV_MODE */
	__u32 created_clsact; /* 1: attach created the clsact qdisc */
	__u32 xdp_kfunc; /* 1: the XDP program asks the kernel's SAD (6.8+) */
	__u32 prog_id[IPSM_HOOK_MAX]; /* 0: not loaded (a hook never asked for) */
	__u32 inserts_per_sec; /* the programs' insert budget; 0 (older pins): the attach's own */
	__u64 attached_at; /* CLOCK_REALTIME seconds of the first attach */
	__u8 mac[6]; /* the interface's address: a frame to another is not ours */
	__u8 pad2[2];
};

/*
 * Per-CPU map values are laid out by the kernel in 8-byte strides; user
 * space reads them as plain arrays, so every per-CPU value type must be a
 * multiple of 8 bytes or CPU 1 onwards would be read at the wrong offset.
 */
_Static_assert(sizeof(struct ipsm_ctr) % 8 == 0, "per-CPU stride: ipsm_ctr");
_Static_assert(sizeof(struct ipsm_sa_val) % 8 == 0, "per-CPU stride: ipsm_sa_val");
_Static_assert(sizeof(struct ipsm_dp) % 8 == 0, "per-CPU stride: ipsm_dp");
_Static_assert(sizeof(struct ipsm_bad_spi) % 8 == 0, "per-CPU stride: ipsm_bad_spi");
_Static_assert(sizeof(struct ipsm_ike_peer) % 8 == 0, "per-CPU stride: ipsm_ike_peer");
_Static_assert(sizeof(struct ipsm_sa_slot) % 8 == 0, "per-CPU stride: ipsm_sa_slot");
_Static_assert(sizeof(struct ipsm_clock) % 8 == 0, "per-CPU stride: ipsm_clock");
_Static_assert(sizeof(struct ipsm_local_memo) % 8 == 0, "per-CPU stride: ipsm_local_memo");
_Static_assert(sizeof(struct ipsm_sa_key) == 24, "ipsm_sa_key: three words in the slot test");

/* tc filter identity; handle and priority chosen to be unlikely in use. */
#define IPSM_TC_HANDLE 0x1bec
#define IPSM_TC_PRIORITY 1

#define IPSM_DEFAULT_MAX_SAS 8192
#define IPSM_DEFAULT_INSERTS_PER_SEC 256

#endif /* IPSECMON_H */
