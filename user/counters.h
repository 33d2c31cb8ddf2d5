/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The IPSECMON counters, declared once. Every rendering (JSON, text, the
 * live window, Prometheus, check's perfdata, the `counters` listing and the
 * tests' name lists) walks this table, and one predicate says whether a
 * counter is known in a snapshot (JSON null, no Prometheus series, "-").
 */
#ifndef IPSM_COUNTERS_H
#define IPSM_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "snapshot.h"

/* When a counter means something. */
enum ipsm_avail {
	IPSM_AVAIL_XFRM, /* the kernel's SAs were read */
	IPSM_AVAIL_EVENTS, /* a monitor has run: its event counts are kept */
	IPSM_AVAIL_MONITOR, /* a monitor runs now */
	IPSM_AVAIL_BAD_SPI, /* someone decides bad SPIs (correlation not inactive) */
	IPSM_AVAIL_TRACKED, /* compared with the previous interval's (run, watch) */
	IPSM_AVAIL_POLICIES, /* the kernel's SAs and all its policies were read */
};

enum ipsm_ctr_type {
	IPSM_CTR_GAUGE,
	IPSM_CTR_COUNTER, /* only grows; Prometheus _total, JSON-lines deltas */
};

enum ipsm_ctr_unit {
	IPSM_UNIT_COUNT,
	IPSM_UNIT_BYTES,
};

struct ipsm_counter_def {
	const char *json; /* member of "ipsecmon" */
	const char *label; /* IPSECMON's name: text table and live window */
	const char *prom; /* metric family */
	const char *prom_labels[4]; /* name, value pairs; NULL-terminated */
	const char *help; /* Prometheus HELP of the family, and the listing's */
	enum ipsm_ctr_type type;
	enum ipsm_ctr_unit unit;
	enum ipsm_avail avail;
	size_t off; /* of the __u64 in struct ipsm_counters */
	unsigned char term_row, term_col; /* place in the live window */
	/* check: a WARNING,CRITICAL threshold on the counter's rate */
	const char *check_opt; /* option name, NULL: none */
	const char *check_what; /* how the status line names it */
	const char *check_perf; /* perfdata label */
};

#define IPSM_N_COUNTERS 25
#define IPSM_TERM_ROWS 9
/* term_row of a counter the IPSECMON table does not show (a pane does). */
#define IPSM_TERM_NONE 0xff

extern const struct ipsm_counter_def ipsm_counter_defs[IPSM_N_COUNTERS];

#define ipsm_for_each_counter(d) \
	for ((d) = ipsm_counter_defs; (d) < ipsm_counter_defs + IPSM_N_COUNTERS; (d)++)

/* The one rule for "known": false means null, no series, "-". */
bool ipsm_counter_known(const struct ipsm_snapshot *s, const struct ipsm_counter_def *d);
__u64 ipsm_counter_value(const struct ipsm_snapshot *s, const struct ipsm_counter_def *d);
const char *ipsm_avail_name(enum ipsm_avail a);
const struct ipsm_counter_def *ipsm_counter_by_json(const char *json);

#endif
