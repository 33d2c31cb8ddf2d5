// SPDX-License-Identifier: GPL-2.0
/* check: thresholds on rates and SAs, the monitoring-plugins way. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static const char *const state_name[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };

int check_parse_range(const char *arg, struct check_range *r)
{
	char *end;

	errno = 0;
	r->warn = strtod(arg, &end);
	if (errno || end == arg || *end != ',')
		return -EINVAL;
	arg = end + 1;
	r->crit = strtod(arg, &end);
	if (errno || end == arg || *end || r->warn < 0 || r->crit < r->warn)
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
	const struct ipsm_counters *ca = &a->ipsecmon, *cb = &b->ipsecmon;
	bool bad = a->correlation != IPSM_CORR_INACTIVE && b->correlation != IPSM_CORR_INACTIVE;
	bool x = ca->have_xfrm && cb->have_xfrm;
	double bad_r = rate(cb->bad_spi_packets, ca->bad_spi_packets, seconds);
	double dec_r = rate(cb->not_decrypted, ca->not_decrypted, seconds);
	double auth_r = rate(cb->not_authenticated, ca->not_authenticated, seconds);
	struct verdict v = {};
	char pd[512] = "";
	long idle, worst = 0;
	size_t i;

	range(&v, "bad SPI packets", &o->bad_spi_rate, bad, bad_r);
	range(&v, "packets not decrypted", &o->not_decrypted, x, dec_r);
	range(&v, "packets not authenticated", &o->not_authenticated, x, auth_r);
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

	/* Perfdata: 'label'=value;warn;crit;min, "N:" meaning "at least N". */
	if (cb->have_xfrm && o->min_sas >= 0)
		snprintf(pd, sizeof(pd), "active_sas=%llu;;%ld:;0",
			 (unsigned long long)cb->active_sas, o->min_sas);
	else if (cb->have_xfrm)
		snprintf(pd, sizeof(pd), "active_sas=%llu;;;0", (unsigned long long)cb->active_sas);
	if (bad)
		perf(pd, sizeof(pd), "bad_spi_rate", bad_r, &o->bad_spi_rate);
	if (x) {
		perf(pd, sizeof(pd), "not_decrypted_rate", dec_r, &o->not_decrypted);
		perf(pd, sizeof(pd), "not_authenticated_rate", auth_r, &o->not_authenticated);
	}
	if (o->max_idle >= 0)
		snprintf(pd + strlen(pd), sizeof(pd) - strlen(pd), " max_idle=%lds;%ld;;0", worst,
			 o->max_idle);

	if (v.state == CHECK_OK && bad)
		snprintf(v.why, sizeof(v.why), "%llu active SAs, bad SPI packets %.3f/s",
			 (unsigned long long)cb->active_sas, bad_r);
	else if (v.state == CHECK_OK)
		snprintf(v.why, sizeof(v.why), "%llu active SAs, bad-SPI detection inactive",
			 (unsigned long long)cb->active_sas);
	snprintf(line, len, "IPSECMON %s - %s |%s", state_name[v.state], v.why,
		 pd[0] == ' ' ? pd + 1 : pd);
	return v.state;
}
