/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The datapath's maps, named once: attach pins them by this table, and the
 * readers and the monitor open them through it. A shared map is one per
 * network namespace (BASE/netns-ID/NAME); the others are per interface
 * (BASE/netns-ID/if-IFINDEX/NAME).
 */
#ifndef IPSM_MAPS_H
#define IPSM_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "pins.h"

enum ipsm_map_id {
	IPSM_MAP_TRAFFIC, /* per interface: dir x family x class counters */
	IPSM_MAP_IKE, /* per interface: IKE exchanges */
	IPSM_MAP_IFACE_META, /* per interface: what attach made */
	IPSM_MAP_SA_STATS, /* the SA table */
	IPSM_MAP_SA_CACHE, /* its per-CPU cache */
	IPSM_MAP_SA_EPOCH, /* changed after user space writes rows */
	IPSM_MAP_SA_FILTER, /* rows per slot of a hash of their keys */
	IPSM_MAP_DP, /* datapath bookkeeping */
	IPSM_MAP_DP_CLOCK, /* the datapath's per-CPU clock */
	IPSM_MAP_CORRELATION, /* the monitor's heartbeat */
	IPSM_MAP_BAD_SPIS, /* recent bad SPIs */
	IPSM_MAP_SA_INFO, /* the monitor's record per SA */
	IPSM_MAP_TOTALS, /* the monitor's folded totals */
	IPSM_MAP_LOCAL_ADDRS, /* the namespace's addresses */
	IPSM_MAP_LOCAL_MEMO, /* the datapath's recent answers from them */
	IPSM_MAP_MARKS, /* the marks of the kernel's SAs */
	IPSM_MAP_IKE_PEERS, /* IKE messages per peer address */
	IPSM_MAP_IKE_MSGS, /* IKEv2 messages seen lately: retransmits */
	IPSM_MAP_IKE_SAS, /* IKEv2 SAs answered: half-open ones */
	IPSM_MAP_MAX,
};

struct ipsm_map_def {
	const char *name; /* as in bpf/ipsecmon.bpf.c, and the pin's file name */
	bool shared; /* one per namespace, else one per interface */
};

extern const struct ipsm_map_def ipsm_maps[IPSM_MAP_MAX];

/* The table entry for a map of the BPF object; NULL if it has none. */
const struct ipsm_map_def *ipsm_map_find(const char *name);
/* Pin path of a map; ifindex is ignored for shared maps. */
void ipsm_map_path(const struct ipsm_paths *p, __u32 ifindex, enum ipsm_map_id id, char *buf,
		   size_t len);
/* A pinned map's fd, or -errno (reported through ipsm_error()). */
int ipsm_map_open(const struct ipsm_paths *p, __u32 ifindex, enum ipsm_map_id id);

#endif
