/* SPDX-License-Identifier: GPL-2.0 */
/*
 * XFRM correlation: join the kernel's SAs with the SA rows seen on the wire
 * and compute the IPSECMON counters (README "IPSECMON counters").
 */
#ifndef IPSM_CORRELATE_H
#define IPSM_CORRELATE_H

#include <stdbool.h>
#include <stddef.h>

#include "local_addrs.h"
#include "snapshot.h"
#include "xfrm_nl.h"

/* The SA table key of a kernel SA. */
void correlate_key(const struct ipsm_xfrm_sa *x, const struct local_addrs *la,
		   struct ipsm_sa_key *key);

/* What one SA adds to the IPSECMON counters. */
struct ipsm_contrib {
	int dir;
	bool confidential, authenticated, tunnel, offloaded;
	__u64 bytes; /* on the wire, IP bytes */
	__u64 kernel_bytes; /* the SA's own count (curlft): offloaded bytes */
	struct ipsm_sa_fail fail; /* what the kernel counted against it */
	__u64 other_drops; /* reconciliation: dropped for other reasons */
	struct ipsm_acct acct; /* all of the above, as the counters sum it */
};

/*
 * The contribution of an SA row: from the kernel SA x while it exists, else
 * from the monitor's record of it (info). false if it is no kernel SA.
 */
bool sa_contrib(const struct ipsm_sa *row, const struct ipsm_xfrm_sa *x,
		const struct ipsm_sa_info *info, struct ipsm_contrib *c);
/* sum += a: a contribution into the live counters or the pinned totals. */
void acct_add(struct ipsm_acct *sum, const struct ipsm_acct *a);

/* Who decides bad SPIs, from what the maps said (interfaces, heartbeat). */
enum ipsm_correlation correlation_decide(const struct ipsm_snapshot *s);

/*
 * Join xs (NULL when XFRM could not be read) into s->sas, adding rows for SAs
 * without traffic, and fill s->ipsecmon.
 */
int correlate(struct ipsm_snapshot *s, const struct ipsm_xfrm_sa *xs, size_t n,
	      const struct local_addrs *la);

#endif
