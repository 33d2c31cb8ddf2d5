/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Output sequence numbers of outbound SAs: without ESN an SA stops sending
 * when its 32-bit counter would wrap (RFC 4303 §3.3.3), so the time left
 * at the current send rate says when it must have been rekeyed. The rate
 * comes from two readings of the kernel's counter (XFRMA_REPLAY_VAL or
 * XFRMA_REPLAY_ESN_VAL), so one snapshot alone has no estimate.
 */
#ifndef IPSM_SEQ_OUT_H
#define IPSM_SEQ_OUT_H

#include <stdbool.h>
#include <linux/types.h>

#include "snapshot.h"

/* The last sequence number an SA without ESN may send. */
#define IPSM_SEQ_OUT_LIMIT 0xffffffffULL
/* run/watch --seq-warn: an hour is time enough for an IKE daemon to rekey. */
#define IPSM_DEFAULT_SEQ_WARN_S 3600

/* A known outbound SA's last sent sequence number; false for any other row. */
bool sa_seq_out(const struct ipsm_sa *sa, __u64 *seq);
/* Whether the kernel's SA uses extended (64-bit) sequence numbers. */
bool sa_esn(const struct ipsm_sa *sa);
/*
 * Set cur's seq_exhaustion estimates from how far each SA's counter moved
 * since prev (the same SA: same add time). An SA with ESN, one that sent
 * nothing in the interval, or no prev: no estimate.
 */
void seq_out_estimate(struct ipsm_snapshot *cur, const struct ipsm_snapshot *prev);
/* The SA of s that runs out of sequence numbers first, or NULL (no estimate). */
const struct ipsm_sa *seq_out_soonest(const struct ipsm_snapshot *s);

#endif
