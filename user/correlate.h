/* SPDX-License-Identifier: GPL-2.0 */
/*
 * XFRM correlation: join the kernel's SAs with the SA rows seen on the wire
 * and compute the IPSECMON counters (README "IPSECMON counters").
 */
#ifndef IPSM_CORRELATE_H
#define IPSM_CORRELATE_H

#include <stdbool.h>
#include <stddef.h>

#include "snapshot.h"
#include "xfrm_nl.h"

/* The addresses of this network namespace: an SA to one of them is inbound. */
struct local_addrs {
	size_t n;
	struct {
		__u16 family; /* AF_INET, AF_INET6 */
		__u8 addr[16];
	} * v;
};

int local_addrs_read(struct local_addrs *la);
bool local_addrs_has(const struct local_addrs *la, __u16 family, const __u8 *addr);
void local_addrs_free(struct local_addrs *la);

/* The SA table key of a kernel SA. */
void correlate_key(const struct ipsm_xfrm_sa *x, const struct local_addrs *la,
		   struct ipsm_sa_key *key);

/* All ESP and AH SAs of the kernel; *xs is malloc'ed. */
int xfrm_sas_read(struct ipsm_xfrm_sa **xs, size_t *n);

/* What one SA adds to the IPSECMON counters. */
struct ipsm_contrib {
	int dir;
	bool confidential, authenticated, tunnel;
	__u64 bytes; /* on the wire, IP bytes */
	__u64 not_decrypted;
	__u64 not_authenticated;
	__u64 replayed;
	__u64 other_drops; /* reconciliation: dropped for other reasons */
};

/*
 * The contribution of an SA row: from the kernel SA x while it exists, else
 * from the monitor's record of it (info). false if it is no kernel SA.
 */
bool sa_contrib(const struct ipsm_sa *row, const struct ipsm_xfrm_sa *x,
		const struct ipsm_sa_info *info, struct ipsm_contrib *c);
/* Add a contribution to counters (live view) or totals (folding). */
void contrib_add_counters(struct ipsm_counters *ctr, const struct ipsm_contrib *c);
void contrib_add_totals(struct ipsm_totals *t, const struct ipsm_contrib *c);

/*
 * Join xs (NULL when XFRM could not be read) into s->sas, adding rows for SAs
 * without traffic, and fill s->ipsecmon.
 */
int correlate(struct ipsm_snapshot *s, const struct ipsm_xfrm_sa *xs, size_t n,
	      const struct local_addrs *la);

/* SADINFO's SA count and the policies by direction, into s; 0 or -errno. */
int kernel_xfrm_read(struct ipsm_snapshot *s);

/*
 * Read the kernel's SAs and local addresses and correlate s with them. A
 * kernel that cannot be asked leaves the counters at "no XFRM" (a warning
 * says why); only running out of memory fails.
 */
int snapshot_correlate(struct ipsm_snapshot *s);

#endif
