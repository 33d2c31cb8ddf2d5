/* SPDX-License-Identifier: GPL-2.0 */
/* JSON output (contract v1, see README "JSON"), rendered with jansson. */
#ifndef IPSM_OUT_JSON_H
#define IPSM_OUT_JSON_H

#include <stdbool.h>
#include <stdio.h>
#include <jansson.h>

#include "snapshot.h"

/* The snapshot as a JSON object; NULL on allocation failure. */
json_t *json_snapshot(const struct ipsm_snapshot *s);

/*
 * What a stream line shows of a snapshot. With more SAs than max_sas, the
 * half of them busiest since prev and the half with the most trouble, and
 * "sas_omitted"; the first max_bad_spis bad SPIs, and "bad_spis_omitted".
 */
struct json_view {
	size_t max_sas;
	size_t max_bad_spis;
	size_t max_tunnels; /* the most troubled and busiest, and "tunnels_omitted" */
	size_t max_peers; /* half busiest, half most troubled, and "peers_omitted" */
	const struct ipsm_snapshot *prev; /* the previous interval's, or NULL */
};

#define IPSM_STREAM_MAX_SAS 20
#define IPSM_STREAM_MAX_BAD_SPIS 10

json_t *json_snapshot_view(const struct ipsm_snapshot *s, const struct json_view *v);
/* The status document for the given interfaces. */
/* stale: pin directories of network namespaces that are gone. */
json_t *json_status(const struct ipsm_iface *ifs, size_t n, __u64 netns_id,
		    const char *const *stale, size_t n_stale);
/*
 * Add what a stream line carries beside the totals: "interval_seconds",
 * "delta" (growth since prev) and "rate" (per second) of the counters.
 */
void json_add_changes(json_t *doc, const struct ipsm_snapshot *cur,
		      const struct ipsm_snapshot *prev, double seconds);
/* Write one document (pretty or one line) followed by a newline. */
int json_write(FILE *f, json_t *doc, bool pretty);

#endif
