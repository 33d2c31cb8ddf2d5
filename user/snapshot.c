// SPDX-License-Identifier: GPL-2.0
/* The snapshot model and the one path that fills it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "correlate.h"
#include "local_addrs.h"
#include "log.h"
#include "snapshot.h"
#include "peers.h"
#include "tunnels.h"
#include "xfrm_nl.h"

void snapshot_free(struct ipsm_snapshot *s)
{
	free(s->ifaces);
	free(s->sas);
	free(s->bad_spis);
	free(s->tunnels);
	free(s->ike_peers);
	free(s->peers);
	xfrm_summary_free(&s->kxfrm);
	s->ifaces = NULL;
	s->sas = NULL;
	s->bad_spis = NULL;
	s->tunnels = NULL;
	s->ike_peers = NULL;
	s->peers = NULL;
	s->n_ifaces = s->n_sas = s->n_bad_spis = s->n_tunnels = s->n_ike_peers = s->n_peers = 0;
}

__u64 sa_seq_lost(const struct ipsm_sa *sa)
{
	return sa->seq_gaps > sa->seq_filled ? sa->seq_gaps - sa->seq_filled : 0;
}

const struct ipsm_sa *snapshot_find_sa(const struct ipsm_snapshot *s, const struct ipsm_sa_key *key)
{
	return s ? agg_find_sa(s->sas, s->n_sas, key) : NULL;
}

struct ipsm_ctr snapshot_class_total(const struct ipsm_snapshot *s, int dir, int cls)
{
	struct ipsm_ctr t = {};
	int af;

	for (af = 0; af < IPSM_AF_MAX; af++) {
		t.packets += s->traffic[dir][af][cls].packets;
		t.bytes += s->traffic[dir][af][cls].bytes;
	}
	return t;
}

int snapshot_take(const struct ipsm_paths *p, const struct snapshot_req *req,
		  struct ipsm_snapshot *s)
{
	struct local_addrs own = {};
	const struct local_addrs *la = req->la;
	struct ipsm_xfrm_sa *xs = NULL;
	size_t n = 0;
	int err;

	/* The wire first: reconciliation relies on the kernel being read after it. */
	err = snapshot_read(p, req->ifnames, req->n_ifnames, s);
	if (err)
		return err;
	s->monitor_live = s->read_mono_ns < s->monitor_live_until;
	err = ike_sas_read(p, s->read_mono_ns,
			   req->half_open_after_s ?: IPSM_DEFAULT_HALF_OPEN_AFTER_S, &s->ike_sas);
	s->have_ike_sas = !err;
	if (err)
		pr_warn("cannot read the IKE SAs: %s", strerror(-err));
	s->correlation = correlation_decide(s);
	if (!la) {
		err = local_addrs_read(&own);
		if (err)
			pr_warn("cannot list local addresses: %s", strerror(-err));
		la = &own;
	}
	err = xfrm_sas_read(&xs, &n);
	if (err && req->on_sas) {
		local_addrs_free(&own);
		snapshot_free(s);
		return ipsm_error(IPSM_EXIT_FAIL, err, "cannot read the kernel's SAs: %s",
				  strerror(-err));
	}
	if (err) {
		pr_warn("cannot read the kernel's SAs: %s", strerror(-err));
		xs = NULL;
	}
	if (req->on_sas) {
		err = req->on_sas(req->ctx, s, xs, n);
		if (err) {
			free(xs);
			local_addrs_free(&own);
			snapshot_free(s);
			return err;
		}
	}
	err = correlate(s, xs, n, la);
	if (!err) {
		s->have_kxfrm = !xfrm_summary_read(&s->kxfrm);
		if (!s->have_kxfrm)
			pr_debug("cannot read SADINFO or the policies");
		err = tunnels_build(s, xs, n, la);
		if (!err)
			err = peers_build(s);
	}
	free(xs);
	local_addrs_free(&own);
	if (err) {
		snapshot_free(s);
		return ipsm_error(IPSM_EXIT_FAIL, err, "cannot correlate the SAs: %s",
				  strerror(-err));
	}
	s->have_xfrm_stat = !xfrm_stat_read(&s->xfrm_stat);
	return 0;
}
