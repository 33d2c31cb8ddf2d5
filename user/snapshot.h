/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The snapshot: everything one look at the maps (and the kernel) found,
 * already summed over CPUs. Every output renders this and nothing else.
 */
#ifndef IPSM_SNAPSHOT_H
#define IPSM_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <linux/types.h>

#include "ike_health.h"
#include "ipsecmon.h"
#include "names.h"
#include "xfrm_nl.h"
#include "xfrm_stat.h"

#define IPSM_SCHEMA "ipsecmon-bpf/1"

/* One attached interface, from its pinned metadata and a live check. */
struct ipsm_iface {
	__u32 ifindex;
	char name[IPSM_IFNAMSIZ]; /* as recorded at attach */
	bool present; /* the interface still exists */
	__u32 hooks; /* attached by us (bits of enum ipsm_hook) */
	__u32 hooks_live; /* of those, still in place with our program */
	__u32 xdp_flags;
	__u32 prog_id[IPSM_HOOK_MAX];
	__u64 attached_at; /* realtime seconds */
	bool xdp_kfunc; /* XDP asks the kernel's SAD for bad SPIs */
};

/* One SA row, summed over CPUs. */
struct ipsm_sa {
	struct ipsm_sa_key key;
	__u64 packets;
	__u64 bytes;
	__u64 first_seen; /* realtime ns, 0 = never */
	__u64 last_seen;
	__u32 seq_max;
	__u32 flags; /* IPSM_SA_F_* of all CPUs */
	/*
	 * Sequence analysis is exact only when one CPU saw the SA's packets
	 * (each CPU analyses what it sees): with packets on several, no
	 * output reports these.
	 */
	bool seq_exact;
	__u64 seq_gaps; /* skipped when seq_max moved on: only grows */
	__u64 seq_filled; /* of those, seen later: reordered, not lost */
	__u64 seq_replays;
	__u64 seq_late;
	__u64 seq_suspect; /* far jumps no second packet confirmed */
	__u8 saddr[16]; /* source of the most recent packet */
	/* From XFRM correlation. */
	bool known; /* the kernel has this SA */
	struct ipsm_xfrm_sa x; /* valid when known */
	bool have_info; /* the monitor's record, from the pinned sa_info */
	struct ipsm_sa_info info;
	bool have_dropped;
	__u64 kernel_dropped; /* inbound: seen on the wire, not accepted by the SA */
	/* Outbound: seconds until its 32-bit sequence numbers run out (seq_out.h). */
	bool have_seq_exhaustion;
	double seq_exhaustion_s;
};

struct ipsm_bad_spi_row {
	__u32 spi; /* network order */
	__u8 proto;
	__u8 family; /* IPSM_AF_* */
	__u8 saddr[16];
	__u8 daddr[16];
	__u64 packets;
	__u64 bytes;
	__u64 first_seen; /* realtime ns */
	__u64 last_seen;
};

/* IKE messages of one peer address, summed over CPUs. */
struct ipsm_ike_peer_row {
	__u8 family; /* IPSM_AF_IPV4, IPSM_AF_IPV6 */
	__u8 addr[16];
	__u64 msgs[IPSM_DIR_MAX];
	__u64 last_seen; /* realtime ns */
};

/* One remote gateway: its tunnels, trouble and IKE (peers.h). */
struct ipsm_peer {
	__u8 family; /* IPSM_AF_IPV4, IPSM_AF_IPV6 */
	__u8 addr[16];
	__u32 sas, tunnels, tunnels_down;
	struct ipsm_ctr rx, tx; /* what its tunnels carried */
	__u64 bad_spi_packets; /* of its recent bad SPIs */
	__u64 ike_msgs[IPSM_DIR_MAX];
	__u64 last_seen; /* realtime ns of its last packet we know of, 0: none */
};

/* A tunnel's state (README "Tunnels"); worst first. */
enum ipsm_tunnel_state {
	IPSM_TUN_DOWN, /* a policy names the pair, and it has no SA */
	IPSM_TUN_ONE_WAY, /* one direction only, for --one-way-after intervals */
	IPSM_TUN_IDLE, /* SAs, and nothing either way in the interval */
	IPSM_TUN_UP,
};

/* One gateway pair: what its SAs carried and whether it works (tunnels.h). */
struct ipsm_tunnel {
	__u16 family; /* AF_INET, AF_INET6 */
	__u8 local[16];
	__u8 remote[16];
	bool tunnel_mode; /* an SA or template in tunnel mode */
	bool configured; /* a policy's template names the pair */
	__u32 sas; /* the kernel's SAs between the two, either way */
	/* Packets and bytes of its SAs: from the wire, else the kernel's SA counters. */
	struct ipsm_ctr rx, tx;
	enum ipsm_tunnel_state state;
	__u32 one_way_intervals; /* consecutive intervals with traffic one way only */
};

enum ipsm_correlation {
	IPSM_CORR_INACTIVE = 0, /* nobody decides bad SPIs */
	IPSM_CORR_MONITOR, /* a monitor keeps the SA table equal to the kernel's */
	IPSM_CORR_KERNEL, /* XDP asks the kernel's SAD itself (6.8+) */
};

/*
 * The IPSECMON counters' values (README "IPSECMON counters"); counters.h
 * names them and says when each is known.
 */
struct ipsm_counters {
	bool have_xfrm; /* the kernel's SAs were read */
	bool have_events; /* a monitor has run: event counters mean something */
	__u64 active_sas;
	__u64 active_tunnels;
	__u64 offloaded_sas;
	__u64 pending;
	__u64 key_additions;
	__u64 key_deletions;
	__u64 rekeys;
	__u64 rekey_early_packets;
	__u64 rekey_late_packets;
	__u64 bad_spi_packets;
	__u64 tunnels_down;
	__u64 tunnels_one_way; /* known once two readings were compared */
	struct ipsm_acct acct; /* bytes and failures: live SAs plus the folded totals */
};

struct ipsm_snapshot {
	struct timespec time; /* CLOCK_REALTIME when the maps were read */
	__u64 netns_id;
	size_t n_ifaces;
	struct ipsm_iface *ifaces;
	/* Only the interfaces selected for this snapshot add to these. */
	struct ipsm_ctr traffic[IPSM_DIR_MAX][IPSM_AF_MAX][IPSM_CLASS_MAX];
	__u64 ike[IPSM_DIR_MAX][IPSM_IKE_VER_MAX][IPSM_IKE_EXCH_MAX][2];
	/* IKEv2 health (README "IKE health") */
	__u64 ike_retransmits[IPSM_DIR_MAX];
	__u64 ike_notify[IPSM_NTF_MAX];
	bool have_ike_sas;
	struct ipsm_ike_sas ike_sas; /* the namespace's, whatever interfaces are selected */
	size_t n_sas;
	struct ipsm_sa *sas; /* sorted: dir, proto, family, spi, daddr */
	__u32 max_sas;
	struct ipsm_dp dp; /* summed; window fields meaningless */
	bool have_xfrm_stat;
	struct ipsm_xfrm_stat xfrm_stat;
	/* The kernel's SAD size (SADINFO) and its policies by direction. */
	bool have_kxfrm;
	struct ipsm_xfrm_summary kxfrm;
	/* Correlation: its inputs as read from the maps, and the decision. */
	__u64 read_mono_ns; /* CLOCK_MONOTONIC_COARSE when the maps were read */
	__u64 monitor_live_until; /* the monitor's heartbeat, same clock */
	bool monitor_live; /* a monitor (run) is running now */
	enum ipsm_correlation correlation;
	bool have_totals;
	struct ipsm_totals totals; /* as the monitor last wrote them */
	struct ipsm_counters ipsecmon;
	size_t n_bad_spis;
	struct ipsm_bad_spi_row *bad_spis; /* sorted by packets, most first */
	/* Gateway pairs with SAs or policies, sorted by family, local, remote. */
	size_t n_tunnels;
	struct ipsm_tunnel *tunnels;
	bool tunnels_tracked; /* states from two readings (tunnels_track) */
	bool tunnel_wire[IPSM_DIR_MAX]; /* a hook sees the direction: counts from the wire */
	/* IKE per peer address, merged over CPUs */
	size_t n_ike_peers;
	struct ipsm_ike_peer_row *ike_peers;
	/* Remote gateways, sorted by family and address (peers_build). */
	size_t n_peers;
	struct ipsm_peer *peers;
};

struct ipsm_paths;
struct local_addrs;

/* What a snapshot covers and what the caller already holds. */
struct snapshot_req {
	char *const *ifnames; /* interfaces for traffic and IKE; none: all attached */
	int n_ifnames;
	const struct local_addrs *la; /* this namespace's addresses; NULL: read them */
	__u32 half_open_after_s; /* --half-open-after; 0: the default */
	/*
	 * The monitor: called with the kernel's SAs after the maps were read
	 * and before they are correlated (it syncs its SA table there, and may
	 * drop rows from s). The dump must succeed then; non-zero ends it.
	 */
	int (*on_sas)(void *ctx, struct ipsm_snapshot *s, const struct ipsm_xfrm_sa *xs, size_t n);
	void *ctx;
};

/*
 * The one way to take a snapshot, for every command: read the pinned maps
 * (the wire first), then the kernel's SAs, correlate them, and add
 * SADINFO, the policies and /proc/net/xfrm_stat. A kernel that cannot be
 * asked about XFRM leaves those parts unknown (a warning says why); a
 * failure to read the maps is an error, reported through ipsm_error().
 */
int snapshot_take(const struct ipsm_paths *p, const struct snapshot_req *req,
		  struct ipsm_snapshot *s);
void snapshot_free(struct ipsm_snapshot *s);

/* Sequence numbers an SA lost before us: skipped and never seen later. */
__u64 sa_seq_lost(const struct ipsm_sa *sa);

/* The row of an SA key in a snapshot (NULL s or no row: NULL). */
const struct ipsm_sa *snapshot_find_sa(const struct ipsm_snapshot *s,
				       const struct ipsm_sa_key *key);

/* Total of one traffic class over families for a direction. */
struct ipsm_ctr snapshot_class_total(const struct ipsm_snapshot *s, int dir, int cls);

#endif
