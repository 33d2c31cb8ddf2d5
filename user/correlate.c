// SPDX-License-Identifier: GPL-2.0
/* XFRM correlation: kernel SAs x wire rows -> IPSECMON counters. */
#include <errno.h>
#include <ifaddrs.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/xfrm.h>

#include "aggregate.h"
#include "correlate.h"
#include "log.h"

int local_addrs_read(struct local_addrs *la)
{
	struct ifaddrs *ifa, *i;
	size_t n = 0;

	la->n = 0;
	la->v = NULL;
	if (getifaddrs(&ifa))
		return -errno;
	for (i = ifa; i; i = i->ifa_next)
		if (i->ifa_addr &&
		    (i->ifa_addr->sa_family == AF_INET || i->ifa_addr->sa_family == AF_INET6))
			n++;
	la->v = calloc(n ? n : 1, sizeof(*la->v));
	if (!la->v) {
		freeifaddrs(ifa);
		return -ENOMEM;
	}
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			la->v[la->n].family = AF_INET;
			memcpy(la->v[la->n++].addr, &((struct sockaddr_in *)i->ifa_addr)->sin_addr,
			       4);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			la->v[la->n].family = AF_INET6;
			memcpy(la->v[la->n++].addr,
			       &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
		}
	}
	freeifaddrs(ifa);
	return 0;
}

bool local_addrs_has(const struct local_addrs *la, __u16 family, const __u8 *addr)
{
	size_t i, len = family == AF_INET ? 4 : 16;

	for (i = 0; i < la->n; i++)
		if (la->v[i].family == family && !memcmp(la->v[i].addr, addr, len))
			return true;
	return false;
}

void local_addrs_free(struct local_addrs *la)
{
	free(la->v);
	la->v = NULL;
	la->n = 0;
}

void correlate_key(const struct ipsm_xfrm_sa *x, const struct local_addrs *la,
		   struct ipsm_sa_key *key)
{
	memset(key, 0, sizeof(*key));
	key->dir = local_addrs_has(la, x->family, x->daddr) ? IPSM_DIR_RX : IPSM_DIR_TX;
	key->proto = x->proto;
	key->family = x->family == AF_INET6 ? IPSM_AF_IPV6 : IPSM_AF_IPV4;
	key->spi = x->spi;
	memcpy(key->daddr, x->daddr, x->family == AF_INET6 ? 16 : 4);
}

struct sa_list {
	struct ipsm_xfrm_sa *v;
	size_t n, cap;
};

static int collect_sa(const struct ipsm_xfrm_sa *sa, void *data)
{
	struct sa_list *l = data;
	struct ipsm_xfrm_sa *nv;

	/* IPcomp and anything else has no ESP/AH packets to match. */
	if (sa->proto != IPPROTO_ESP && sa->proto != IPPROTO_AH)
		return 0;
	/*
	 * A larval SA (an SPI reserved with ALLOCSPI, keys still to come)
	 * carries no algorithm and no packet can use it: not active yet.
	 */
	if (!sa->enc_alg[0] && !sa->auth_alg[0] && !sa->aead_alg[0])
		return 0;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		nv = realloc(l->v, l->cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		l->v = nv;
	}
	l->v[l->n++] = *sa;
	return 0;
}

int xfrm_sas_read(struct ipsm_xfrm_sa **xs, size_t *n)
{
	struct sa_list l = {};
	struct xfrm_nl *x;
	int err;

	*xs = NULL;
	*n = 0;
	err = xfrm_nl_open(&x, false);
	if (err)
		return err;
	err = xfrm_nl_dump_sas(x, collect_sa, &l);
	xfrm_nl_close(x);
	if (err) {
		free(l.v);
		return err;
	}
	/* Non-NULL even when empty: "no SAs" is not "could not ask". */
	if (!l.v && !(l.v = calloc(1, sizeof(*l.v))))
		return -ENOMEM;
	*xs = l.v;
	*n = l.n;
	return 0;
}

bool sa_contrib(const struct ipsm_sa *row, const struct ipsm_xfrm_sa *x,
		const struct ipsm_sa_info *info, struct ipsm_contrib *c)
{
	__u64 integ, replay, wire, kern, failed;

	memset(c, 0, sizeof(*c));
	c->dir = row->key.dir;
	c->bytes = row->packets ? row->bytes : 0;
	if (x) {
		c->confidential = xfrm_sa_confidential(x);
		c->authenticated = xfrm_sa_authenticated(x);
		c->tunnel = x->mode == IPSM_XFRM_MODE_TUNNEL;
		integ = x->stats_integrity_failed;
		replay = (__u64)x->stats_replay + x->stats_replay_window;
	} else if (info) {
		/* Gone from the kernel, not folded yet: its last known state. */
		c->confidential = info->flags & IPSM_SA_I_CONFIDENTIAL;
		c->authenticated = info->flags & IPSM_SA_I_AUTHENTICATED;
		c->tunnel = info->flags & IPSM_SA_I_TUNNEL;
		integ = info->k_integrity_failed;
		replay = info->k_replay;
	} else {
		return false;
	}
	/* Linux checks the ICV before it decrypts: a failed check is neither. */
	c->not_authenticated = c->authenticated ? integ : 0;
	c->not_decrypted = c->confidential ? integ : 0;
	c->replayed = replay;

	/*
	 * Reconciliation, inbound only: packets seen on the wire since the
	 * monitor first saw the SA, minus those the SA accepted and those it
	 * counted as failed, were dropped for other reasons (bad padding or
	 * next header after a decryption with the wrong key, ...). The wire was
	 * read before the kernel, so packets still in flight make this smaller,
	 * never larger; the highest value seen is kept.
	 */
	if (info && c->dir == IPSM_DIR_RX) {
		kern = x ? x->packets : info->k_packets;
		failed = integ + replay;
		wire = row->packets > info->base_wire ? row->packets - info->base_wire : 0;
		kern = kern > info->base_kernel ? kern - info->base_kernel : 0;
		failed = failed > info->base_failed ? failed - info->base_failed : 0;
		c->other_drops = wire > kern + failed ? wire - kern - failed : 0;
		if (info->other_drops > c->other_drops)
			c->other_drops = info->other_drops;
		if (c->confidential)
			c->not_decrypted += c->other_drops;
	}
	return true;
}

static void add_kinds(__u64 *bytes, const struct ipsm_contrib *c)
{
	if (c->confidential)
		bytes[IPSM_KIND_CONFIDENTIAL] += c->bytes;
	if (c->authenticated)
		bytes[IPSM_KIND_AUTHENTICATED] += c->bytes;
	bytes[c->tunnel ? IPSM_KIND_TUNNEL : IPSM_KIND_TRANSPORT] += c->bytes;
}

void contrib_add_counters(struct ipsm_counters *ctr, const struct ipsm_contrib *c)
{
	add_kinds(ctr->bytes[c->dir], c);
	ctr->not_decrypted += c->not_decrypted;
	ctr->not_authenticated += c->not_authenticated;
	ctr->replayed += c->replayed;
}

void contrib_add_totals(struct ipsm_totals *t, const struct ipsm_contrib *c)
{
	add_kinds(t->bytes[c->dir], c);
	t->not_decrypted += c->not_decrypted;
	t->not_authenticated += c->not_authenticated;
	t->replayed += c->replayed;
}

static struct ipsm_sa *find_row(struct ipsm_snapshot *s, const struct ipsm_sa_key *key)
{
	size_t i;

	for (i = 0; i < s->n_sas; i++)
		if (!memcmp(&s->sas[i].key, key, sizeof(*key)))
			return &s->sas[i];
	return NULL;
}

static bool same_pair(const struct ipsm_xfrm_sa *a, const struct ipsm_xfrm_sa *b)
{
	size_t len = a->family == AF_INET6 ? 16 : 4;

	if (a->family != b->family)
		return false;
	return (!memcmp(a->saddr, b->saddr, len) && !memcmp(a->daddr, b->daddr, len)) ||
	       (!memcmp(a->saddr, b->daddr, len) && !memcmp(a->daddr, b->saddr, len));
}

/* Tunnels: distinct pairs of gateway addresses with a tunnel-mode SA, either way. */
static __u64 count_tunnels(const struct ipsm_xfrm_sa *xs, size_t n)
{
	__u64 tunnels = 0;
	size_t i, j;

	for (i = 0; i < n; i++) {
		if (xs[i].mode != IPSM_XFRM_MODE_TUNNEL)
			continue;
		for (j = 0; j < i; j++)
			if (xs[j].mode == IPSM_XFRM_MODE_TUNNEL && same_pair(&xs[i], &xs[j]))
				break;
		if (j == i)
			tunnels++;
	}
	return tunnels;
}

int correlate(struct ipsm_snapshot *s, const struct ipsm_xfrm_sa *xs, size_t n,
	      const struct local_addrs *la)
{
	struct ipsm_counters *ctr = &s->ipsecmon;
	struct ipsm_contrib c;
	struct ipsm_sa_key key;
	struct ipsm_sa *row, *nv;
	size_t i;

	memset(ctr, 0, sizeof(*ctr));
	ctr->have_xfrm = xs != NULL;
	ctr->bad_spi_packets = s->dp.bad_spi_packets;
	if (s->have_totals && s->totals.monitor_since) {
		ctr->have_events = true;
		ctr->key_additions = s->totals.key_additions;
		ctr->key_deletions = s->totals.key_deletions;
		ctr->rekeys = s->totals.rekeys;
		ctr->pending = s->totals.pending;
		memcpy(ctr->bytes, s->totals.bytes, sizeof(ctr->bytes));
		ctr->not_decrypted = s->totals.not_decrypted;
		ctr->not_authenticated = s->totals.not_authenticated;
		ctr->replayed = s->totals.replayed;
	}

	for (i = 0; xs && i < n; i++) {
		correlate_key(&xs[i], la, &key);
		row = find_row(s, &key);
		if (!row) {
			/* An SA without traffic still belongs in the list. */
			nv = realloc(s->sas, (s->n_sas + 1) * sizeof(*nv));
			if (!nv)
				return -ENOMEM;
			s->sas = nv;
			row = &s->sas[s->n_sas++];
			memset(row, 0, sizeof(*row));
			row->key = key;
			memcpy(row->saddr, xs[i].saddr, sizeof(row->saddr));
		}
		row->known = true;
		row->x = xs[i];
	}
	for (i = 0; i < s->n_sas; i++) {
		row = &s->sas[i];
		if (!sa_contrib(row, row->known ? &row->x : NULL,
				row->have_info ? &row->info : NULL, &c))
			continue;
		contrib_add_counters(ctr, &c);
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
		ctr->active_tunnels = count_tunnels(xs, n);
	}
	agg_sort_sas(s->sas, s->n_sas);
	return 0;
}

static int count_policy(const struct ipsm_xfrm_policy *pol, void *data)
{
	struct ipsm_snapshot *s = data;

	if (pol->dir < 3)
		s->policies[pol->dir]++;
	if (pol->action == XFRM_POLICY_BLOCK)
		s->policies_block++;
	return 0;
}

int kernel_xfrm_read(struct ipsm_snapshot *s)
{
	struct xfrm_nl *x;
	int err;

	memset(s->policies, 0, sizeof(s->policies));
	s->policies_block = 0;
	s->have_kxfrm = false;
	err = xfrm_nl_open(&x, false);
	if (err)
		return err;
	err = xfrm_nl_sad_count(x, &s->sad_count);
	if (!err)
		err = xfrm_nl_dump_policies(x, count_policy, s);
	xfrm_nl_close(x);
	s->have_kxfrm = !err;
	return err;
}

int snapshot_correlate(struct ipsm_snapshot *s)
{
	struct local_addrs la = {};
	struct ipsm_xfrm_sa *xs = NULL;
	size_t n = 0;
	int err;

	err = local_addrs_read(&la);
	if (err)
		pr_warn("cannot list local addresses: %s", strerror(-err));
	err = xfrm_sas_read(&xs, &n);
	if (err) {
		pr_warn("cannot read the kernel's SAs: %s", strerror(-err));
		xs = NULL;
	}
	err = correlate(s, xs, n, &la);
	free(xs);
	local_addrs_free(&la);
	if (!err && kernel_xfrm_read(s))
		pr_debug("cannot read SADINFO or the policies");
	return err;
}
