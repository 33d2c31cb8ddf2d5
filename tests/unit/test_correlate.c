// SPDX-License-Identifier: GPL-2.0
/* cmocka tests for XFRM correlation: keys, contributions, IPSECMON counters. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <netinet/in.h>

#include "correlate.h"

static struct local_addrs gw2_addrs(void)
{
	static __typeof__(*((struct local_addrs *)0)->v) v[2];
	struct local_addrs la = { .n = 2, .v = v };

	v[0].family = AF_INET;
	inet_pton(AF_INET, "10.0.0.2", v[0].addr);
	v[1].family = AF_INET6;
	inet_pton(AF_INET6, "fd00::2", v[1].addr);
	return la;
}

/* An SA between 10.0.0.1 and 10.0.0.2 (dst_gw2: towards gw2, inbound there). */
static struct ipsm_xfrm_sa make_sa(__u32 spi, bool dst_gw2, const char *enc, const char *auth)
{
	struct ipsm_xfrm_sa x = { .family = AF_INET,
				  .proto = IPPROTO_ESP,
				  .mode = IPSM_XFRM_MODE_TRANSPORT,
				  .reqid = 1 };

	x.spi = htonl(spi);
	inet_pton(AF_INET, dst_gw2 ? "10.0.0.2" : "10.0.0.1", x.daddr);
	inet_pton(AF_INET, dst_gw2 ? "10.0.0.1" : "10.0.0.2", x.saddr);
	snprintf(x.enc_alg, sizeof(x.enc_alg), "%s", enc);
	snprintf(x.auth_alg, sizeof(x.auth_alg), "%s", auth);
	return x;
}

static void test_key_direction(void **state)
{
	struct local_addrs la = gw2_addrs();
	struct ipsm_xfrm_sa in = make_sa(0x1001, true, "cbc(aes)", "hmac(sha256)");
	struct ipsm_xfrm_sa out = make_sa(0x2001, false, "cbc(aes)", "hmac(sha256)");
	struct ipsm_sa_key k;

	(void)state;
	correlate_key(&in, &la, &k);
	assert_int_equal(k.dir, IPSM_DIR_RX);
	assert_int_equal(k.proto, IPPROTO_ESP);
	assert_int_equal(k.family, IPSM_AF_IPV4);
	assert_int_equal(ntohl(k.spi), 0x1001);
	assert_int_equal(k.daddr[3], 2);
	assert_int_equal(k.daddr[4], 0); /* the rest of an IPv4 key stays zero */
	correlate_key(&out, &la, &k);
	assert_int_equal(k.dir, IPSM_DIR_TX);
	assert_true(local_addrs_has(&la, AF_INET6, la.v[1].addr));
	assert_false(local_addrs_has(&la, AF_INET6, la.v[0].addr));
}

static void test_contrib_kinds(void **state)
{
	struct ipsm_xfrm_sa cbc = make_sa(1, true, "cbc(aes)", "hmac(sha256)");
	struct ipsm_xfrm_sa null = make_sa(2, true, "ecb(cipher_null)", "hmac(sha256)");
	struct ipsm_sa row = { .packets = 10, .bytes = 1000 };
	struct ipsm_contrib c;

	(void)state;
	cbc.stats_integrity_failed = 3;
	cbc.stats_replay = 1;
	cbc.stats_replay_window = 2;
	assert_true(sa_contrib(&row, &cbc, NULL, &c));
	assert_true(c.confidential && c.authenticated && !c.tunnel);
	assert_int_equal(c.bytes, 1000);
	assert_int_equal(c.acct.not_decrypted, 3);
	assert_int_equal(c.acct.not_authenticated, 3);
	assert_int_equal(c.acct.replayed, 3);
	assert_int_equal(c.other_drops, 0); /* no monitor record: no reconciliation */

	null.stats_integrity_failed = 4;
	null.mode = IPSM_XFRM_MODE_TUNNEL;
	assert_true(sa_contrib(&row, &null, NULL, &c));
	assert_true(!c.confidential && c.authenticated && c.tunnel);
	assert_int_equal(c.acct.not_decrypted, 0);
	assert_int_equal(c.acct.not_authenticated, 4);

	/* Neither a kernel SA nor a record of one: not an SA of ours. */
	assert_false(sa_contrib(&row, NULL, NULL, &c));
}

static void test_contrib_reconciliation(void **state)
{
	/* ESP with encryption and no integrity: a wrong key shows only here. */
	struct ipsm_xfrm_sa x = make_sa(1, true, "cbc(aes)", "");
	struct ipsm_sa_info info = { .base_wire = 5, .base_kernel = 5, .other_drops = 0 };
	struct ipsm_sa row = { .packets = 25, .bytes = 2500 };
	struct ipsm_contrib c;

	(void)state;
	row.key.dir = IPSM_DIR_RX;
	x.packets = 12; /* 7 accepted since the baseline, 13 lost */
	assert_true(sa_contrib(&row, &x, &info, &c));
	assert_true(c.confidential && !c.authenticated);
	assert_int_equal(c.other_drops, 13);
	assert_int_equal(c.acct.not_decrypted, 13);
	assert_int_equal(c.acct.not_authenticated, 0);

	/* Packets in flight shrink it; the recorded highest value stands. */
	info.other_drops = 20;
	assert_true(sa_contrib(&row, &x, &info, &c));
	assert_int_equal(c.other_drops, 20);

	/* Outbound SAs are not reconciled. */
	row.key.dir = IPSM_DIR_TX;
	info.other_drops = 0;
	assert_true(sa_contrib(&row, &x, &info, &c));
	assert_int_equal(c.other_drops, 0);
}

static void test_contrib_from_record(void **state)
{
	struct ipsm_sa_info info = { .flags = IPSM_SA_I_AUTHENTICATED | IPSM_SA_I_TUNNEL,
				     .k_fail = { .integrity_failed = 6, .replayed = 2 } };
	struct ipsm_sa row = { .packets = 3, .bytes = 300 };
	struct ipsm_totals t = {};
	struct ipsm_contrib c;

	(void)state;
	row.key.dir = IPSM_DIR_TX;
	/* Gone from the kernel, not folded yet: the record speaks for it. */
	assert_true(sa_contrib(&row, NULL, &info, &c));
	assert_true(!c.confidential && c.authenticated && c.tunnel);
	assert_int_equal(c.acct.not_authenticated, 6);
	assert_int_equal(c.acct.replayed, 2);
	acct_add(&t.acct, &c.acct);
	assert_int_equal(t.acct.bytes[IPSM_DIR_TX][IPSM_KIND_AUTHENTICATED], 300);
	assert_int_equal(t.acct.bytes[IPSM_DIR_TX][IPSM_KIND_TUNNEL], 300);
	assert_int_equal(t.acct.bytes[IPSM_DIR_TX][IPSM_KIND_CONFIDENTIAL], 0);
	assert_int_equal(t.acct.bytes[IPSM_DIR_TX][IPSM_KIND_TRANSPORT], 0);
	assert_int_equal(t.acct.not_authenticated, 6);
}

/* Offloaded SAs add the kernel's bytes, not the wire's; gone ones their record's. */
static void test_contrib_offloaded(void **state)
{
	struct ipsm_xfrm_sa x = make_sa(1, true, "", "");
	struct ipsm_sa_info info = { .flags = IPSM_SA_I_CONFIDENTIAL | IPSM_SA_I_OFFLOADED,
				     .k_bytes = 900 };
	struct ipsm_sa row = { .packets = 5, .bytes = 700 };
	struct ipsm_contrib c;

	(void)state;
	row.key.dir = IPSM_DIR_TX;
	strcpy(x.aead_alg, "rfc4106(gcm(aes))");
	x.bytes = 640;
	assert_true(sa_contrib(&row, &x, NULL, &c));
	assert_false(c.offloaded);
	assert_int_equal(c.acct.bytes[IPSM_DIR_TX][IPSM_KIND_OFFLOADED], 0);

	x.offload = IPSM_OFFLOAD_CRYPTO;
	assert_true(sa_contrib(&row, &x, NULL, &c));
	assert_true(c.offloaded);
	assert_int_equal(c.acct.bytes[IPSM_DIR_TX][IPSM_KIND_OFFLOADED], 640);
	assert_int_equal(c.acct.bytes[IPSM_DIR_TX][IPSM_KIND_CONFIDENTIAL], 700);

	assert_true(sa_contrib(&row, NULL, &info, &c));
	assert_int_equal(c.acct.bytes[IPSM_DIR_TX][IPSM_KIND_OFFLOADED], 900);
}

static void test_correlate_counters(void **state)
{
	struct local_addrs la = gw2_addrs();
	struct ipsm_xfrm_sa xs[3];
	struct ipsm_snapshot s = {};
	struct ipsm_sa *row;
	size_t i;

	(void)state;
	xs[0] = make_sa(0x1001, true, "cbc(aes)", "hmac(sha256)");
	xs[1] = make_sa(0x2001, false, "cbc(aes)", "hmac(sha256)");
	xs[2] = make_sa(0x3001, true, "ecb(cipher_null)", "hmac(sha256)");
	xs[0].mode = xs[1].mode = IPSM_XFRM_MODE_TUNNEL;
	xs[0].stats_integrity_failed = 2;
	/* One wire row of xs[0], one of an SPI the kernel does not have. */
	s.sas = calloc(2, sizeof(*s.sas));
	s.n_sas = 2;
	correlate_key(&xs[0], &la, &s.sas[0].key);
	s.sas[0].packets = 10;
	s.sas[0].bytes = 1400;
	s.sas[1].key = s.sas[0].key;
	s.sas[1].key.spi = htonl(0x9999);
	s.sas[1].packets = 4;
	s.sas[1].bytes = 400;
	s.have_totals = true;
	s.totals.monitor_since = 1;
	s.totals.key_additions = 7;
	s.totals.acct.bytes[IPSM_DIR_RX][IPSM_KIND_CONFIDENTIAL] = 100; /* folded earlier */
	s.dp.bad_spi_packets = 3;

	assert_int_equal(correlate(&s, xs, 3, &la), 0);
	assert_int_equal(s.n_sas, 4); /* the two SAs without traffic were added */
	assert_true(s.ipsecmon.have_xfrm && s.ipsecmon.have_events);
	assert_int_equal(s.ipsecmon.active_sas, 3);
	assert_int_equal(s.ipsecmon.active_tunnels, 1); /* one pair, both ways */
	assert_int_equal(s.ipsecmon.key_additions, 7);
	assert_int_equal(s.ipsecmon.bad_spi_packets, 3);
	assert_int_equal(s.ipsecmon.acct.bytes[IPSM_DIR_RX][IPSM_KIND_CONFIDENTIAL], 1500);
	assert_int_equal(s.ipsecmon.acct.bytes[IPSM_DIR_RX][IPSM_KIND_AUTHENTICATED], 1400);
	assert_int_equal(s.ipsecmon.acct.bytes[IPSM_DIR_RX][IPSM_KIND_TUNNEL], 1400);
	assert_int_equal(s.ipsecmon.acct.bytes[IPSM_DIR_RX][IPSM_KIND_TRANSPORT], 0);
	assert_int_equal(s.ipsecmon.acct.not_authenticated, 2);
	assert_int_equal(s.ipsecmon.acct.not_decrypted, 2);
	for (i = 0; i < s.n_sas; i++) {
		row = &s.sas[i];
		if (ntohl(row->key.spi) == 0x9999)
			assert_false(row->known);
		else
			assert_true(row->known);
	}
	snapshot_free(&s);
}

/*
 * A record being folded: its noted contribution counts until the totals
 * carry its journal number, and not after (it is in them then).
 */
static void test_correlate_fold_in_progress(void **state)
{
	struct local_addrs la = gw2_addrs();
	struct ipsm_snapshot s = {};
	struct ipsm_sa row = { .packets = 9, .bytes = 900 };

	(void)state;
	row.key.dir = IPSM_DIR_RX;
	row.have_info = true;
	row.info.flags = IPSM_SA_I_CONFIDENTIAL;
	row.info.folded_in = 5;
	row.info.fold.bytes[IPSM_DIR_RX][IPSM_KIND_CONFIDENTIAL] = 900;
	row.info.fold.not_decrypted = 2;
	s.have_totals = true;
	s.totals.monitor_since = 1;
	s.totals.journal = 4;
	s.totals.acct.bytes[IPSM_DIR_RX][IPSM_KIND_CONFIDENTIAL] = 100;
	s.sas = &row;
	s.n_sas = 1;
	assert_int_equal(correlate(&s, NULL, 0, &la), 0);
	assert_int_equal(s.ipsecmon.acct.bytes[IPSM_DIR_RX][IPSM_KIND_CONFIDENTIAL], 1000);
	assert_int_equal(s.ipsecmon.acct.not_decrypted, 2);

	/* The totals hold it now (journal 5): counted once, from them. */
	s.totals.journal = 5;
	s.totals.acct.bytes[IPSM_DIR_RX][IPSM_KIND_CONFIDENTIAL] = 1000;
	s.totals.acct.not_decrypted = 2;
	assert_int_equal(correlate(&s, NULL, 0, &la), 0);
	assert_int_equal(s.ipsecmon.acct.bytes[IPSM_DIR_RX][IPSM_KIND_CONFIDENTIAL], 1000);
	assert_int_equal(s.ipsecmon.acct.not_decrypted, 2);
}

/*
 * An SA that went while no monitor ran: its record's counters are older
 * than the wire, so no drops are made up from the difference.
 */
static void test_contrib_record_keeps_drops(void **state)
{
	struct ipsm_sa_info info = { .flags = IPSM_SA_I_CONFIDENTIAL,
				     .k_packets = 10,
				     .other_drops = 1 };
	struct ipsm_sa row = { .packets = 15, .bytes = 1500 };
	struct ipsm_contrib c;

	(void)state;
	row.key.dir = IPSM_DIR_RX;
	assert_true(sa_contrib(&row, NULL, &info, &c));
	assert_int_equal(c.other_drops, 1);
	assert_int_equal(c.acct.not_decrypted, 1);
}

static void test_correlate_without_xfrm(void **state)
{
	struct local_addrs la = gw2_addrs();
	struct ipsm_snapshot s = {};

	(void)state;
	assert_int_equal(correlate(&s, NULL, 0, &la), 0);
	assert_false(s.ipsecmon.have_xfrm);
	assert_false(s.ipsecmon.have_events); /* no monitor ever ran */
	assert_int_equal(s.n_sas, 0);
	snapshot_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_direction),
		cmocka_unit_test(test_contrib_kinds),
		cmocka_unit_test(test_contrib_reconciliation),
		cmocka_unit_test(test_contrib_from_record),
		cmocka_unit_test(test_contrib_offloaded),
		cmocka_unit_test(test_correlate_counters),
		cmocka_unit_test(test_correlate_without_xfrm),
		cmocka_unit_test(test_correlate_fold_in_progress),
		cmocka_unit_test(test_contrib_record_keeps_drops),
	};

	return cmocka_run_group_tests_name("correlate", tests, NULL, NULL);
}
