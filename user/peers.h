/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Peers: one per remote gateway address, from its tunnels (SAs, traffic,
 * down ones), its recent bad SPIs and its IKE messages, with the last time
 * any of them was seen. A JSON line or a Prometheus scrape shows a bounded
 * few: the busiest and the most troubled.
 */
#ifndef IPSM_PEERS_H
#define IPSM_PEERS_H

#include <stddef.h>

#include "snapshot.h"

/* Peers in a JSON line: the most troubled, then the busiest (see tunnels.h). */
#define IPSM_STREAM_MAX_PEERS 10

/* Fill s->peers from s->tunnels, s->sas, s->bad_spis, s->ike_peers. 0 or -ENOMEM. */
int peers_build(struct ipsm_snapshot *s);
/*
 * Which peers to show when at most max fit: pick[i] for s->peers[i]; up to
 * half by trouble (bad-SPI packets and tunnels down, those with any), the
 * rest by traffic (bytes both ways and IKE messages). Returns how many were
 * picked (all, or max), or -ENOMEM.
 */
long peers_pick(const struct ipsm_snapshot *s, size_t max, bool *pick);
/* A peer's badness for ordering: bad-SPI packets, then tunnels down. */
__u64 peer_trouble(const struct ipsm_peer *p);

#endif
