/* SPDX-License-Identifier: GPL-2.0 */
/* watch: the counters every interval, as a live window, text or JSON lines. */
#ifndef IPSM_WATCH_H
#define IPSM_WATCH_H

#include <stdbool.h>
#include <linux/types.h>

#include "pins.h"

struct watch_opts {
	char *const *ifnames;
	int n_ifnames;
	unsigned int interval_ms;
	bool json;
	const char *output; /* NULL: stdout */
	__u32 gap_threshold;
	__u32 seq_warn_s;
	__u32 one_way_after;
	__u32 half_open_after_s;
	bool sas_all; /* every SA in each JSON line */
};

/* Until q, SIGINT or SIGTERM (0), or an error (-EPIPE: the reader went away). */
int watch_run(const struct ipsm_paths *p, const struct watch_opts *o);

#endif
