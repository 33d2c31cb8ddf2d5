/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Rekey analytics: how a rekey went on the wire. A new SA that replaces a
 * live one of its CHILD_SA is a rekey in progress until the old SA goes;
 * its sa_rekeyed event waits for that, to say how long both lived
 * (overlap_seconds) and, inbound, how many packets still came on the old
 * SPI after the new SA was there (old_spi_packets_after: a peer that
 * switched late). early_packets are the new inbound SPI's bad-SPI packets
 * from before the kernel had its SA (a peer that switched early: traffic
 * lost in the rekey).
 */
#ifndef IPSM_REKEYS_H
#define IPSM_REKEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include <linux/types.h>

#include "ipsecmon.h"
#include "xfrm_nl.h"

/* Rekeys waiting for their old SA to go, at most (the oldest is told early). */
#define IPSM_MAX_PENDING_REKEYS 256

struct rekey {
	struct ipsm_xfrm_sa new_sa;
	struct ipsm_sa_key new_key;
	struct ipsm_sa_key old_key;
	__u32 old_spi; /* network order */
	__u64 added_ns; /* CLOCK_MONOTONIC when the new SA came */
	__u64 old_packets; /* the old SA's wire packets then */
	bool have_early; /* inbound only */
	__u64 early;
};

struct rekeys {
	size_t n;
	struct rekey v[IPSM_MAX_PENDING_REKEYS];
};

/*
 * What is known of a rekey when it is told; have_* false: null in the
 * event (outbound SAs have neither packet count; a rekey found in a dump
 * has none of them).
 */
struct rekey_outcome {
	bool have_old_spi;
	__u32 old_spi;
	bool have_early, have_late, have_overlap;
	__u64 early, late;
	double overlap_s;
};

/*
 * Bad-SPI packets to x's SPI, protocol and destination in the datapath's
 * bad_spis map (all CPUs' slots): what came before the SA existed.
 */
int rekey_early_packets(int fd_bad_spis, int ncpus, const struct ipsm_xfrm_sa *x, __u64 *early);
/* A slot for a new pending rekey; the oldest is handed back in *evicted first if full. */
struct rekey *rekeys_add(struct rekeys *t, struct rekey *evicted, bool *did_evict);
/* The pending rekey whose old (or new) SA has this key and SPI, or NULL. */
struct rekey *rekeys_find(struct rekeys *t, const struct ipsm_sa_key *key, __u32 spi, bool old);
void rekeys_remove(struct rekeys *t, struct rekey *r);
/* The sa_rekeyed event of the new SA x (key: its row). */
json_t *rekey_event(const struct ipsm_xfrm_sa *x, const struct ipsm_sa_key *key,
		    const struct rekey_outcome *o);

#endif
