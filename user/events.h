/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Events found by comparing two snapshots: the first bad SPI from a peer,
 * an ESP/AH sequence gap above a threshold, an outbound SA that will soon
 * run out of sequence numbers (once per SA), a tunnel that went down, one
 * way or up again, and (for watch, which sees no XFRM events) SAs that
 * appeared or went. Each is a JSON object with an "event" member.
 */
#ifndef IPSM_EVENTS_H
#define IPSM_EVENTS_H

#include <stdbool.h>
#include <jansson.h>

#include "snapshot.h"

#define IPSM_MAX_BAD_PEERS 1024
/* SAs warned about once each (seq_exhaustion_near), at most this many kept. */
#define IPSM_MAX_SEQ_WARNED 1024
#define IPSM_DEFAULT_GAP_THRESHOLD 10

typedef void (*event_emit_fn)(void *ctx, json_t *event);

struct ipsm_events {
	__u32 gap_threshold; /* sequence numbers lost in one interval */
	__u32 seq_warn_s; /* seq_exhaustion_near below this many seconds; 0: off */
	bool sa_changes; /* derive sa_added/sa_deleted from the SA lists */
	size_t n_bad_peers;
	struct {
		__u8 family;
		__u8 addr[16];
	} bad_peers[IPSM_MAX_BAD_PEERS];
	size_t n_seq_warned;
	struct {
		struct ipsm_sa_key key;
		__u64 add_time; /* the SA's: a new SA under the key is warned again */
	} seq_warned[IPSM_MAX_SEQ_WARNED];
};

/* A new event object: schema, event name and time. */
json_t *event_new(const char *name);
/*
 * An event about one SA, the same members whoever emits it: spi, proto,
 * dir, src, dst, mode and reqid (null when x, the kernel's SA, is unknown).
 */
json_t *event_sa(const char *name, const struct ipsm_sa_key *key, const __u8 *saddr,
		 const struct ipsm_xfrm_sa *x);
/* Emit the events between prev (NULL on the first snapshot) and cur. */
void events_compare(struct ipsm_events *e, const struct ipsm_snapshot *prev,
		    const struct ipsm_snapshot *cur, event_emit_fn emit, void *ctx);

#endif
