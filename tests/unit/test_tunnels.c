// SPDX-License-Identifier: GPL-2.0
/* cmocka tests for tunnels: pairs from SAs and policies, states over intervals, events. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <netinet/in.h>

#include "aggregate.h"
#include "correlate.h"
#include "counters.h"
#include "events.h"
#include "tunnels.h"

/* gw2 (10.0.0.2) with SAs to and from gw1 (10.0.0.1), a policy towards gw3 (10.0.0.3). */
static struct local_addrs gw2_addrs(void)
{
	static __typeof__(*((struct local_addrs *)0)->v) v[1];
	struct local_addrs la = { .n = 1, .v = v };

	v[0].family = AF_INET;
	inet_pton(AF_INET, "10.0.0.2", v[0].addr);
	return la;
}

static struct ipsm_xfrm_sa sa(__u32 spi, const char *src, const char *dst, __u64 added)
{
	struct ipsm_xfrm_sa x = { .family = AF_INET,
				  .proto = IPPROTO_ESP,
				  .mode = IPSM_XFRM_MODE_TUNNEL,
				  .add_time = added };

	x.spi = htonl(spi);
	inet_pton(AF_INET, src, x.saddr);
	inet_pton(AF_INET, dst, x.daddr);
	return x;
}

struct world {
	struct ipsm_xfrm_sa xs[4];
	__u64 wire[4]; /* packets of xs[i] seen on the wire */
	size_t n;
	bool hooks; /* XDP and TC egress attached: counts from the wire */
	bool policy_gw3; /* out and in policies for the pair gw2 - gw3 */
};

/* A snapshot as snapshot_take() makes it from the world (no maps, no netlink). */
static void take(struct ipsm_snapshot *s, const struct world *w)
{
	struct local_addrs la = gw2_addrs();
	size_t i;

	memset(s, 0, sizeof(*s));
	s->n_ifaces = 1;
	s->ifaces = calloc(1, sizeof(*s->ifaces));
	assert_non_null(s->ifaces);
	if (w->hooks)
		s->ifaces[0].hooks_live = 1U << IPSM_HOOK_XDP | 1U << IPSM_HOOK_TC_EGRESS;
	s->sas = calloc(w->n ? w->n : 1, sizeof(*s->sas));
	assert_non_null(s->sas);
	for (i = 0; i < w->n; i++) {
		if (!w->wire[i])
			continue;
		correlate_key(&w->xs[i], &la, &s->sas[s->n_sas].key);
		s->sas[s->n_sas].packets = w->wire[i];
		s->sas[s->n_sas++].bytes = 100 * w->wire[i];
	}
	agg_sort_sas(s->sas, s->n_sas);
	assert_int_equal(correlate(s, w->xs, w->n, &la), 0);
	s->have_kxfrm = true;
	if (w->policy_gw3) {
		/* What xfrm_summary_read() leaves: pairs sorted, local end first. */
		s->kxfrm.n_pairs = 1;
		s->kxfrm.pairs = calloc(1, sizeof(*s->kxfrm.pairs));
		assert_non_null(s->kxfrm.pairs);
		s->kxfrm.pairs[0].family = AF_INET;
		inet_pton(AF_INET, "10.0.0.2", s->kxfrm.pairs[0].local);
		inet_pton(AF_INET, "10.0.0.3", s->kxfrm.pairs[0].remote);
		s->kxfrm.pairs[0].tunnel = true;
	}
	assert_int_equal(tunnels_build(s, w->xs, w->n, &la), 0);
}

static const struct ipsm_tunnel *find(const struct ipsm_snapshot *s, const char *remote)
{
	__u8 l[16] = {}, r[16] = {};

	inet_pton(AF_INET, "10.0.0.2", l);
	inet_pton(AF_INET, remote, r);
	return tunnels_find(s, AF_INET, l, r);
}

/* The usual pair: gw1 -> gw2 inbound (0x1001), gw2 -> gw1 outbound (0x2001). */
static struct world gw1_pair(void)
{
	struct world w = { .n = 2, .hooks = true, .policy_gw3 = true };

	w.xs[0] = sa(0x1001, "10.0.0.1", "10.0.0.2", 100);
	w.xs[1] = sa(0x2001, "10.0.0.2", "10.0.0.1", 100);
	return w;
}

static void test_pairs_from_sas_and_policies(void **state)
{
	struct world w = gw1_pair();
	const struct ipsm_tunnel *t;
	struct ipsm_snapshot s;

	(void)state;
	w.wire[0] = 7;
	w.wire[1] = 5;
	w.xs[0].packets = 6; /* the kernel accepted one less than the wire brought */
	w.xs[1].packets = 9;
	take(&s, &w);
	assert_int_equal(s.n_tunnels, 2);
	t = find(&s, "10.0.0.1");
	assert_non_null(t);
	assert_int_equal(t->sas, 2);
	assert_false(t->configured);
	assert_true(t->tunnel_mode);
	assert_int_equal(t->rx.packets, 7);
	assert_int_equal(t->rx.bytes, 700);
	assert_int_equal(t->tx.packets, 5);
	assert_int_equal(t->state, IPSM_TUN_UP);
	t = find(&s, "10.0.0.3");
	assert_non_null(t);
	assert_int_equal(t->sas, 0);
	assert_true(t->configured);
	assert_int_equal(t->state, IPSM_TUN_DOWN);
	assert_int_equal(s.ipsecmon.tunnels_down, 1);
	assert_true(ipsm_counter_known(&s, ipsm_counter_by_json("tunnels_down")));
	assert_false(ipsm_counter_known(&s, ipsm_counter_by_json("tunnels_one_way")));
	assert_false(s.tunnels_tracked);
	/* Policies unread, or more pairs than kept: down tunnels unknown, not 0. */
	s.kxfrm.pairs_dropped = 1;
	assert_false(ipsm_counter_known(&s, ipsm_counter_by_json("tunnels_down")));
	s.kxfrm.pairs_dropped = 0;
	s.have_kxfrm = false;
	assert_false(ipsm_counter_known(&s, ipsm_counter_by_json("tunnels_down")));
	snapshot_free(&s);

	/* Without hooks the kernel's SA counters stand in. */
	w.hooks = false;
	take(&s, &w);
	t = find(&s, "10.0.0.1");
	assert_false(s.tunnel_wire[IPSM_DIR_RX] || s.tunnel_wire[IPSM_DIR_TX]);
	assert_int_equal(t->rx.packets, 6);
	assert_int_equal(t->tx.packets, 9);
	snapshot_free(&s);

	/* No kernel SAs could be read: no tunnels, none down. */
	w.n = 0;
	take(&s, &w);
	free(s.tunnels);
	assert_int_equal(tunnels_build(&s, NULL, 0, NULL), 0);
	assert_int_equal(s.n_tunnels, 0);
	assert_int_equal(s.ipsecmon.tunnels_down, 0);
	snapshot_free(&s);
}

/* Readings of the gw1 pair with the given wire counts: the states after each. */
static void track(struct world *w, const __u64 (*wire)[2], size_t n, __u32 after,
		  const enum ipsm_tunnel_state *want, const __u32 *want_intervals)
{
	struct ipsm_snapshot prev, cur;
	size_t i;

	for (i = 0; i < n; i++) {
		w->wire[0] = wire[i][0];
		w->wire[1] = wire[i][1];
		take(&cur, w);
		tunnels_track(&cur, i ? &prev : NULL, after);
		assert_int_equal(find(&cur, "10.0.0.1")->state, want[i]);
		assert_int_equal(find(&cur, "10.0.0.1")->one_way_intervals, want_intervals[i]);
		assert_int_equal(cur.ipsecmon.tunnels_one_way, want[i] == IPSM_TUN_ONE_WAY);
		assert_int_equal(cur.tunnels_tracked, i > 0);
		if (i)
			snapshot_free(&prev);
		prev = cur;
	}
	snapshot_free(&prev);
}

static void test_one_way_after_intervals(void **state)
{
	/*
	 * rx grows, tx stands for three intervals (one way), a quiet one (still
	 * one way), both grow (up), neither (idle), tx alone once (up).
	 */
	static const __u64 wire[][2] = { { 1, 1 }, { 2, 1 }, { 3, 1 }, { 4, 1 },
					 { 4, 1 }, { 5, 2 }, { 5, 2 }, { 5, 3 } };
	static const enum ipsm_tunnel_state want[] = { IPSM_TUN_UP,	 IPSM_TUN_UP,
						       IPSM_TUN_UP,	 IPSM_TUN_ONE_WAY,
						       IPSM_TUN_ONE_WAY, IPSM_TUN_UP,
						       IPSM_TUN_IDLE,	 IPSM_TUN_UP };
	static const __u32 intervals[] = { 0, 1, 2, 3, 3, 0, 0, 1 };
	static const enum ipsm_tunnel_state never[] = { IPSM_TUN_UP,   IPSM_TUN_UP,   IPSM_TUN_UP,
							IPSM_TUN_UP,   IPSM_TUN_IDLE, IPSM_TUN_UP,
							IPSM_TUN_IDLE, IPSM_TUN_UP };
	static const __u32 never_intervals[] = { 0, 1, 2, 3, 0, 0, 0, 1 };
	struct world w = gw1_pair();

	(void)state;
	track(&w, wire, 8, 3, want, intervals);
	/* --one-way-after 0: never one way, the intervals still counted. */
	track(&w, wire, 8, 0, never, never_intervals);
}

/* A rekey: the old SA's packets leave the sum, the new SA's are growth. */
static void test_rekey_is_not_quiet(void **state)
{
	struct world w = gw1_pair();
	struct ipsm_snapshot prev, cur;

	(void)state;
	w.wire[0] = 50;
	w.wire[1] = 50;
	take(&prev, &w);
	w.xs[0] = sa(0x1002, "10.0.0.1", "10.0.0.2", 130);
	w.xs[1] = sa(0x2002, "10.0.0.2", "10.0.0.1", 130);
	w.wire[0] = 3;
	w.wire[1] = 3;
	take(&cur, &w);
	tunnels_track(&cur, &prev, 3);
	assert_int_equal(find(&cur, "10.0.0.1")->state, IPSM_TUN_UP);
	assert_int_equal(find(&cur, "10.0.0.1")->rx.packets, 3);
	snapshot_free(&cur);
	/* A new SA under the same key (same SPI, later add time) counts from 0. */
	w = gw1_pair();
	w.xs[0].add_time = w.xs[1].add_time = 160;
	w.wire[0] = 60;
	w.wire[1] = 60;
	take(&cur, &w);
	tunnels_track(&cur, &prev, 1);
	assert_int_equal(find(&cur, "10.0.0.1")->state, IPSM_TUN_UP);
	snapshot_free(&cur);
	snapshot_free(&prev);
}

struct captured {
	char names[8][32];
	char states[8][16];
	int n;
};

static void capture(void *ctx, json_t *ev)
{
	struct captured *c = ctx;
	const char *name = json_string_value(json_object_get(ev, "event"));

	if (name && !strncmp(name, "tunnel_", 7) && c->n < 8) {
		snprintf(c->names[c->n], sizeof(c->names[0]), "%s %s", name,
			 json_string_value(json_object_get(ev, "remote")));
		snprintf(c->states[c->n++], sizeof(c->states[0]), "%s",
			 json_is_null(json_object_get(ev, "previous")) ?
				 "-" :
				 json_string_value(json_object_get(ev, "previous")));
	}
	json_decref(ev);
}

static void test_events(void **state)
{
	struct ipsm_events e = { .gap_threshold = 10 };
	struct world w = gw1_pair();
	struct ipsm_snapshot a, b, c, d;
	struct captured got = {};

	(void)state;
	w.wire[0] = w.wire[1] = 1;
	take(&a, &w);
	events_compare(&e, NULL, &a, capture, &got);
	assert_int_equal(got.n, 0); /* no events from a first reading */
	/* gw1's SAs go, the policies stay: down; gw3 was down already. */
	w.policy_gw3 = true;
	w.n = 0;
	take(&b, &w);
	tunnels_track(&b, &a, 1);
	events_compare(&e, &a, &b, capture, &got);
	assert_int_equal(got.n, 0); /* no policy names gw1: the pair is gone, not down */
	/* Back, with traffic one way only: one way at once with --one-way-after 1. */
	w = gw1_pair();
	w.wire[0] = 2;
	take(&c, &w);
	tunnels_track(&c, &b, 1);
	events_compare(&e, &b, &c, capture, &got);
	assert_int_equal(got.n, 1);
	assert_string_equal(got.names[0], "tunnel_one_way 10.0.0.1");
	assert_string_equal(got.states[0], "-");
	w.wire[0] = 3;
	w.wire[1] = 2;
	w.xs[2] = sa(0x3001, "10.0.0.2", "10.0.0.3", 100);
	w.n = 3;
	take(&d, &w);
	tunnels_track(&d, &c, 1);
	events_compare(&e, &c, &d, capture, &got);
	assert_int_equal(got.n, 3);
	assert_string_equal(got.names[1], "tunnel_up 10.0.0.1");
	assert_string_equal(got.states[1], "one_way");
	assert_string_equal(got.names[2], "tunnel_up 10.0.0.3");
	assert_string_equal(got.states[2], "down");
	snapshot_free(&a);
	snapshot_free(&b);
	snapshot_free(&c);
	snapshot_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pairs_from_sas_and_policies),
		cmocka_unit_test(test_one_way_after_intervals),
		cmocka_unit_test(test_rekey_is_not_quiet),
		cmocka_unit_test(test_events),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
