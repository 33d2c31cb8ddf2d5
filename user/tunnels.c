// SPDX-License-Identifier: GPL-2.0
/* Gateway pairs from the SAs and the policies, and their states; see tunnels.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "names.h"
#include "tunnels.h"

const char *ipsm_tunnel_state_name(enum ipsm_tunnel_state st)
{
	switch (st) {
	case IPSM_TUN_DOWN:
		return "down";
	case IPSM_TUN_ONE_WAY:
		return "one_way";
	case IPSM_TUN_IDLE:
		return "idle";
	case IPSM_TUN_UP:
		return "up";
	}
	return "?";
}

static int tunnel_cmp(const void *a, const void *b)
{
	const struct ipsm_tunnel *x = a, *y = b;
	int c;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	c = memcmp(x->local, y->local, 16);
	return c ? c : memcmp(x->remote, y->remote, 16);
}

static int tunnel_trouble_cmp(const void *a, const void *b)
{
	const struct ipsm_tunnel *x = a, *y = b;
	__u64 px = x->rx.packets + x->tx.packets, py = y->rx.packets + y->tx.packets;

	if (x->state != y->state)
		return x->state < y->state ? -1 : 1;
	if (px != py)
		return px > py ? -1 : 1;
	return tunnel_cmp(a, b);
}

struct ipsm_tunnel *tunnels_by_trouble(const struct ipsm_snapshot *s)
{
	struct ipsm_tunnel *v;

	if (!s->n_tunnels || !(v = malloc(s->n_tunnels * sizeof(*v))))
		return NULL;
	memcpy(v, s->tunnels, s->n_tunnels * sizeof(*v));
	qsort(v, s->n_tunnels, sizeof(*v), tunnel_trouble_cmp);
	return v;
}

void tunnel_addr_strs(const struct ipsm_tunnel *t, char *local, char *remote)
{
	ipsm_addr_str(ipsm_af_of(t->family), t->local, local, IPSM_ADDR_STRLEN);
	ipsm_addr_str(ipsm_af_of(t->family), t->remote, remote, IPSM_ADDR_STRLEN);
}

const struct ipsm_tunnel *tunnels_find(const struct ipsm_snapshot *s, __u16 family,
				       const __u8 *local, const __u8 *remote)
{
	struct ipsm_tunnel k = { .family = family };

	if (!s || !s->n_tunnels)
		return NULL;
	memcpy(k.local, local, 16);
	memcpy(k.remote, remote, 16);
	return bsearch(&k, s->tunnels, s->n_tunnels, sizeof(k), tunnel_cmp);
}

/* The pair of a kernel SA: the local end is the destination of an inbound one. */
static void sa_ends(const struct ipsm_xfrm_sa *x, bool inbound, struct ipsm_tunnel *t)
{
	/* Only an address's own bytes: the rest of an IPv4 xfrm_address_t is not ours to compare. */
	size_t alen = x->family == AF_INET6 ? 16 : 4;

	memset(t, 0, sizeof(*t));
	t->family = x->family;
	memcpy(t->local, inbound ? x->daddr : x->saddr, alen);
	memcpy(t->remote, inbound ? x->saddr : x->daddr, alen);
	t->tunnel_mode = x->mode == IPSM_XFRM_MODE_TUNNEL;
}

/* Does an attached hook see this direction (rows then count the wire)? */
static bool dir_on_wire(const struct ipsm_snapshot *s, int dir)
{
	__u32 want = dir == IPSM_DIR_RX ? (1U << IPSM_HOOK_XDP | 1U << IPSM_HOOK_TC_INGRESS) :
					  1U << IPSM_HOOK_TC_EGRESS;
	size_t i;

	for (i = 0; i < s->n_ifaces; i++)
		if (s->ifaces[i].hooks_live & want)
			return true;
	return false;
}

/* A known row's count in the tunnel's terms: wire or kernel, by direction. */
static void row_count(const struct ipsm_snapshot *s, const struct ipsm_sa *row, struct ipsm_ctr *c)
{
	bool wire = s->tunnel_wire[row->key.dir];

	c->packets = wire ? row->packets : row->x.packets;
	c->bytes = wire ? row->bytes : row->x.bytes;
}

static struct ipsm_tunnel *row_tunnel(struct ipsm_snapshot *s, const struct ipsm_sa *row)
{
	struct ipsm_tunnel k;

	sa_ends(&row->x, row->key.dir == IPSM_DIR_RX, &k);
	return (struct ipsm_tunnel *)tunnels_find(s, k.family, k.local, k.remote);
}

int tunnels_build(struct ipsm_snapshot *s, const struct ipsm_xfrm_sa *xs, size_t n,
		  const struct local_addrs *la)
{
	size_t np = s->have_kxfrm ? s->kxfrm.n_pairs : 0, i, m = 0, kept;
	struct ipsm_tunnel *v, *t;

	s->tunnels = NULL;
	s->n_tunnels = 0;
	s->ipsecmon.tunnels_down = 0;
	s->tunnel_wire[IPSM_DIR_RX] = dir_on_wire(s, IPSM_DIR_RX);
	s->tunnel_wire[IPSM_DIR_TX] = dir_on_wire(s, IPSM_DIR_TX);
	if (!xs)
		return 0;
	v = calloc(n + np ? n + np : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	/* Every SA and every configured pair is a candidate; merged below. */
	for (i = 0; i < n; i++) {
		sa_ends(&xs[i], local_addrs_has(la, xs[i].family, xs[i].daddr), &v[m]);
		v[m++].sas = 1;
	}
	for (i = 0; i < np; i++, m++) {
		const struct ipsm_xfrm_pair *p = &s->kxfrm.pairs[i];

		v[m].family = p->family;
		memcpy(v[m].local, p->local, 16);
		memcpy(v[m].remote, p->remote, 16);
		v[m].tunnel_mode = p->tunnel;
		v[m].configured = true;
	}
	qsort(v, m, sizeof(*v), tunnel_cmp);
	for (i = 0, kept = 0; i < m; i++) {
		if (kept && !tunnel_cmp(&v[i], &v[kept - 1])) {
			t = &v[kept - 1];
			t->sas += v[i].sas;
			t->configured |= v[i].configured;
			t->tunnel_mode |= v[i].tunnel_mode;
			continue;
		}
		v[kept++] = v[i];
	}
	for (i = 0; i < kept; i++) {
		v[i].state = v[i].sas ? IPSM_TUN_UP : IPSM_TUN_DOWN;
		if (!v[i].sas)
			s->ipsecmon.tunnels_down++;
	}
	s->tunnels = v;
	s->n_tunnels = kept;
	/* What the SAs carried (SAs that share a key, marks, share its row). */
	for (i = 0; i < s->n_sas; i++) {
		const struct ipsm_sa *row = &s->sas[i];
		struct ipsm_ctr c;

		if (!row->known || !(t = row_tunnel(s, row)))
			continue;
		row_count(s, row, &c);
		if (row->key.dir == IPSM_DIR_RX) {
			t->rx.packets += c.packets;
			t->rx.bytes += c.bytes;
		} else {
			t->tx.packets += c.packets;
			t->tx.bytes += c.bytes;
		}
	}
	return 0;
}

void tunnels_track(struct ipsm_snapshot *cur, const struct ipsm_snapshot *prev, __u32 one_way_after)
{
	__u64 *grew;
	size_t i;

	if (!prev)
		return;
	cur->ipsecmon.tunnels_one_way = 0;
	if (!cur->n_tunnels) {
		cur->tunnels_tracked = true;
		return;
	}
	/* Packets since prev, per tunnel and direction, SA by SA. */
	grew = calloc(2 * cur->n_tunnels, sizeof(*grew));
	if (!grew)
		return;
	cur->tunnels_tracked = true;
	for (i = 0; i < cur->n_sas; i++) {
		const struct ipsm_sa *row = &cur->sas[i], *p;
		struct ipsm_tunnel *t;
		struct ipsm_ctr c, pc = {};

		if (!row->known || !(t = row_tunnel(cur, row)))
			continue;
		row_count(cur, row, &c);
		p = snapshot_find_sa(prev, &row->key);
		/* The same SA then (a new one under the key counts from 0). */
		if (p && p->known && p->x.add_time == row->x.add_time &&
		    prev->tunnel_wire[row->key.dir] == cur->tunnel_wire[row->key.dir])
			row_count(prev, p, &pc);
		if (c.packets > pc.packets)
			grew[2 * (t - cur->tunnels) + row->key.dir] += c.packets - pc.packets;
	}
	for (i = 0; i < cur->n_tunnels; i++) {
		struct ipsm_tunnel *t = &cur->tunnels[i];
		const struct ipsm_tunnel *pt = tunnels_find(prev, t->family, t->local, t->remote);
		bool rx = grew[2 * i + IPSM_DIR_RX], tx = grew[2 * i + IPSM_DIR_TX];

		if (t->state == IPSM_TUN_DOWN) {
			t->one_way_intervals = 0;
			continue;
		}
		/* Quiet after one way is still one way: only traffic both ways clears it. */
		if (!rx && !tx && pt && pt->state == IPSM_TUN_ONE_WAY) {
			t->state = IPSM_TUN_ONE_WAY;
			t->one_way_intervals = pt->one_way_intervals;
			cur->ipsecmon.tunnels_one_way++;
			continue;
		}
		t->one_way_intervals = rx != tx ? (pt ? pt->one_way_intervals : 0) + 1 : 0;
		if (one_way_after && t->one_way_intervals >= one_way_after) {
			t->state = IPSM_TUN_ONE_WAY;
			cur->ipsecmon.tunnels_one_way++;
		} else if (!rx && !tx) {
			t->state = IPSM_TUN_IDLE;
		}
	}
	free(grew);
}
