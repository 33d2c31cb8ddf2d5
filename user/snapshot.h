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

#include "ipsecmon.h"
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
	__u64 seq_gaps;
	__u64 seq_replays;
	__u64 seq_late;
	__u8 saddr[16]; /* source of the most recent packet */
	/* From XFRM correlation. */
	bool known; /* the kernel has this SA */
	struct ipsm_xfrm_sa x; /* valid when known */
	bool have_info; /* the monitor's record, from the pinned sa_info */
	struct ipsm_sa_info info;
	bool have_dropped;
	__u64 kernel_dropped; /* inbound: seen on the wire, not accepted by the SA */
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

enum ipsm_correlation {
	IPSM_CORR_INACTIVE = 0, /* nobody decides bad SPIs */
	IPSM_CORR_MONITOR, /* a monitor keeps the SA table equal to the kernel's */
	IPSM_CORR_KERNEL, /* XDP asks the kernel's SAD itself (6.8+) */
};

/* The IPSECMON counters; see README "IPSECMON counters". */
struct ipsm_counters {
	bool have_xfrm; /* the kernel's SAs were read */
	bool have_events; /* a monitor has run: event counters mean something */
	__u64 active_sas;
	__u64 active_tunnels;
	__u64 pending;
	__u64 key_additions;
	__u64 key_deletions;
	__u64 rekeys;
	__u64 bad_spi_packets;
	__u64 not_decrypted;
	__u64 not_authenticated;
	__u64 replayed;
	__u64 bytes[IPSM_DIR_MAX][IPSM_KIND_MAX];
};

struct ipsm_snapshot {
	struct timespec time; /* CLOCK_REALTIME when the maps were read */
	__u64 netns_id;
	size_t n_ifaces;
	struct ipsm_iface *ifaces;
	/* Only the interfaces selected for this snapshot add to these. */
	struct ipsm_ctr traffic[IPSM_DIR_MAX][IPSM_AF_MAX][IPSM_CLASS_MAX];
	__u64 ike[IPSM_DIR_MAX][IPSM_IKE_VER_MAX][IPSM_IKE_EXCH_MAX][2];
	size_t n_sas;
	struct ipsm_sa *sas; /* sorted: dir, proto, family, spi, daddr */
	__u32 max_sas;
	struct ipsm_dp dp; /* summed; window fields meaningless */
	bool have_xfrm_stat;
	struct ipsm_xfrm_stat xfrm_stat;
	/* The kernel's SAD size (SADINFO) and its policies by direction. */
	bool have_kxfrm;
	__u32 sad_count;
	__u32 policies[3]; /* XFRM_POLICY_IN, _OUT, _FWD */
	__u32 policies_block;
	/* Correlation. */
	enum ipsm_correlation correlation;
	bool have_totals;
	struct ipsm_totals totals; /* as the monitor last wrote them */
	struct ipsm_counters ipsecmon;
	size_t n_bad_spis;
	struct ipsm_bad_spi_row *bad_spis; /* sorted by packets, most first */
};

void snapshot_free(struct ipsm_snapshot *s);

/* Names used by every output, so text, JSON and metrics agree. */
const char *ipsm_class_name(int cls);
const char *ipsm_af_name(int af);
const char *ipsm_dir_name(int dir);
const char *ipsm_hook_name(int hook);
const char *ipsm_proto_name(__u8 proto);
const char *ipsm_correlation_name(enum ipsm_correlation c);
const char *ipsm_mode_name(__u8 mode);
const char *ipsm_kind_name(int kind);
/* Exchange name for a version/slot, e.g. "ike_sa_init" or "main_mode". */
const char *ipsm_ike_exch_name(int ver, int exch);
/* "0x0000abcd" from a network-order SPI; buf holds at least 11 bytes. */
void ipsm_spi_str(__u32 spi_be, char *buf, size_t len);
/* Address text for an SA key family; buf holds at least 46 bytes. */
void ipsm_addr_str(int family, const __u8 *addr, char *buf, size_t len);
/* RFC 3339 UTC with second precision (ns = 0 gives the epoch). */
void ipsm_time_str(__u64 realtime_ns, char *buf, size_t len);

/* Total of one traffic class over families for a direction. */
struct ipsm_ctr snapshot_class_total(const struct ipsm_snapshot *s, int dir, int cls);

#endif
