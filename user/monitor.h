/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The monitor (run): keeps the SA table equal to the kernel's SAD from XFRM
 * events, folds deleted SAs into the pinned totals, keeps the correlation
 * heartbeat fresh, and writes a JSON line per interval and per event.
 */
#ifndef IPSM_MONITOR_H
#define IPSM_MONITOR_H

#include <stdio.h>

#include "snapshot.h"

#include "pins.h"

struct monitor_opts {
	char *const *ifnames; /* the interfaces the snapshots cover (all if none) */
	int n_ifnames;
	unsigned int interval_ms;
	const char *output; /* --output FILE, NULL for stdout */
	__u32 gap_threshold; /* seq_gap events above this many per interval */
	__u32 seq_warn_s; /* seq_exhaustion_near within this many seconds; 0: off */
	__u32 one_way_after; /* intervals of one-way traffic before a tunnel is one_way; 0: never */
	__u32 half_open_after_s; /* --half-open-after */
	bool sas_all; /* every SA in each line, not the busiest and most troubled */
	__u64 learned_idle_ns; /* learned rows idle this long are removed; 0 never */
	/* Called with every interval's snapshot (the Prometheus endpoint). */
	void (*publish)(void *ctx, const struct ipsm_snapshot *s);
	void *publish_ctx;
};

/*
 * Runs until SIGINT or SIGTERM (0) or an error (negative errno; -EPIPE when
 * the reader of stdout went away). SIGHUP reopens --output.
 */
int monitor_run(const struct ipsm_paths *p, const struct monitor_opts *o);

/*
 * One monitor per network namespace (and pin directory): a lock the kernel
 * drops with the process, however it dies. Returns the fd to keep open, or
 * -errno (IPSM_EXIT_BUSY when another monitor holds it).
 */
int monitor_lock(const struct ipsm_paths *p);

#endif
