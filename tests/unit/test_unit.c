// SPDX-License-Identifier: GPL-2.0
/* cmocka unit tests: per-CPU aggregation, xfrm_stat parsing, JSON rendering. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "aggregate.h"
#include "counters.h"
#include "fixture.h"
#include "out_json.h"
#include "sa_table.h"
#include "snapshot.h"
#include "xfrm_stat.h"

static void test_add_ctr(void **state)
{
	const struct ipsm_ctr percpu[3] = { { 1, 100 }, { 0, 0 }, { 41, 4100 } };
	struct ipsm_ctr sum = { 10, 1000 };

	(void)state;
	agg_add_ctr(&sum, percpu, 3);
	assert_int_equal(sum.packets, 52);
	assert_int_equal(sum.bytes, 5200);
}

static void test_sum_u64(void **state)
{
	const __u64 v[4] = { 1, 2, 3, 0xffffffffULL };

	(void)state;
	assert_int_equal(agg_sum_u64(v, 4), 0xffffffffULL + 6);
	assert_int_equal(agg_sum_u64(v, 0), 0);
}

static void test_sum_dp(void **state)
{
	struct ipsm_dp percpu[2] = {}, sum;

	(void)state;
	percpu[0].sa_inserts = 3;
	percpu[0].window_inserts = 99; /* per-CPU bookkeeping, not summed */
	percpu[1].sa_inserts = 4;
	percpu[1].untracked_packets = 5;
	percpu[1].untracked_bytes = 500;
	percpu[1].table_full = 1;
	agg_sum_dp(&sum, percpu, 2);
	assert_int_equal(sum.sa_inserts, 7);
	assert_int_equal(sum.untracked_packets, 5);
	assert_int_equal(sum.untracked_bytes, 500);
	assert_int_equal(sum.table_full, 1);
	assert_int_equal(sum.window_inserts, 0);
}

static void test_sum_sa(void **state)
{
	struct ipsm_sa_key key = { .dir = IPSM_DIR_RX, .proto = 50, .family = IPSM_AF_IPV4 };
	struct ipsm_sa_val v[3] = {};
	struct ipsm_sa out;
	const __u64 mono_now = 1000 * NS, real_now = 1700000000 * NS;

	(void)state;
	key.spi = htonl(0xabcd);
	/* CPU 0: early, older sequence; CPU 1: idle; CPU 2: latest. */
	v[0] = (struct ipsm_sa_val){ .packets = 10,
				     .bytes = 1000,
				     .first_seen = 900 * NS,
				     .last_seen = 950 * NS,
				     .seq_max = 0xfffffff0,
				     .flags = IPSM_SA_F_SEQ_VALID | IPSM_SA_F_PLAIN,
				     .seq_gaps = 1,
				     .seq_replays = 2,
				     .seq_late = 3 };
	v[0].saddr[0] = 1;
	v[2] = (struct ipsm_sa_val){ .packets = 5,
				     .bytes = 500,
				     .first_seen = 920 * NS,
				     .last_seen = 990 * NS,
				     .seq_max = 0x10,
				     .flags = IPSM_SA_F_SEQ_VALID | IPSM_SA_F_UDP_ENCAP,
				     .seq_gaps = 10,
				     .seq_replays = 20,
				     .seq_late = 30 };
	v[2].saddr[0] = 2;
	agg_sum_sa(&out, &key, v, 3, mono_now, real_now);
	assert_int_equal(out.packets, 15);
	assert_int_equal(out.bytes, 1500);
	assert_int_equal(out.seq_gaps, 11);
	assert_int_equal(out.seq_replays, 22);
	assert_int_equal(out.seq_late, 33);
	/* 0x10 follows 0xfffffff0 in serial-number order (ESN low bits wrapped). */
	assert_int_equal(out.seq_max, 0x10);
	assert_int_equal(out.flags, IPSM_SA_F_SEQ_VALID | IPSM_SA_F_PLAIN | IPSM_SA_F_UDP_ENCAP);
	assert_int_equal(out.first_seen, real_now - 100 * NS);
	assert_int_equal(out.last_seen, real_now - 10 * NS);
	assert_int_equal(out.saddr[0], 2); /* from the CPU that saw the SA last */
	assert_memory_equal(&out.key, &key, sizeof(key));
	/* Sequence state on more than one CPU: each analysed its own share. */
	assert_false(out.seq_exact);
}

/*
 * One CPU's sequence analysis is exact and reported; spread over CPUs it is
 * not, and the JSON says so instead of giving numbers.
 */
static void test_seq_exact(void **state)
{
	struct ipsm_sa_key key = { .dir = IPSM_DIR_TX, .proto = 50, .spi = htonl(7) };
	struct ipsm_sa_val v[2] = {};
	struct ipsm_sa out;
	json_t *doc, *o;

	(void)state;
	v[1] = (struct ipsm_sa_val){ .packets = 9,
				     .seq_max = 9,
				     .seq_gaps = 3,
				     .seq_filled = 1,
				     .flags = IPSM_SA_F_SEQ_VALID };
	agg_sum_sa(&out, &key, v, 2, NS, NS);
	assert_true(out.seq_exact);
	assert_int_equal(sa_seq_lost(&out), 2);
	doc = json_snapshot(&(struct ipsm_snapshot){ .sas = &out, .n_sas = 1 });
	o = json_array_get(json_object_get(doc, "sas"), 0);
	assert_true(json_is_true(json_object_get(o, "seq_exact")));
	assert_int_equal(json_integer_value(json_object_get(o, "seq_gaps")), 2);
	assert_int_equal(json_integer_value(json_object_get(o, "seq_reordered")), 1);
	json_decref(doc);

	v[0] = v[1];
	agg_sum_sa(&out, &key, v, 2, NS, NS);
	assert_false(out.seq_exact);
	doc = json_snapshot(&(struct ipsm_snapshot){ .sas = &out, .n_sas = 1 });
	o = json_array_get(json_object_get(doc, "sas"), 0);
	assert_true(json_is_false(json_object_get(o, "seq_exact")));
	assert_true(json_is_null(json_object_get(o, "seq_gaps")));
	assert_true(json_is_null(json_object_get(o, "seq_replays")));
	assert_true(json_is_null(json_object_get(o, "seq_late")));
	assert_int_equal(json_integer_value(json_object_get(o, "packets")), 18);
	json_decref(doc);
}

static void test_sum_sa_never_seen(void **state)
{
	struct ipsm_sa_key key = {};
	struct ipsm_sa_val v[2] = {};
	struct ipsm_sa out;

	(void)state;
	agg_sum_sa(&out, &key, v, 2, 5 * NS, 7 * NS);
	assert_int_equal(out.first_seen, 0);
	assert_int_equal(out.last_seen, 0);
	assert_int_equal(out.seq_max, 0);
	assert_int_equal(out.flags, 0);
}

static void test_sort_sas(void **state)
{
	struct ipsm_sa s[4] = {};

	(void)state;
	s[0].key = (struct ipsm_sa_key){ .dir = IPSM_DIR_TX, .proto = 50, .spi = htonl(1) };
	s[1].key = (struct ipsm_sa_key){ .dir = IPSM_DIR_RX, .proto = 51, .spi = htonl(1) };
	s[2].key = (struct ipsm_sa_key){ .dir = IPSM_DIR_RX, .proto = 50, .spi = htonl(0x100) };
	s[3].key = (struct ipsm_sa_key){ .dir = IPSM_DIR_RX, .proto = 50, .spi = htonl(2) };
	agg_sort_sas(s, 4);
	assert_int_equal(ntohl(s[0].key.spi), 2);
	assert_int_equal(ntohl(s[1].key.spi), 0x100);
	assert_int_equal(s[2].key.proto, 51);
	assert_int_equal(s[3].key.dir, IPSM_DIR_TX);
}

static const char xfrm_stat_sample[] = "XfrmInError             \t0\n"
				       "XfrmInBufferError       \t0\n"
				       "XfrmInNoStates          \t17\n"
				       "XfrmInStateProtoError   \t3\n"
				       "XfrmOutStateSeqError    \t18446744073709551615\n";

static void test_xfrm_stat_parse(void **state)
{
	struct ipsm_xfrm_stat st;
	FILE *f;

	(void)state;
	f = fmemopen((void *)xfrm_stat_sample, strlen(xfrm_stat_sample), "r");
	assert_non_null(f);
	assert_int_equal(xfrm_stat_parse(f, &st), 0);
	fclose(f);
	assert_int_equal(st.n, 5);
	assert_string_equal(st.e[2].name, "XfrmInNoStates");
	assert_int_equal(xfrm_stat_get(&st, "XfrmInNoStates"), 17);
	assert_int_equal(xfrm_stat_get(&st, "XfrmInStateProtoError"), 3);
	assert_true(st.e[4].value == 18446744073709551615ULL);
	assert_int_equal(xfrm_stat_get(&st, "NoSuchCounter"), -1);
}

static void test_xfrm_stat_malformed(void **state)
{
	static const char bad[] = "XfrmInError 0\nXfrmInNoStates twelve\n";
	static const char extra[] = "XfrmInError 0 1\n";
	struct ipsm_xfrm_stat st;
	FILE *f;

	(void)state;
	f = fmemopen((void *)bad, strlen(bad), "r");
	assert_int_equal(xfrm_stat_parse(f, &st), -EINVAL);
	fclose(f);
	f = fmemopen((void *)extra, strlen(extra), "r");
	assert_int_equal(xfrm_stat_parse(f, &st), -EINVAL);
	fclose(f);
}

static void test_formatters(void **state)
{
	__u8 v6[16] = { 0xfd, 0, [15] = 2 };
	__u8 v4[16] = { 192, 0, 2, 1 };
	char buf[64];

	(void)state;
	ipsm_spi_str(htonl(0xabcd), buf, sizeof(buf));
	assert_string_equal(buf, "0x0000abcd");
	ipsm_spi_str(htonl(0xdeadbeef), buf, sizeof(buf));
	assert_string_equal(buf, "0xdeadbeef");
	ipsm_addr_str(IPSM_AF_IPV4, v4, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.1");
	ipsm_addr_str(IPSM_AF_IPV6, v6, buf, sizeof(buf));
	assert_string_equal(buf, "fd00::2");
	ipsm_time_str(1700000000ULL * NS + 999, buf, sizeof(buf));
	assert_string_equal(buf, "2023-11-14T22:13:20Z");
	assert_string_equal(ipsm_ike_exch_name(IPSM_IKE_V2, IPSM_IKE_X2), "create_child_sa");
	assert_string_equal(ipsm_ike_exch_name(IPSM_IKE_V1, IPSM_IKE_X0), "main_mode");
	assert_string_equal(ipsm_class_name(IPSM_CLASS_ESP_IN_UDP), "esp_in_udp");
}

static json_int_t jget_int(json_t *doc, const char *path)
{
	json_t *v = doc;
	char buf[256], *tok, *save;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && v; tok = strtok_r(NULL, ".", &save))
		v = json_object_get(v, tok);
	if (!json_is_integer(v))
		fail_msg("%s is not an integer", path);
	return json_integer_value(v);
}

/* Render, serialise and parse back: what a consumer actually gets. */
static json_t *render_roundtrip(const struct ipsm_snapshot *s)
{
	json_error_t jerr;
	json_t *doc, *back;
	char *text;

	doc = json_snapshot(s);
	assert_non_null(doc);
	text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	assert_non_null(text);
	assert_null(strchr(text, '\n')); /* one line: fit for JSON lines */
	back = json_loads(text, 0, &jerr);
	free(text);
	assert_non_null(back);
	return back;
}

static void test_json_contract(void **state)
{
	static const char *const ipsecmon_names[] = {
		"active_sas",
		"active_tunnels",
		"pending_key_operations",
		"key_additions",
		"key_deletions",
		"rekeys",
		"rekey_early_packets",
		"rekey_late_packets",
		"bad_spi_packets",
		"tunnels_down",
		"tunnels_one_way",
		"packets_not_decrypted",
		"packets_not_authenticated",
		"packets_replayed",
		"confidential_bytes_sent",
		"confidential_bytes_received",
		"authenticated_bytes_sent",
		"authenticated_bytes_received",
		"transport_bytes_sent",
		"transport_bytes_received",
		"tunnel_bytes_sent",
		"tunnel_bytes_received",
	};
	static const char *const classes[] = { "esp",		"ah",	"esp_in_udp", "ike",
					       "nat_keepalive", "other" };
	const struct ipsm_counter_def *d;
	struct ipsm_snapshot s;
	struct fixture f;
	json_t *doc, *o, *x;
	size_t i;

	(void)state;
	fixture_fill(&f);
	s = f.s;
	doc = render_roundtrip(&s);

	assert_string_equal(json_string_value(json_object_get(doc, "schema")), "ipsecmon-bpf/1");
	assert_string_equal(json_string_value(json_object_get(doc, "time")),
			    "2023-11-14T22:13:20Z");
	o = json_array_get(json_object_get(doc, "interfaces"), 0);
	assert_string_equal(json_string_value(json_object_get(o, "name")), "eth0");
	assert_int_equal(json_integer_value(json_object_get(o, "ifindex")), 5);
	x = json_object_get(o, "hooks");
	assert_int_equal(json_array_size(x), 2);
	assert_string_equal(json_string_value(json_array_get(x, 0)), "xdp");
	assert_string_equal(json_string_value(json_array_get(x, 1)), "tc-egress");
	assert_string_equal(json_string_value(json_object_get(o, "xdp_mode")), "skb");

	for (i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		char path[64];

		snprintf(path, sizeof(path), "traffic.rx.%s.packets", classes[i]);
		jget_int(doc, path);
		snprintf(path, sizeof(path), "traffic.tx.%s.bytes", classes[i]);
		jget_int(doc, path);
	}
	assert_int_equal(jget_int(doc, "traffic.rx.esp.packets"), 12);
	assert_int_equal(jget_int(doc, "traffic.rx.esp.bytes"), 1700);
	assert_int_equal(jget_int(doc, "traffic.rx.esp.ipv6.packets"), 2);
	assert_int_equal(jget_int(doc, "traffic.tx.nat_keepalive.bytes"), 29);
	assert_int_equal(jget_int(doc, "traffic.tx.esp.packets"), 0);

	assert_int_equal(jget_int(doc, "ike.ikev2.ike_sa_init"), 2);
	assert_int_equal(jget_int(doc, "ike.ikev2.ike_auth"), 3);
	assert_int_equal(jget_int(doc, "ike.ikev2.requests"), 4);
	assert_int_equal(jget_int(doc, "ike.ikev2.responses"), 1);
	assert_int_equal(jget_int(doc, "ike.ikev2.tx.ike_sa_init.responses"), 1);
	assert_int_equal(jget_int(doc, "ike.ikev1.quick_mode"), 4);
	assert_int_equal(jget_int(doc, "ike.ikev1.main_mode"), 0);
	assert_int_equal(jget_int(doc, "ike.ikev1.aggressive_mode"), 0);
	assert_int_equal(jget_int(doc, "ike.ikev1.informational"), 0);
	assert_int_equal(jget_int(doc, "ike.unparsed"), 6);

	/* Until XFRM correlation exists the IPSECMON counters are unknown, not 0. */
	o = json_object_get(doc, "ipsecmon");
	assert_string_equal(json_string_value(json_object_get(o, "correlation")), "inactive");
	ipsm_for_each_counter(d)
	{
		x = json_object_get(o, d->json);
		assert_non_null(x);
		assert_true(json_is_null(x));
	}
	assert_int_equal(json_object_size(o), IPSM_N_COUNTERS + 2);
	/* The v1 contract's names (README "JSON") are all in the counter table. */
	for (i = 0; i < sizeof(ipsecmon_names) / sizeof(ipsecmon_names[0]); i++)
		assert_non_null(ipsm_counter_by_json(ipsecmon_names[i]));

	o = json_array_get(json_object_get(doc, "sas"), 0);
	assert_string_equal(json_string_value(json_object_get(o, "spi")), "0x0000abcd");
	assert_string_equal(json_string_value(json_object_get(o, "proto")), "esp");
	assert_string_equal(json_string_value(json_object_get(o, "dir")), "rx");
	assert_string_equal(json_string_value(json_object_get(o, "src")), "10.0.0.1");
	assert_string_equal(json_string_value(json_object_get(o, "dst")), "10.0.0.2");
	assert_string_equal(json_string_value(json_object_get(o, "encap")), "udp");
	assert_string_equal(json_string_value(json_object_get(o, "last_seen")),
			    "2023-11-14T22:13:20Z");
	assert_int_equal(json_integer_value(json_object_get(o, "packets")), 10);
	assert_int_equal(json_integer_value(json_object_get(o, "bytes")), 1400);
	assert_int_equal(json_integer_value(json_object_get(o, "seq_max")), 12);
	assert_int_equal(json_integer_value(json_object_get(o, "seq_gaps")), 2);
	assert_int_equal(json_integer_value(json_object_get(o, "seq_replays")), 1);
	assert_true(json_is_null(json_object_get(o, "mode")));
	assert_true(json_is_null(json_object_get(o, "known")));

	assert_true(json_is_array(json_object_get(doc, "bad_spis")));
	assert_int_equal(json_array_size(json_object_get(doc, "bad_spis")), 0);
	assert_int_equal(jget_int(doc, "kernel.xfrm_stat.XfrmInNoStates"), 17);
	assert_int_equal(jget_int(doc, "kernel.sad.sa_count"), 3);
	assert_int_equal(jget_int(doc, "kernel.policies.in"), 1);
	assert_int_equal(jget_int(doc, "kernel.policies.out"), 2);
	assert_int_equal(jget_int(doc, "kernel.policies.fwd"), 0);
	assert_int_equal(jget_int(doc, "kernel.policies.block"), 1);
	assert_int_equal(jget_int(doc, "datapath.untracked_packets"), 4);
	assert_int_equal(jget_int(doc, "datapath.max_sas"), 8192);
	json_decref(doc);
}

static void test_json_counters_are_64bit(void **state)
{
	struct ipsm_snapshot s;
	struct fixture f;
	json_t *doc;

	(void)state;
	fixture_fill(&f);
	s = f.s;
	s.traffic[IPSM_DIR_RX][IPSM_AF_IPV4][IPSM_CLASS_AH].bytes = 0x7fffffffffffULL;
	doc = render_roundtrip(&s);
	assert_true(jget_int(doc, "traffic.rx.ah.bytes") == 0x7fffffffffffLL);
	json_decref(doc);
}

/*
 * A stream line with thousands of SAs stays small: the 10 busiest since the
 * last line and the 10 most troubled, the rest counted in sas_omitted.
 */
static void test_stream_line_bounded(void **state)
{
	const size_t n = 5000;
	struct ipsm_snapshot s = {}, prev = {};
	struct json_view v = { .max_sas = IPSM_STREAM_MAX_SAS,
			       .max_bad_spis = IPSM_STREAM_MAX_BAD_SPIS,
			       .prev = &prev };
	json_t *doc, *sas;
	char *text;
	size_t i;

	(void)state;
	s.sas = calloc(n, sizeof(*s.sas));
	prev.sas = calloc(n, sizeof(*prev.sas));
	assert_non_null(s.sas);
	assert_non_null(prev.sas);
	s.n_sas = prev.n_sas = n;
	for (i = 0; i < n; i++) {
		s.sas[i].key = (struct ipsm_sa_key){ .proto = 50, .spi = htonl(0x1000 + i) };
		s.sas[i].packets = 1000;
		s.sas[i].seq_exact = true;
		prev.sas[i] = s.sas[i];
	}
	/* Busy in the interval: SPIs 0x1000-0x100b; in trouble: 0x1100-0x1104. */
	for (i = 0; i < 12; i++)
		s.sas[i].packets += 100 - i;
	for (i = 0x100; i < 0x105; i++) {
		s.sas[i].seq_gaps = 7;
		s.sas[i].have_dropped = true;
		s.sas[i].kernel_dropped = 3;
	}
	doc = json_snapshot_view(&s, &v);
	assert_non_null(doc);
	sas = json_object_get(doc, "sas");
	assert_int_equal(json_array_size(sas), 15);
	assert_int_equal(json_integer_value(json_object_get(doc, "sas_omitted")), n - 15);
	assert_string_equal(json_string_value(json_object_get(json_array_get(sas, 0), "spi")),
			    "0x00001000");
	assert_string_equal(json_string_value(json_object_get(json_array_get(sas, 9), "spi")),
			    "0x00001009");
	assert_string_equal(json_string_value(json_object_get(json_array_get(sas, 10), "spi")),
			    "0x00001100");
	text = json_dumps(doc, JSON_COMPACT);
	assert_non_null(text);
	assert_true(strlen(text) < 16384);
	free(text);
	json_decref(doc);
	free(s.sas);
	free(prev.sas);
}

static void test_json_status(void **state)
{
	struct ipsm_iface ifc = { .ifindex = 3, .present = false, .hooks = 1 };
	json_t *doc, *o;

	(void)state;
	snprintf(ifc.name, sizeof(ifc.name), "gone0");
	doc = json_status(&ifc, 1, 42, NULL, 0);
	o = json_array_get(json_object_get(doc, "interfaces"), 0);
	assert_string_equal(json_string_value(json_object_get(o, "name")), "gone0");
	assert_false(json_is_true(json_object_get(o, "present")));
	assert_int_equal(json_array_size(json_object_get(o, "hooks_live")), 0);
	assert_int_equal(json_integer_value(json_object_get(doc, "netns_id")), 42);
	json_decref(doc);
}

/*
 * The cache overlay: a CPU's slot replaces its value of the row only when
 * it holds that key and the row still shows the fill's packets, first_seen
 * and tag (CPU 0); a row rewritten since (CPU 1), a slot of another key
 * (CPU 2), a row made anew (CPU 0 again, tag 0) or no cache at all leave
 * the row's values.
 */
static void test_sa_overlay(void **state)
{
	struct ipsm_sa_key key = { .dir = IPSM_DIR_RX, .proto = 50, .spi = 0x01020304 };
	struct ipsm_sa_slot *slots = calloc((size_t)IPSM_SA_CACHE_SLOTS * 3, sizeof(*slots));
	struct ipsm_sa_val v[3] = { 0 };
	struct ipsm_sa_slot *s;
	int c;

	(void)state;
	assert_non_null(slots);
	s = &slots[(size_t)ipsm_sa_slot_of(&key) * 3];
	for (c = 0; c < 3; c++) {
		v[c].packets = 1;
		v[c].first_seen = 100 + c;
		s[c].key = key;
		s[c].fill_packets = 1;
		s[c].val.first_seen = 100 + c;
		s[c].val.packets = 10 * (c + 1);
		v[c].cache_tag = s[c].val.cache_tag = 7;
	}
	v[1].packets = 500; /* rewritten by user space since the fill */
	s[2].key.spi = 0x01020305;
	sa_table_overlay(NULL, 3, &key, v);
	assert_int_equal(v[0].packets, 1);
	sa_table_overlay(slots, 3, &key, v);
	assert_int_equal(v[0].packets, 10);
	assert_int_equal(v[1].packets, 500);
	assert_int_equal(v[2].packets, 1);
	v[0].packets = 1;
	v[0].cache_tag = 0;
	sa_table_overlay(slots, 3, &key, v);
	assert_int_equal(v[0].packets, 1);
	free(slots);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_ctr),
		cmocka_unit_test(test_sum_u64),
		cmocka_unit_test(test_sum_dp),
		cmocka_unit_test(test_sum_sa),
		cmocka_unit_test(test_sa_overlay),
		cmocka_unit_test(test_sum_sa_never_seen),
		cmocka_unit_test(test_seq_exact),
		cmocka_unit_test(test_sort_sas),
		cmocka_unit_test(test_xfrm_stat_parse),
		cmocka_unit_test(test_xfrm_stat_malformed),
		cmocka_unit_test(test_formatters),
		cmocka_unit_test(test_json_contract),
		cmocka_unit_test(test_json_counters_are_64bit),
		cmocka_unit_test(test_json_status),
		cmocka_unit_test(test_stream_line_bounded),
	};

	return cmocka_run_group_tests_name("unit", tests, NULL, NULL);
}
