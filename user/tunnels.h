/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tunnels: one per pair of gateway addresses that has SAs or that a policy's
 * template names. A configured pair without an SA is down (the IKE daemon
 * has not, or no longer, negotiated it: SA lists do not show it at all); a
 * pair whose traffic goes one way only for some intervals is one way (a
 * filter or a route on one side, or a peer that lost its inbound SA).
 */
#ifndef IPSM_TUNNELS_H
#define IPSM_TUNNELS_H

#include <stddef.h>
#include <linux/types.h>

#include "local_addrs.h"
#include "snapshot.h"

/* run/watch --one-way-after: intervals of one-way traffic before one_way. */
#define IPSM_DEFAULT_ONE_WAY_AFTER 3
/*
 * Tunnels in a JSON line: the most troubled first, then the busiest (10
 * keep a line with 20 SAs and 10 peers under 16 KiB).
 */
#define IPSM_STREAM_MAX_TUNNELS 10

/*
 * Fill s->tunnels from the kernel's SAs (xs, NULL when they could not be
 * read: no tunnels), the policies' pairs in s->kxfrm and the SA rows of
 * s, correlated already. A direction is counted from the wire when an
 * attached hook sees it, else from the kernel's SA counters. States: down
 * or up; the others need two readings (tunnels_track). 0 or -ENOMEM.
 */
int tunnels_build(struct ipsm_snapshot *s, const struct ipsm_xfrm_sa *xs, size_t n,
		  const struct local_addrs *la);
/*
 * The states that need an interval: idle (nothing either way since prev)
 * and one_way (traffic one way only in one_way_after consecutive
 * intervals; it stays one way through quiet intervals until traffic goes
 * both ways). Growth is per SA, so a rekey (the old SA's packets leave the
 * sum) is not a quiet interval. Without prev nothing changes.
 */
void tunnels_track(struct ipsm_snapshot *cur, const struct ipsm_snapshot *prev,
		   __u32 one_way_after);
const char *ipsm_tunnel_state_name(enum ipsm_tunnel_state st);
/* The tunnel of a pair in s, or NULL. */
const struct ipsm_tunnel *tunnels_find(const struct ipsm_snapshot *s, __u16 family,
				       const __u8 *local, const __u8 *remote);
/*
 * A copy of s->tunnels for showing a few: worst state first, then most
 * packets both ways (s->tunnels itself stays in pair order). NULL when s
 * has none or for memory; free() it.
 */
struct ipsm_tunnel *tunnels_by_trouble(const struct ipsm_snapshot *s);
/* The pair's addresses as text (buffers of IPSM_ADDR_STRLEN). */
#define IPSM_ADDR_STRLEN 64
void tunnel_addr_strs(const struct ipsm_tunnel *t, char *local, char *remote);

#endif
