// SPDX-License-Identifier: GPL-2.0
/* cmocka tests for peers: merged from tunnels, bad SPIs and IKE slots; the bounded pick. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <netinet/in.h>

#include "aggregate.h"
#include "peers.h"

static void v4(__u8 *a, const char *s)
{
	memset(a, 0, 16);
	inet_pton(AF_INET, s, a);
}

static const struct ipsm_peer *find(const struct ipsm_snapshot *s, const char *addr)
{
	__u8 a[16];
	size_t i;

	v4(a, addr);
	for (i = 0; i < s->n_peers; i++)
		if (s->peers[i].family == IPSM_AF_IPV4 && !memcmp(s->peers[i].addr, a, 16))
			return &s->peers[i];
	return NULL;
}

/* gw1: a tunnel with traffic; gw3: a down tunnel and bad SPIs; 10.0.0.9: IKE only. */
static void fill(struct ipsm_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->n_tunnels = 2;
	s->tunnels = calloc(2, sizeof(*s->tunnels));
	s->tunnels[0] = (struct ipsm_tunnel){ .family = AF_INET, .sas = 2, .state = IPSM_TUN_UP };
	v4(s->tunnels[0].local, "10.0.0.2");
	v4(s->tunnels[0].remote, "10.0.0.1");
	s->tunnels[0].rx = (struct ipsm_ctr){ 10, 1400 };
	s->tunnels[0].tx = (struct ipsm_ctr){ 9, 1260 };
	s->tunnels[1] = (struct ipsm_tunnel){ .family = AF_INET, .state = IPSM_TUN_DOWN };
	v4(s->tunnels[1].local, "10.0.0.2");
	v4(s->tunnels[1].remote, "10.0.0.3");
	s->n_bad_spis = 2;
	s->bad_spis = calloc(2, sizeof(*s->bad_spis));
	s->bad_spis[0] =
		(struct ipsm_bad_spi_row){ .spi = htonl(0x99), .packets = 4, .last_seen = 7 };
	s->bad_spis[1] =
		(struct ipsm_bad_spi_row){ .spi = htonl(0x98), .packets = 2, .last_seen = 9 };
	v4(s->bad_spis[0].saddr, "10.0.0.3");
	v4(s->bad_spis[1].saddr, "10.0.0.3");
	s->n_ike_peers = 2;
	s->ike_peers = calloc(2, sizeof(*s->ike_peers));
	v4(s->ike_peers[0].addr, "10.0.0.1");
	s->ike_peers[0].msgs[IPSM_DIR_RX] = 3;
	s->ike_peers[0].msgs[IPSM_DIR_TX] = 2;
	s->ike_peers[0].last_seen = 5;
	v4(s->ike_peers[1].addr, "10.0.0.9");
	s->ike_peers[1].msgs[IPSM_DIR_RX] = 1;
	s->ike_peers[1].last_seen = 11;
}

static void test_build(void **state)
{
	const struct ipsm_peer *p;
	struct ipsm_snapshot s;

	(void)state;
	fill(&s);
	assert_int_equal(peers_build(&s), 0);
	assert_int_equal(s.n_peers, 3);
	p = find(&s, "10.0.0.1");
	assert_non_null(p);
	assert_int_equal(p->sas, 2);
	assert_int_equal(p->tunnels, 1);
	assert_int_equal(p->tunnels_down, 0);
	assert_int_equal(p->rx.bytes, 1400);
	assert_int_equal(p->tx.packets, 9);
	assert_int_equal(p->ike_msgs[IPSM_DIR_RX], 3);
	assert_int_equal(p->ike_msgs[IPSM_DIR_TX], 2);
	assert_int_equal(p->last_seen, 5);
	p = find(&s, "10.0.0.3");
	assert_int_equal(p->tunnels_down, 1);
	assert_int_equal(p->bad_spi_packets, 6); /* both of its bad SPIs */
	assert_int_equal(p->last_seen, 9);
	assert_int_equal(peer_trouble(p), 7);
	p = find(&s, "10.0.0.9");
	assert_int_equal(p->tunnels, 0);
	assert_int_equal(p->ike_msgs[IPSM_DIR_RX], 1);
	snapshot_free(&s);
}

static void test_pick(void **state)
{
	struct ipsm_snapshot s;
	bool pick[3];

	(void)state;
	fill(&s);
	assert_int_equal(peers_build(&s), 0);
	/* All fit. */
	assert_int_equal(peers_pick(&s, 3, pick), 3);
	assert_true(pick[0] && pick[1] && pick[2]);
	/* Two: the most troubled (gw3) and the busiest (gw1), not the IKE-only one. */
	assert_int_equal(peers_pick(&s, 2, pick), 2);
	assert_true(find(&s, "10.0.0.1") && pick[find(&s, "10.0.0.1") - s.peers]);
	assert_true(pick[find(&s, "10.0.0.3") - s.peers]);
	assert_false(pick[find(&s, "10.0.0.9") - s.peers]);
	/* One: trouble first. */
	assert_int_equal(peers_pick(&s, 1, pick), 1);
	assert_true(pick[find(&s, "10.0.0.3") - s.peers]);
	snapshot_free(&s);
}

/* Many CPUs hold the same peer: one row, summed, the latest time. */
static void test_merge_ike_slots(void **state)
{
	struct ipsm_ike_peer percpu[2 * 2] = {};
	struct ipsm_ike_peer_row *rows;
	size_t n;

	(void)state;
	/* slot 0 on CPU 0 and 1: the same peer; slot 1 on CPU 1: another, CPU 0 empty. */
	percpu[0] = (struct ipsm_ike_peer){ .used = 1, .msgs = { 2, 1 }, .last_seen = 100 };
	percpu[1] = (struct ipsm_ike_peer){ .used = 1, .msgs = { 3, 0 }, .last_seen = 200 };
	v4(percpu[0].addr, "10.0.0.1");
	v4(percpu[1].addr, "10.0.0.1");
	percpu[3] = (struct ipsm_ike_peer){ .used = 1, .msgs = { 1, 0 }, .last_seen = 150 };
	v4(percpu[3].addr, "10.0.0.9");
	assert_int_equal(agg_merge_ike_peers(percpu, 2, 2, 1000, 5000, &rows, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(rows[0].msgs[IPSM_DIR_RX], 5);
	assert_int_equal(rows[0].msgs[IPSM_DIR_TX], 1);
	assert_int_equal(rows[0].last_seen, 5000 - 1000 + 200);
	assert_int_equal(rows[1].msgs[IPSM_DIR_RX], 1);
	free(rows);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_pick),
		cmocka_unit_test(test_merge_ike_slots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
