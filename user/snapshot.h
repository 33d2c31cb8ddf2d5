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
};

void snapshot_free(struct ipsm_snapshot *s);

/* Names used by every output, so text, JSON and metrics agree. */
const char *ipsm_class_name(int cls);
const char *ipsm_af_name(int af);
const char *ipsm_dir_name(int dir);
const char *ipsm_hook_name(int hook);
const char *ipsm_proto_name(__u8 proto);
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
