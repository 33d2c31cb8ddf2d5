// SPDX-License-Identifier: GPL-2.0
/* Remote gateways from tunnels, SA rows, bad SPIs and IKE slots; see peers.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "names.h"
#include "peers.h"
#include "topn.h"

static int peer_cmp(const void *a, const void *b)
{
	const struct ipsm_peer *x = a, *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->addr, y->addr, 16);
}

static void seen(struct ipsm_peer *p, __u64 t)
{
	if (t > p->last_seen)
		p->last_seen = t;
}

static struct ipsm_peer *find(struct ipsm_snapshot *s, __u8 family, const __u8 *addr)
{
	struct ipsm_peer k = { .family = family };

	memcpy(k.addr, addr, 16);
	return s->n_peers ? bsearch(&k, s->peers, s->n_peers, sizeof(k), peer_cmp) : NULL;
}

int peers_build(struct ipsm_snapshot *s)
{
	size_t n = s->n_tunnels + s->n_bad_spis + s->n_ike_peers, i, m = 0, kept;
	struct ipsm_peer *v, *p;

	s->peers = NULL;
	s->n_peers = 0;
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	/* Every address any source names; merged below, then each source adds to it. */
	for (i = 0; i < s->n_tunnels; i++, m++) {
		v[m].family = ipsm_af_of(s->tunnels[i].family);
		memcpy(v[m].addr, s->tunnels[i].remote, 16);
	}
	for (i = 0; i < s->n_bad_spis; i++, m++) {
		v[m].family = s->bad_spis[i].family;
		memcpy(v[m].addr, s->bad_spis[i].saddr, 16);
	}
	for (i = 0; i < s->n_ike_peers; i++, m++) {
		v[m].family = s->ike_peers[i].family;
		memcpy(v[m].addr, s->ike_peers[i].addr, 16);
	}
	qsort(v, m, sizeof(*v), peer_cmp);
	for (i = 0, kept = 0; i < m; i++)
		if (!kept || peer_cmp(&v[i], &v[kept - 1]))
			v[kept++] = v[i];
	s->peers = v;
	s->n_peers = kept;

	for (i = 0; i < s->n_tunnels; i++) {
		const struct ipsm_tunnel *t = &s->tunnels[i];

		p = find(s, ipsm_af_of(t->family), t->remote);
		p->sas += t->sas;
		p->tunnels++;
		p->tunnels_down += t->state == IPSM_TUN_DOWN;
		p->rx.packets += t->rx.packets;
		p->rx.bytes += t->rx.bytes;
		p->tx.packets += t->tx.packets;
		p->tx.bytes += t->tx.bytes;
	}
	/* When its SAs last carried a packet (the wire's times). */
	for (i = 0; i < s->n_sas; i++) {
		const struct ipsm_sa *row = &s->sas[i];
		__u8 addr[16] = {};

		if (!row->known)
			continue;
		/* Only the address's own bytes, as the tunnels keep it. */
		memcpy(addr, row->key.dir == IPSM_DIR_RX ? row->x.saddr : row->x.daddr,
		       row->key.family == IPSM_AF_IPV6 ? 16 : 4);
		p = find(s, row->key.family, addr);
		if (p)
			seen(p, row->last_seen);
	}
	for (i = 0; i < s->n_bad_spis; i++) {
		p = find(s, s->bad_spis[i].family, s->bad_spis[i].saddr);
		p->bad_spi_packets += s->bad_spis[i].packets;
		seen(p, s->bad_spis[i].last_seen);
	}
	for (i = 0; i < s->n_ike_peers; i++) {
		const struct ipsm_ike_peer_row *r = &s->ike_peers[i];

		p = find(s, r->family, r->addr);
		p->ike_msgs[IPSM_DIR_RX] += r->msgs[IPSM_DIR_RX];
		p->ike_msgs[IPSM_DIR_TX] += r->msgs[IPSM_DIR_TX];
		seen(p, r->last_seen);
	}
	return 0;
}

__u64 peer_trouble(const struct ipsm_peer *p)
{
	return p->bad_spi_packets + p->tunnels_down;
}

static __u64 traffic(const struct ipsm_peer *p)
{
	return p->rx.bytes + p->tx.bytes + p->ike_msgs[IPSM_DIR_RX] + p->ike_msgs[IPSM_DIR_TX];
}

/* The k best by one score not picked yet (zero scores only if zeros), into pick. */
static int pick_by(const struct ipsm_snapshot *s, bool trouble, size_t k, bool zeros, bool *pick)
{
	struct ipsm_scored *sc = calloc(s->n_peers, sizeof(*sc));
	size_t i, got = 0;

	if (!sc)
		return -ENOMEM;
	for (i = 0; i < s->n_peers; i++) {
		sc[i].i = i;
		sc[i].score = trouble ? peer_trouble(&s->peers[i]) : traffic(&s->peers[i]);
	}
	ipsm_sort_scored(sc, s->n_peers);
	for (i = 0; i < s->n_peers && got < k && (zeros || sc[i].score); i++)
		if (!pick[sc[i].i]) {
			pick[sc[i].i] = true;
			got++;
		}
	free(sc);
	return 0;
}

long peers_pick(const struct ipsm_snapshot *s, size_t max, bool *pick)
{
	size_t i, n = 0;

	memset(pick, 0, s->n_peers * sizeof(*pick));
	if (s->n_peers <= max) {
		for (i = 0; i < s->n_peers; i++)
			pick[i] = true;
		return (long)s->n_peers;
	}
	/* The troubled first, then the busiest fill what is left. */
	if (pick_by(s, true, max - max / 2, false, pick))
		return -ENOMEM;
	for (i = 0; i < s->n_peers; i++)
		n += pick[i];
	if (pick_by(s, false, max - n, true, pick))
		return -ENOMEM;
	return (long)max;
}
