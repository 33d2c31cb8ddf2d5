/* SPDX-License-Identifier: GPL-2.0 */
/* Map aggregation: read the pinned maps once, sum per-CPU values, fill a snapshot. */
#ifndef IPSM_AGGREGATE_H
#define IPSM_AGGREGATE_H

#include "pins.h"
#include "snapshot.h"

/*
 * Fill s from the pins of the current namespace. names/n_names select the
 * interfaces whose traffic and IKE counters are summed (all when n_names is
 * 0); SA rows and datapath counters are per namespace.
 */
int snapshot_read(const struct ipsm_paths *p, char *const *names, int n_names,
		  struct ipsm_snapshot *s);

/* Building blocks, exposed for the unit tests. */
void agg_add_ctr(struct ipsm_ctr *sum, const struct ipsm_ctr *percpu, int ncpus);
__u64 agg_sum_u64(const __u64 *percpu, int ncpus);
void agg_sum_dp(struct ipsm_dp *sum, const struct ipsm_dp *percpu, int ncpus);
/* mono_now/real_now: the same instant on CLOCK_MONOTONIC_COARSE and CLOCK_REALTIME, in ns. */
void agg_sum_sa(struct ipsm_sa *out, const struct ipsm_sa_key *key,
		const struct ipsm_sa_val *percpu, int ncpus, __u64 mono_now, __u64 real_now);
/* The order of a snapshot's SA rows: dir, proto, family, SPI, destination. */
int agg_key_cmp(const struct ipsm_sa_key *x, const struct ipsm_sa_key *y);
void agg_sort_sas(struct ipsm_sa *sas, size_t n);
/* The row with key among sas[0..n), sorted as agg_sort_sas does; NULL if none. */
struct ipsm_sa *agg_find_sa(struct ipsm_sa *sas, size_t n, const struct ipsm_sa_key *key);
/*
 * Merge the per-CPU bad-SPI slots (slots x ncpus) into rows by key, sorted by
 * packets; *out is malloc'ed.
 */
/* The IKE peer slots of all CPUs, one row per address (sorted by family, address). */
int agg_merge_ike_peers(const struct ipsm_ike_peer *percpu, int slots, int ncpus, __u64 mono_now,
			__u64 real_now, struct ipsm_ike_peer_row **out, size_t *n);
int agg_merge_bad_spis(const struct ipsm_bad_spi *percpu, int slots, int ncpus, __u64 mono_now,
		       __u64 real_now, struct ipsm_bad_spi_row **out, size_t *n);

#endif
