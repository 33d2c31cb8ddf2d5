/* SPDX-License-Identifier: GPL-2.0 */
/* check: a monitoring-plugin (Nagios, Icinga) verdict from two snapshots. */
#ifndef IPSM_CHECK_H
#define IPSM_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "counters.h"
#include "pins.h"
#include "snapshot.h"

enum check_state {
	CHECK_OK = 0,
	CHECK_WARNING = 1,
	CHECK_CRITICAL = 2,
	CHECK_UNKNOWN = 3,
};

/* A WARNING,CRITICAL pair of per-second rates; off when not given. */
struct check_range {
	bool on;
	double warn, crit;
};

struct check_opts {
	/* Thresholds on rates, by index of the counter table (counters.h). */
	struct check_range rate[IPSM_N_COUNTERS];
	long min_sas; /* CRITICAL below; -1: off */
	long max_idle; /* seconds an SA may carry nothing before WARNING; -1: off */
	/* Seconds left to an outbound SA's last sequence number: WARNING, CRITICAL below. */
	struct check_range seq_exhaustion;
};

/* "W,C" into r; 0 or -EINVAL. below: C <= W (a floor), else C >= W (a ceiling). */
int check_parse_range(const char *arg, struct check_range *r, bool below);

/*
 * The verdict for the interval from a to b (seconds apart): one status line
 * with perfdata into line, and the state as the return value.
 */
enum check_state check_eval(const struct check_opts *o, const struct ipsm_snapshot *a,
			    const struct ipsm_snapshot *b, double seconds, char *line, size_t len);

/*
 * The plugin: two snapshots interval_ms apart, the verdict line printed
 * on stdout; returns the state (UNKNOWN when the counters cannot be read).
 */
enum check_state check_run(const struct ipsm_paths *p, char *const *names, int n,
			   const struct check_opts *o, unsigned int interval_ms);

#endif
