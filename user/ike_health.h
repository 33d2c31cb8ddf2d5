/* SPDX-License-Identifier: GPL-2.0 */
/*
 * IKEv2 health from the wire: the half-open IKE SAs of the datapath's
 * ike_sas table, as of one snapshot. Retransmits and notifies are plain
 * counters, read with the other IKE counters (aggregate.c).
 */
#ifndef IPSM_IKE_HEALTH_H
#define IPSM_IKE_HEALTH_H

#include <linux/types.h>

/* --half-open-after: seconds from the IKE_SA_INIT response to IKE_AUTH. */
#define IPSM_DEFAULT_HALF_OPEN_AFTER_S 30
#define IPSM_MAX_HALF_OPEN_AFTER_S 600
/*
 * Answered longer ago than this, an IKE SA is no longer reported: no
 * responder keeps a half-open SA that long (strongSwan: 30 s, Libreswan:
 * under a minute), and the table's oldest would otherwise stay forever.
 * Well above the longest --half-open-after, and long enough that one
 * failed attempt stays visible for an alert's "for: 5m".
 */
#define IPSM_IKE_HALF_OPEN_WINDOW_S 900

struct ipsm_ike_sa;

struct ipsm_ike_sas {
	__u64 tracked; /* entries in the table */
	__u64 awaiting_auth; /* answered within half_open_after, no IKE_AUTH yet */
	__u64 half_open; /* answered more than half_open_after ago (within the window), none */
	__u64 auth_seen; /* an IKE_AUTH came (whatever its outcome: it is encrypted), within the window */
};

/*
 * Sort n entries by age at mono_ns (CLOCK_MONOTONIC_COARSE) into out.
 * after_s: --half-open-after.
 */
void ike_sas_count(const struct ipsm_ike_sa *e, size_t n, __u64 mono_ns, __u32 after_s,
		   struct ipsm_ike_sas *out);

struct ipsm_paths;

/* Read the namespace's ike_sas and count them; -ENOENT: pins older than the map. */
int ike_sas_read(const struct ipsm_paths *p, __u64 mono_ns, __u32 after_s,
		 struct ipsm_ike_sas *out);

#endif /* IPSM_IKE_HEALTH_H */
