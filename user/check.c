// SPDX-License-Identifier: GPL-2.0
/* check: thresholds on rates and SAs, the monitoring-plugins way. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "log.h"
#include "seq_out.h"

static const char *const state_name[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };

int check_parse_range(const char *arg, struct check_range *r, bool below)
{
	char *end;

	errno = 0;
	r->warn = strtod(arg, &end);
	if (errno || end == arg || *end != ',')
		return -EINVAL;
	arg = end + 1;
	r->crit = strtod(arg, &end);
	if (errno || end == arg || *end || r->warn < 0 || r->crit < 0 ||
	    (below ? r->crit > r->warn : r->crit < r->warn))
		return -EINVAL;
	r->on = true;
	return 0;
}

struct verdict {
	enum check_state state;
	char why[256]; /* what made it worse than OK */
};

/* UNKNOWN only wins over OK: a known problem is worth more than a blind spot. */
static void worsen(struct verdict *v, enum check_state s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void worsen(struct verdict *v, enum check_state s, const char *fmt, ...)
{
	size_t used = strlen(v->why);
	va_list ap;

	if (used < sizeof(v->why) - 2) {
		if (used)
			strcat(v->why, ", ");
		va_start(ap, fmt);
		vsnprintf(v->why + strlen(v->why), sizeof(v->why) - strlen(v->why), fmt, ap);
		va_end(ap);
	}
	if (s == CHECK_UNKNOWN ? v->state == CHECK_OK : s > v->state || v->state == CHECK_UNKNOWN)
		v->state = s;
}

static double rate(__u64 b, __u64 a, double seconds)
{
	return seconds > 0 && b >= a ? (b - a) / seconds : 0;
}

static void range(struct verdict *v, const char *what, const struct check_range *r, bool have,
		  double value)
{
	if (!r->on)
		return;
	if (!have)
		worsen(v, CHECK_UNKNOWN, "%s unknown", what);
	else if (value >= r->crit)
		worsen(v, CHECK_CRITICAL, "%s %.3f/s >= %g", what, value, r->crit);
	else if (value >= r->warn)
		worsen(v, CHECK_WARNING, "%s %.3f/s >= %g", what, value, r->warn);
}

static void perf(char *buf, size_t len, const char *label, double v, const struct check_range *r)
{
	size_t used = strlen(buf);

	if (r && r->on)
		snprintf(buf + used, len - used, " %s=%.3f;%g;%g;0", label, v, r->warn, r->crit);
	else
		snprintf(buf + used, len - used, " %s=%.3f;;;0", label, v);
}

/* Seconds since an SA last carried a packet (on the wire, or since added). */
static long idle_seconds(const struct ipsm_sa *sa, const struct ipsm_snapshot *s)
{
	__u64 now = s->time.tv_sec, last = sa->last_seen / 1000000000ULL;

	if (!last)
		last = sa->x.add_time;
	return now > last ? (long)(now - last) : 0;
}

enum check_state check_eval(const struct check_opts *o, const struct ipsm_snapshot *a,
			    const struct ipsm_snapshot *b, double seconds, char *line, size_t len)
{
	const struct ipsm_counters *cb = &b->ipsecmon;
	const struct ipsm_counter_def *d, *bad_spi = ipsm_counter_by_json("bad_spi_packets");
	bool bad = ipsm_counter_known(a, bad_spi) && ipsm_counter_known(b, bad_spi);
	const struct ipsm_sa *soonest;
	struct verdict v = {};
	char pd[512] = "";
	long idle, worst = 0;
	size_t i;
	int k;

	for (k = 0, d = ipsm_counter_defs; k < IPSM_N_COUNTERS; k++, d++)
		if (d->check_opt)
			range(&v, d->check_what, &o->rate[k],
			      ipsm_counter_known(a, d) && ipsm_counter_known(b, d),
			      rate(ipsm_counter_value(b, d), ipsm_counter_value(a, d), seconds));
	if (o->min_sas >= 0) {
		if (!cb->have_xfrm)
			worsen(&v, CHECK_UNKNOWN, "active SAs unknown");
		else if ((long)cb->active_sas < o->min_sas)
			worsen(&v, CHECK_CRITICAL, "%llu active SAs < %ld",
			       (unsigned long long)cb->active_sas, o->min_sas);
	}
	for (i = 0; i < b->n_sas; i++) {
		if (!b->sas[i].known)
			continue;
		idle = idle_seconds(&b->sas[i], b);
		if (idle > worst)
			worst = idle;
	}
	if (o->max_idle >= 0 && worst > o->max_idle)
		worsen(&v, CHECK_WARNING, "an SA idle for %lds > %lds", worst, o->max_idle);
	/* The outbound SA that runs out of sequence numbers first, at its rate. */
	soonest = seq_out_soonest(b);
	if (o->seq_exhaustion.on && soonest) {
		bool crit = soonest->seq_exhaustion_s < o->seq_exhaustion.crit;
		char spi[16];

		ipsm_spi_str(soonest->key.spi, spi, sizeof(spi));
		if (crit || soonest->seq_exhaustion_s < o->seq_exhaustion.warn)
			worsen(&v, crit ? CHECK_CRITICAL : CHECK_WARNING,
			       "SA %s out of sequence numbers in %.0fs < %g", spi,
			       soonest->seq_exhaustion_s,
			       crit ? o->seq_exhaustion.crit : o->seq_exhaustion.warn);
	}

	/* Perfdata: 'label'=value;warn;crit;min, "N:" meaning "at least N". */
	if (cb->have_xfrm && o->min_sas >= 0)
		snprintf(pd, sizeof(pd), "active_sas=%llu;;%ld:;0",
			 (unsigned long long)cb->active_sas, o->min_sas);
	else if (cb->have_xfrm)
		snprintf(pd, sizeof(pd), "active_sas=%llu;;;0", (unsigned long long)cb->active_sas);
	for (k = 0, d = ipsm_counter_defs; k < IPSM_N_COUNTERS; k++, d++)
		if (d->check_opt && ipsm_counter_known(a, d) && ipsm_counter_known(b, d))
			perf(pd, sizeof(pd), d->check_perf,
			     rate(ipsm_counter_value(b, d), ipsm_counter_value(a, d), seconds),
			     &o->rate[k]);
	if (o->max_idle >= 0)
		snprintf(pd + strlen(pd), sizeof(pd) - strlen(pd), " max_idle=%lds;%ld;;0", worst,
			 o->max_idle);
	/* "W:" is "alert below W"; no sample without an SA that sends. */
	if (o->seq_exhaustion.on && soonest)
		snprintf(pd + strlen(pd), sizeof(pd) - strlen(pd),
			 " seq_exhaustion=%.0fs;%g:;%g:;0", soonest->seq_exhaustion_s,
			 o->seq_exhaustion.warn, o->seq_exhaustion.crit);

	if (v.state == CHECK_OK && bad)
		snprintf(v.why, sizeof(v.why), "%llu active SAs, bad SPI packets %.3f/s",
			 (unsigned long long)cb->active_sas,
			 rate(ipsm_counter_value(b, bad_spi), ipsm_counter_value(a, bad_spi),
			      seconds));
	else if (v.state == CHECK_OK)
		snprintf(v.why, sizeof(v.why), "%llu active SAs, bad-SPI detection inactive",
			 (unsigned long long)cb->active_sas);
	snprintf(line, len, "IPSECMON %s - %s |%s", state_name[v.state], v.why,
		 pd[0] == ' ' ? pd + 1 : pd);
	return v.state;
}

static double seconds_between(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) + (b->tv_nsec - a->tv_nsec) / 1e9;
}

enum check_state check_run(const struct ipsm_paths *p, char *const *names, int n,
			   const struct check_opts *o, unsigned int interval_ms)
{
	struct snapshot_req req = { .ifnames = names, .n_ifnames = n };
	struct ipsm_snapshot a, b;
	struct timespec t0, t1;
	enum check_state state;
	char line[1024];

	if (snapshot_take(p, &req, &a)) {
		printf("IPSECMON UNKNOWN - cannot read the counters (exit %d of the CLI; see stderr)\n",
		       ipsm_exit_code());
		return CHECK_UNKNOWN;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	usleep(interval_ms * 1000);
	if (snapshot_take(p, &req, &b)) {
		snapshot_free(&a);
		printf("IPSECMON UNKNOWN - cannot read the counters\n");
		return CHECK_UNKNOWN;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	seq_out_estimate(&b, &a);
	state = check_eval(o, &a, &b, seconds_between(&t0, &t1), line, sizeof(line));
	printf("%s\n", line);
	snapshot_free(&a);
	snapshot_free(&b);
	return state;
}
