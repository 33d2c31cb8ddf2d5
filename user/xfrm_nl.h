/* SPDX-License-Identifier: GPL-2.0 */
/*
 * XFRM netlink (libmnl): dumps of SAs, policies and SADINFO, and the SA,
 * EXPIRE, ACQUIRE and POLICY event groups, parsed into key-free structs.
 *
 * Keys: XFRM messages carry key material in XFRMA_ALG_* attributes. The
 * parser copies only the algorithm names and lengths; the key bytes are
 * never copied out of the receive buffer, so nothing that is printed can
 * hold them.
 */
#ifndef IPSM_XFRM_NL_H
#define IPSM_XFRM_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/netlink.h>
#include <linux/types.h>

#include "ipsecmon.h"

#define IPSM_XFRM_ALG_NAMELEN 64

/* XFRMA_OFFLOAD_DEV: the device does the crypto, or all of ESP (6.2+). */
enum ipsm_offload {
	IPSM_OFFLOAD_NONE = 0,
	IPSM_OFFLOAD_CRYPTO,
	IPSM_OFFLOAD_PACKET,
};

/* XFRM_MODE_* of <linux/xfrm.h>. */
enum ipsm_xfrm_mode {
	IPSM_XFRM_MODE_TRANSPORT = 0,
	IPSM_XFRM_MODE_TUNNEL = 1,
	IPSM_XFRM_MODE_ROUTEOPTIMIZATION = 2,
	IPSM_XFRM_MODE_IN_TRIGGER = 3,
	IPSM_XFRM_MODE_BEET = 4,
};

/* One SA as the kernel describes it, without its keys. */
struct ipsm_xfrm_sa {
	__u16 family; /* AF_INET or AF_INET6 */
	__u8 proto; /* IPPROTO_ESP, IPPROTO_AH, IPPROTO_COMP */
	__u8 mode; /* enum ipsm_xfrm_mode */
	__u32 spi; /* network order */
	__u8 daddr[16];
	__u8 saddr[16];
	__u32 reqid;
	__u32 if_id;
	__u32 mark, mark_mask; /* XFRMA_MARK: found by lookups with (mark & mask) == mark */
	__u8 offload; /* enum ipsm_offload */
	bool offload_inbound; /* XFRM_OFFLOAD_INBOUND: offloaded for receiving */
	__u32 offload_ifindex; /* the device's, 0 without offload */
	__u8 flags; /* XFRM_STATE_* */
	__u8 replay_window;
	__u16 encap_type; /* 0, or UDP_ENCAP_ESPINUDP (2) / _NON_IKE (1) / TCP_ENCAP_ESPINTCP (7) */
	__u16 encap_sport; /* host order */
	__u16 encap_dport;
	char enc_alg[IPSM_XFRM_ALG_NAMELEN]; /* "" if none */
	char auth_alg[IPSM_XFRM_ALG_NAMELEN];
	char aead_alg[IPSM_XFRM_ALG_NAMELEN];
	__u32 auth_trunc_bits;
	__u32 aead_icv_bits;
	/* curlft: what the SA accepted (inbound) or sent (outbound) */
	__u64 bytes;
	__u64 packets;
	__u64 add_time; /* realtime seconds */
	__u64 use_time;
	/* lft: configured limits (XFRM_INF when unlimited) */
	__u64 soft_byte_limit, hard_byte_limit;
	__u64 soft_packet_limit, hard_packet_limit;
	__u64 soft_add_expires, hard_add_expires;
	/* xfrm_stats: the kernel's per-SA failure counters */
	__u32 stats_replay_window; /* outside the replay window */
	__u32 stats_replay; /* duplicates */
	__u32 stats_integrity_failed; /* ICV check failed */
	/* replay state */
	bool have_replay;
	__u64 seq; /* highest inbound sequence accepted (ESN: 64 bits) */
	__u64 oseq; /* last outbound sequence used */
	__u64 lastused; /* XFRMA_LASTUSED, realtime seconds, 0 if absent */
};

/* Whether the SA provides confidentiality or integrity: the IPSECMON columns. */
bool xfrm_sa_confidential(const struct ipsm_xfrm_sa *sa);
bool xfrm_sa_authenticated(const struct ipsm_xfrm_sa *sa);
/*
 * Whether the SA's hard add-time lifetime has run out by now (realtime
 * seconds): an SA found gone then was expired by the kernel.
 */
bool xfrm_sa_hard_expired(const struct ipsm_xfrm_sa *sa, __u64 now);
/* The SA's failure record: integrity failures, replays (duplicates + too old). */
void xfrm_sa_fail(const struct ipsm_xfrm_sa *sa, struct ipsm_sa_fail *f);

struct ipsm_xfrm_policy {
	__u16 family;
	__u8 dir; /* XFRM_POLICY_IN/OUT/FWD */
	__u8 action; /* XFRM_POLICY_ALLOW/BLOCK */
	__u32 index;
	__u32 priority;
	__u32 n_tmpl;
	bool tunnel; /* a template in tunnel mode */
	/*
	 * The gateway pair of the first template that names both ends (a
	 * transport template may leave them 0): src and dst as the policy's
	 * direction sends, so for "out" the local end is src.
	 */
	bool have_ends;
	__u16 tmpl_family;
	__u8 tmpl_saddr[16];
	__u8 tmpl_daddr[16];
};

enum ipsm_xfrm_ev {
	IPSM_XEV_NEWSA = 1,
	IPSM_XEV_UPDSA,
	IPSM_XEV_DELSA,
	IPSM_XEV_EXPIRE_SOFT, /* soft limit reached: the IKE daemon should rekey */
	IPSM_XEV_EXPIRE_HARD,
	IPSM_XEV_ACQUIRE, /* a packet needs an SA that does not exist yet */
	IPSM_XEV_NEWPOLICY,
	IPSM_XEV_UPDPOLICY,
	IPSM_XEV_DELPOLICY,
	IPSM_XEV_POLEXPIRE,
	IPSM_XEV_FLUSHSA,
	IPSM_XEV_FLUSHPOLICY,
};

struct ipsm_xfrm_event {
	enum ipsm_xfrm_ev type;
	struct ipsm_xfrm_sa sa; /* SA events and ACQUIRE (id, saddr, family) */
	struct ipsm_xfrm_policy pol; /* policy events */
	__u8 flush_proto; /* FLUSHSA: 0 = all */
};

/*
 * Parse one XFRM message. 0 on success; -ENOTSUP for message types we do not
 * use; -EINVAL for a message shorter than its fixed header or with a
 * malformed attribute. Attributes this build does not know are skipped.
 */
int xfrm_msg_parse(const struct nlmsghdr *nlh, struct ipsm_xfrm_event *ev);

struct xfrm_nl;

/* Open an XFRM socket; with subscribe, join the SA/EXPIRE/ACQUIRE/POLICY groups. */
int xfrm_nl_open(struct xfrm_nl **out, bool subscribe);
void xfrm_nl_close(struct xfrm_nl *x);
int xfrm_nl_fd(const struct xfrm_nl *x);
/* The event socket's receive buffer in bytes, and the size it was asked for. */
int xfrm_nl_rcvbuf(const struct xfrm_nl *x, int *got, int *wanted);

typedef int (*xfrm_sa_cb)(const struct ipsm_xfrm_sa *sa, void *data);
typedef int (*xfrm_pol_cb)(const struct ipsm_xfrm_policy *pol, void *data);
typedef int (*xfrm_ev_cb)(const struct ipsm_xfrm_event *ev, void *data);
typedef void (*xfrm_reset_cb)(void *data);

/*
 * Dump all SAs (policies). A dump that the kernel marks inconsistent
 * (NLM_F_DUMP_INTR) is started again, a few times at most; -EAGAIN after that.
 * reset (may be NULL) runs before each new start: what cb gathered from
 * the dump that was cut short must go, or it would count twice.
 */
int xfrm_nl_dump_sas(struct xfrm_nl *x, xfrm_sa_cb cb, xfrm_reset_cb reset, void *data);
int xfrm_nl_dump_policies(struct xfrm_nl *x, xfrm_pol_cb cb, xfrm_reset_cb reset, void *data);
/* Number of SAs in the kernel's SAD (XFRM_MSG_GETSADINFO). */
int xfrm_nl_sad_count(struct xfrm_nl *x, __u32 *count);
/*
 * Read the events waiting on a subscribed socket without blocking. -ENOBUFS
 * means events were lost: the caller must dump again.
 */
int xfrm_nl_read_events(struct xfrm_nl *x, xfrm_ev_cb cb, void *data);

/* All keyed ESP and AH SAs of the kernel (no larval ones); *xs is malloc'ed. */
int xfrm_sas_read(struct ipsm_xfrm_sa **xs, size_t *n);

/* SADINFO's SA count and the policies by direction. */
/* A gateway pair some policy's template names: its tunnel is configured. */
struct ipsm_xfrm_pair {
	__u16 family;
	__u8 local[16];
	__u8 remote[16];
	bool tunnel; /* a tunnel-mode template */
};

/* Distinct configured pairs kept per snapshot, at most. */
#define IPSM_MAX_POLICY_PAIRS 65536

struct ipsm_xfrm_summary {
	__u32 sad_count;
	__u32 policies[3]; /* XFRM_POLICY_IN, _OUT, _FWD */
	__u32 policies_block;
	/* Sorted, distinct; allowing policies only. */
	size_t n_pairs;
	struct ipsm_xfrm_pair *pairs;
	__u32 pairs_dropped; /* pairs over IPSM_MAX_POLICY_PAIRS */
};

/* SADINFO and the policies; sum->pairs is allocated (xfrm_summary_free). */
int xfrm_summary_read(struct ipsm_xfrm_summary *sum);
void xfrm_summary_free(struct ipsm_xfrm_summary *sum);
/* Order of ipsm_xfrm_pair: family, local, remote (the mode is not compared). */
int xfrm_pair_cmp(const void *a, const void *b);

#endif
