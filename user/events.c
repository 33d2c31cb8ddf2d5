// SPDX-License-Identifier: GPL-2.0
/* Snapshot-to-snapshot events for the JSON-lines streams. */
#include <string.h>
#include <time.h>

#include "events.h"
#include "seq_out.h"
#include "tunnels.h"

json_t *event_new(const char *name)
{
	char now[32];

	ipsm_time_str((__u64)time(NULL) * 1000000000ULL, now, sizeof(now));
	return json_pack("{s:s,s:s,s:s}", "schema", IPSM_SCHEMA, "event", name, "time", now);
}

json_t *event_sa(const char *name, const struct ipsm_sa_key *key, const __u8 *saddr,
		 const struct ipsm_xfrm_sa *x)
{
	char spi[16], src[64], dst[64];
	json_t *e = event_new(name);

	/* The SA's own source where the kernel told us, else the last packet's. */
	ipsm_spi_str(key->spi, spi, sizeof(spi));
	ipsm_addr_str(key->family, x ? x->saddr : saddr, src, sizeof(src));
	ipsm_addr_str(key->family, key->daddr, dst, sizeof(dst));
	json_object_set_new(e, "spi", json_string(spi));
	json_object_set_new(e, "proto", json_string(ipsm_proto_name(key->proto)));
	json_object_set_new(e, "dir", json_string(ipsm_dir_name(key->dir)));
	json_object_set_new(e, "src", json_string(src));
	json_object_set_new(e, "dst", json_string(dst));
	json_object_set_new(e, "mode", x ? json_string(ipsm_mode_name(x->mode)) : json_null());
	json_object_set_new(e, "reqid", x ? json_integer(x->reqid) : json_null());
	return e;
}

static json_t *row_event(const char *name, const struct ipsm_sa *sa)
{
	return event_sa(name, &sa->key, sa->saddr, sa->known ? &sa->x : NULL);
}

static void bad_peers(struct ipsm_events *e, const struct ipsm_snapshot *cur, event_emit_fn emit,
		      void *ctx)
{
	char spi[16], src[64], dst[64];
	size_t i, j;
	json_t *ev;

	for (i = 0; i < cur->n_bad_spis; i++) {
		const struct ipsm_bad_spi_row *b = &cur->bad_spis[i];

		for (j = 0; j < e->n_bad_peers; j++)
			if (e->bad_peers[j].family == b->family &&
			    !memcmp(e->bad_peers[j].addr, b->saddr, 16))
				break;
		if (j < e->n_bad_peers || e->n_bad_peers == IPSM_MAX_BAD_PEERS)
			continue;
		e->bad_peers[e->n_bad_peers].family = b->family;
		memcpy(e->bad_peers[e->n_bad_peers++].addr, b->saddr, 16);
		ipsm_spi_str(b->spi, spi, sizeof(spi));
		ipsm_addr_str(b->family, b->saddr, src, sizeof(src));
		ipsm_addr_str(b->family, b->daddr, dst, sizeof(dst));
		ev = event_new("bad_spi");
		json_object_set_new(ev, "spi", json_string(spi));
		json_object_set_new(ev, "proto", json_string(ipsm_proto_name(b->proto)));
		json_object_set_new(ev, "src", json_string(src));
		json_object_set_new(ev, "dst", json_string(dst));
		json_object_set_new(ev, "packets", json_integer(b->packets));
		emit(ctx, ev);
	}
}

/*
 * An outbound SA that will run out of sequence numbers within seq_warn_s at
 * its rate: once per SA (its key and add time), within a bounded memory.
 */
static void seq_near(struct ipsm_events *e, const struct ipsm_sa *sa, event_emit_fn emit, void *ctx)
{
	__u64 seq = 0;
	size_t j;
	json_t *ev;

	if (!e->seq_warn_s || !sa->have_seq_exhaustion || sa->seq_exhaustion_s >= e->seq_warn_s)
		return;
	for (j = 0; j < e->n_seq_warned; j++)
		if (!memcmp(&e->seq_warned[j].key, &sa->key, sizeof(sa->key)) &&
		    e->seq_warned[j].add_time == sa->x.add_time)
			return;
	if (e->n_seq_warned == IPSM_MAX_SEQ_WARNED)
		return;
	e->seq_warned[e->n_seq_warned].key = sa->key;
	e->seq_warned[e->n_seq_warned++].add_time = sa->x.add_time;
	sa_seq_out(sa, &seq);
	ev = row_event("seq_exhaustion_near", sa);
	json_object_set_new(ev, "seq_out", json_integer(seq));
	json_object_set_new(ev, "seq_exhaustion_seconds",
			    json_integer((json_int_t)sa->seq_exhaustion_s));
	emit(ctx, ev);
}

/*
 * A tunnel that changed state: down (also one that appears down: a policy
 * without an SA), one way, and up again from either. idle <-> up is not an
 * event (traffic comes and goes).
 */
static void tunnel_changes(const struct ipsm_snapshot *prev, const struct ipsm_snapshot *cur,
			   event_emit_fn emit, void *ctx)
{
	char local[IPSM_ADDR_STRLEN], remote[IPSM_ADDR_STRLEN];
	size_t i;

	for (i = 0; i < cur->n_tunnels; i++) {
		const struct ipsm_tunnel *t = &cur->tunnels[i];
		const struct ipsm_tunnel *p = tunnels_find(prev, t->family, t->local, t->remote);
		bool was_bad = p && (p->state == IPSM_TUN_DOWN || p->state == IPSM_TUN_ONE_WAY);
		const char *name;
		json_t *ev;

		if (p && p->state == t->state)
			continue;
		if (t->state == IPSM_TUN_DOWN)
			name = "tunnel_down";
		else if (t->state == IPSM_TUN_ONE_WAY)
			name = "tunnel_one_way";
		else if (was_bad)
			name = "tunnel_up";
		else
			continue;
		tunnel_addr_strs(t, local, remote);
		ev = event_new(name);
		json_object_set_new(ev, "local", json_string(local));
		json_object_set_new(ev, "remote", json_string(remote));
		json_object_set_new(ev, "state", json_string(ipsm_tunnel_state_name(t->state)));
		json_object_set_new(ev, "previous",
				    p ? json_string(ipsm_tunnel_state_name(p->state)) :
					json_null());
		json_object_set_new(ev, "sas", json_integer(t->sas));
		json_object_set_new(ev, "rx_packets", json_integer((json_int_t)t->rx.packets));
		json_object_set_new(ev, "tx_packets", json_integer((json_int_t)t->tx.packets));
		emit(ctx, ev);
	}
}

void events_compare(struct ipsm_events *e, const struct ipsm_snapshot *prev,
		    const struct ipsm_snapshot *cur, event_emit_fn emit, void *ctx)
{
	const struct ipsm_sa *p;
	size_t i;
	json_t *ev;

	bad_peers(e, cur, emit, ctx);
	if (!prev)
		return;
	tunnel_changes(prev, cur, emit, ctx);
	for (i = 0; i < cur->n_sas; i++) {
		const struct ipsm_sa *sa = &cur->sas[i];
		__u64 lost;

		p = snapshot_find_sa(prev, &sa->key);
		if (e->sa_changes && sa->known && (!p || !p->known))
			emit(ctx, row_event("sa_added", sa));
		/* A row new since the last interval lost all its gaps in this one. */
		lost = !p				? sa_seq_lost(sa) :
		       sa_seq_lost(sa) > sa_seq_lost(p) ? sa_seq_lost(sa) - sa_seq_lost(p) :
							  0;
		seq_near(e, sa, emit, ctx);
		if (sa->seq_exact && lost > e->gap_threshold) {
			ev = row_event("seq_gap", sa);
			json_object_set_new(ev, "gaps", json_integer(lost));
			json_object_set_new(ev, "seq_gaps", json_integer(sa_seq_lost(sa)));
			json_object_set_new(ev, "seq_max", json_integer(sa->seq_max));
			emit(ctx, ev);
		}
	}
	for (i = 0; e->sa_changes && i < prev->n_sas; i++) {
		const struct ipsm_sa *sa = &prev->sas[i];
		const struct ipsm_sa *c = snapshot_find_sa(cur, &sa->key);

		if (sa->known && (!c || !c->known))
			emit(ctx, row_event("sa_deleted", sa));
	}
}
