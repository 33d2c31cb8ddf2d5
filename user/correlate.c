// SPDX-License-Identifier: GPL-2.0
/* XFRM correlation: kernel SAs x wire rows -> IPSECMON counters. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/xfrm.h>

#include "aggregate.h"
#include "correlate.h"
#include "log.h"
#include "names.h"

void correlate_key(const struct ipsm_xfrm_sa *x, const struct local_addrs *la,
		   struct ipsm_sa_key *key)
{
	memset(key, 0, sizeof(*key));
	key->dir = local_addrs_has(la, x->family, x->daddr) ? IPSM_DIR_RX : IPSM_DIR_TX;
	key->proto = x->proto;
	key->family = ipsm_af_of(x->family);
	key->spi = x->spi;
	memcpy(key->daddr, x->daddr, x->family == AF_INET6 ? 16 : 4);
}

bool sa_contrib(const struct ipsm_sa *row, const struct ipsm_xfrm_sa *x,
		const struct ipsm_sa_info *info, struct ipsm_contrib *c)
{
	__u64 wire, kern, failed;
	__u64 *bytes;

	memset(c, 0, sizeof(*c));
	c->dir = row->key.dir;
	c->bytes = row->packets ? row->bytes : 0;
	if (x) {
		c->confidential = xfrm_sa_confidential(x);
		c->authenticated = xfrm_sa_authenticated(x);
		c->tunnel = x->mode == IPSM_XFRM_MODE_TUNNEL;
		c->offloaded = x->offload != IPSM_OFFLOAD_NONE;
		c->kernel_bytes = x->bytes;
		xfrm_sa_fail(x, &c->fail);
	} else if (info) {
		/* Gone from the kernel, not folded yet: its last known state. */
		c->confidential = info->flags & IPSM_SA_I_CONFIDENTIAL;
		c->authenticated = info->flags & IPSM_SA_I_AUTHENTICATED;
		c->tunnel = info->flags & IPSM_SA_I_TUNNEL;
		c->offloaded = info->flags & IPSM_SA_I_OFFLOADED;
		c->kernel_bytes = info->k_bytes;
		c->fail = info->k_fail;
	} else {
		return false;
	}

	/*
	 * Reconciliation, inbound only: packets seen on the wire since the
	 * monitor first saw the SA, minus those the SA accepted and those it
	 * counted as failed, were dropped for other reasons (bad padding or
	 * next header after a decryption with the wrong key, ...). The wire was
	 * read before the kernel, so packets still in flight make this smaller,
	 * never larger; the highest value seen is kept. Without the kernel's
	 * view of the SA now, the record's last value stands: its kernel
	 * counters are older than the wire, and would invent drops.
	 */
	if (info && c->dir == IPSM_DIR_RX && !x) {
		c->other_drops = info->other_drops;
	} else if (info && c->dir == IPSM_DIR_RX) {
		kern = x->packets;
		failed = c->fail.integrity_failed + c->fail.replayed;
		wire = row->packets > info->base_wire ? row->packets - info->base_wire : 0;
		kern = kern > info->base_kernel ? kern - info->base_kernel : 0;
		failed = failed > info->base_failed ? failed - info->base_failed : 0;
		c->other_drops = wire > kern + failed ? wire - kern - failed : 0;
		if (info->other_drops > c->other_drops)
			c->other_drops = info->other_drops;
	}

	/* Linux checks the ICV before it decrypts: a failed check is neither. */
	bytes = c->acct.bytes[c->dir];
	if (c->confidential) {
		bytes[IPSM_KIND_CONFIDENTIAL] = c->bytes;
		c->acct.not_decrypted = c->fail.integrity_failed + c->other_drops;
	}
	if (c->authenticated) {
		bytes[IPSM_KIND_AUTHENTICATED] = c->bytes;
		c->acct.not_authenticated = c->fail.integrity_failed;
	}
	bytes[c->tunnel ? IPSM_KIND_TUNNEL : IPSM_KIND_TRANSPORT] = c->bytes;
	/*
	 * Offloaded: the kernel's count, which a packet-offloading device keeps
	 * for ESP the hooks never see (it leaves and arrives as cleartext).
	 */
	if (c->offloaded)
		bytes[IPSM_KIND_OFFLOADED] = c->kernel_bytes;
	c->acct.replayed = c->fail.replayed;
	return true;
}

void acct_add(struct ipsm_acct *sum, const struct ipsm_acct *a)
{
	int dir, kind;

	for (dir = 0; dir < IPSM_DIR_MAX; dir++)
		for (kind = 0; kind < IPSM_KIND_MAX; kind++)
			sum->bytes[dir][kind] += a->bytes[dir][kind];
	sum->not_decrypted += a->not_decrypted;
	sum->not_authenticated += a->not_authenticated;
	sum->replayed += a->replayed;
}

enum ipsm_correlation correlation_decide(const struct ipsm_snapshot *s)
{
	bool all_kfunc = true, any_rx = false;
	size_t i;

	/* Kernel lookup only if every receive hook is an XDP program that has it. */
	for (i = 0; i < s->n_ifaces; i++) {
		const struct ipsm_iface *ifc = &s->ifaces[i];

		if (ifc->hooks & (1U << IPSM_HOOK_XDP | 1U << IPSM_HOOK_TC_INGRESS)) {
			any_rx = true;
			if (!(ifc->hooks & (1U << IPSM_HOOK_XDP)) || !ifc->xdp_kfunc)
				all_kfunc = false;
		}
	}
	if (any_rx && all_kfunc)
		return IPSM_CORR_KERNEL;
	if (s->read_mono_ns < s->monitor_live_until)
		return IPSM_CORR_MONITOR;
	return IPSM_CORR_INACTIVE;
}

/* Rows [0, sorted) are in key order (from the maps). */
static struct ipsm_sa *find_row(struct ipsm_snapshot *s, size_t sorted,
				const struct ipsm_sa_key *key)
{
	return agg_find_sa(s->sas, sorted, key);
}

/* A pair of gateway addresses, the same whichever way an SA goes. */
struct pair {
	__u16 family;
	__u8 lo[16], hi[16];
};

static int pair_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct pair));
}

/* Tunnels: distinct pairs of gateway addresses with a tunnel-mode SA, either way. */
static int count_tunnels(const struct ipsm_xfrm_sa *xs, size_t n, __u64 *tunnels)
{
	struct pair *v = calloc(n ? n : 1, sizeof(*v));
	size_t i, m = 0;

	if (!v)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		bool fwd = memcmp(xs[i].saddr, xs[i].daddr, 16) < 0;

		if (xs[i].mode != IPSM_XFRM_MODE_TUNNEL)
			continue;
		v[m].family = xs[i].family;
		memcpy(v[m].lo, fwd ? xs[i].saddr : xs[i].daddr, 16);
		memcpy(v[m].hi, fwd ? xs[i].daddr : xs[i].saddr, 16);
		m++;
	}
	qsort(v, m, sizeof(*v), pair_cmp);
	for (*tunnels = 0, i = 0; i < m; i++)
		if (!i || pair_cmp(&v[i], &v[i - 1]))
			(*tunnels)++;
	free(v);
	return 0;
}

int correlate(struct ipsm_snapshot *s, const struct ipsm_xfrm_sa *xs, size_t n,
	      const struct local_addrs *la)
{
	struct ipsm_counters *ctr = &s->ipsecmon;
	struct ipsm_contrib c;
	struct ipsm_sa_key key;
	struct ipsm_sa *row, *nv;
	size_t i, kept, sorted = s->n_sas, cap = s->n_sas;
	int err;

	memset(ctr, 0, sizeof(*ctr));
	ctr->have_xfrm = xs != NULL;
	ctr->bad_spi_packets = s->dp.bad_spi_packets;
	if (s->have_totals && s->totals.monitor_since) {
		ctr->have_events = true;
		ctr->key_additions = s->totals.key_additions;
		ctr->key_deletions = s->totals.key_deletions;
		ctr->rekeys = s->totals.rekeys;
		ctr->rekey_early_packets = s->totals.rekey_early_packets;
		ctr->rekey_late_packets = s->totals.rekey_late_packets;
		ctr->pending = s->totals.pending;
		ctr->acct = s->totals.acct;
	}

	/* The kernel's SAs against the rows, which are in key order: n log n. */
	for (i = 0; xs && i < n; i++) {
		correlate_key(&xs[i], la, &key);
		row = find_row(s, sorted, &key);
		if (row) {
			static const __u8 none[16];

			row->known = true;
			row->x = xs[i];
			/* No packet told the source (a row the monitor made): the SA's. */
			if (!memcmp(row->saddr, none, sizeof(none)))
				memcpy(row->saddr, xs[i].saddr, sizeof(row->saddr));
			continue;
		}
		/* An SA without traffic still belongs in the list. */
		if (s->n_sas == cap) {
			cap = cap ? 2 * cap : sorted + 64;
			nv = realloc(s->sas, cap * sizeof(*nv));
			if (!nv)
				return -ENOMEM;
			s->sas = nv;
		}
		row = &s->sas[s->n_sas++];
		memset(row, 0, sizeof(*row));
		row->key = key;
		memcpy(row->saddr, xs[i].saddr, sizeof(row->saddr));
		row->known = true;
		row->x = xs[i];
	}
	/* SAs that share a key (marks) share its row: one row each key. */
	if (s->n_sas > sorted) {
		agg_sort_sas(s->sas, s->n_sas);
		for (i = 1, kept = 1; i < s->n_sas; i++)
			if (agg_key_cmp(&s->sas[i].key, &s->sas[kept - 1].key))
				s->sas[kept++] = s->sas[i];
			else if (!s->sas[kept - 1].packets)
				s->sas[kept - 1] = s->sas[i];
		s->n_sas = kept;
	}
	for (i = 0; i < s->n_sas; i++) {
		row = &s->sas[i];
		/* Being folded: in the totals once they carry its journal number. */
		if (row->have_info && row->info.folded_in) {
			if (!s->have_totals || row->info.folded_in > s->totals.journal)
				acct_add(&ctr->acct, &row->info.fold);
			continue;
		}
		if (!sa_contrib(row, row->known ? &row->x : NULL,
				row->have_info ? &row->info : NULL, &c))
			continue;
		acct_add(&ctr->acct, &c.acct);
		if (row->known && row->have_info && row->key.dir == IPSM_DIR_RX) {
			__u64 wire = row->packets, kern = row->x.packets;

			wire = wire > row->info.base_wire ? wire - row->info.base_wire : 0;
			kern = kern > row->info.base_kernel ? kern - row->info.base_kernel : 0;
			row->have_dropped = true;
			row->kernel_dropped = wire > kern ? wire - kern : 0;
		}
	}
	if (xs) {
		ctr->active_sas = n;
		for (i = 0; i < n; i++)
			ctr->offloaded_sas += xs[i].offload != IPSM_OFFLOAD_NONE;
		err = count_tunnels(xs, n, &ctr->active_tunnels);
		if (err)
			return err;
	}
	agg_sort_sas(s->sas, s->n_sas);
	return 0;
}
