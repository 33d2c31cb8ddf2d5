/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Rows of the SA table that the datapath learned for SPIs that are none of
 * this host's SAs (ESP it forwards, other hosts' SAs seen on the wire). They
 * only carry per-SPI traffic, so the monitor removes them when idle and
 * evicts the least recently seen when a kernel SA needs a row in a full
 * table: they never keep a kernel SA from having its row.
 */
#ifndef IPSM_LEARNED_H
#define IPSM_LEARNED_H

#include <stdbool.h>

#include "sa_table.h"
#include "snapshot.h"

/* run --learned-idle: long enough that an SPI's row outlives a pause in its traffic. */
#define IPSM_DEFAULT_LEARNED_IDLE_S 300

/* Whether the row under key belongs to a kernel SA (never evicted). */
typedef bool (*learned_keep_fn)(void *ctx, const struct ipsm_sa_key *key);

/* A learned row idle for idle_ns at now (realtime ns); idle_ns 0: never. */
bool learned_idle(const struct ipsm_sa *row, __u64 now_ns, __u64 idle_ns);

/*
 * Make room in the SA table: remove the least recently seen eighth (at
 * least one) of the rows keep() does not claim. Returns how many were
 * removed, or -errno.
 */
int learned_evict(const struct sa_table *t, learned_keep_fn keep, void *ctx);

#endif
