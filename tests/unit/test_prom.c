// SPDX-License-Identifier: GPL-2.0
/* cmocka unit tests: the Prometheus rendering of a snapshot, and --prometheus address parsing. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sys/socket.h>

#include "fixture.h"
#include "http.h"
#include "out_prom.h"
#include "snapshot.h"

/* Escaped per the exposition format: a"b\c becomes a\"b\\c. */
#define IFL "interface=\"a\\\"b\\\\c\""

/* The shared fixture with an interface name that needs escaping, one hook gone, no correlation. */
static void fill_snapshot(struct fixture *f, struct ipsm_snapshot *s)
{
	fixture_fill(f);
	f->s.time.tv_nsec = 250000000;
	snprintf(f->ifc.name, sizeof(f->ifc.name), "a\"b\\c");
	f->ifc.hooks_live = 1U << IPSM_HOOK_XDP;
	f->s.traffic[IPSM_DIR_TX][IPSM_AF_IPV4][IPSM_CLASS_NAT_KEEPALIVE] = (struct ipsm_ctr){};
	f->s.traffic[IPSM_DIR_TX][IPSM_AF_OTHER][IPSM_CLASS_OTHER] = (struct ipsm_ctr){ 1, 46 };
	f->s.ike[IPSM_DIR_RX][IPSM_IKE_V2][IPSM_IKE_X1][0] = 0;
	f->s.dp.sa_inserts = 0;
	f->s.dp.table_full = 3;
	f->s.xfrm_stat.n = 2;
	/* Not a kernel name; shows that a newline in a label value is escaped. */
	snprintf(f->s.xfrm_stat.e[1].name, sizeof(f->s.xfrm_stat.e[1].name), "X\nY");
	f->s.xfrm_stat.e[1].value = 1;
	*s = f->s;
}

static char *render(const struct ipsm_snapshot *s)
{
	size_t len = 0;
	char *text = NULL;

	assert_int_equal(prom_render(s, &text, &len), 0);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	assert_true(len > 0 && text[len - 1] == '\n');
	return text;
}

/* The exact line, start to end. */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line))) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
		p++;
	}
	return false;
}

#define assert_line(text, line)                                                 \
	do {                                                                    \
		if (!has_line(text, line))                                      \
			fail_msg("missing line: %s\n--- got:\n%s", line, text); \
	} while (0)

static int count_prefix(const char *text, const char *prefix)
{
	const char *p = text;
	int n = 0;

	for (; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, prefix, strlen(prefix)))
			n++;
	return n;
}

/*
 * Every sample's family has HELP and TYPE before its first sample, counters
 * end in _total and gauges do not, families are contiguous, and no series
 * appears twice.
 */
static void check_structure(const char *text)
{
	char *copy = strdup(text), *line, *save, *sp;
	char fam[128] = "", type[16] = "", seen[512][128], *series[4096];
	size_t n_seen = 0, n_series = 0, i, j, n;

	assert_non_null(copy);
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "# HELP ", 7)) {
			sp = strchr(line + 7, ' ');
			assert_non_null(sp);
			n = sp - (line + 7);
			assert_true(n < sizeof(fam));
			memcpy(fam, line + 7, n);
			fam[n] = '\0';
			assert_true(strlen(sp + 1) > 0);
			for (i = 0; i < n_seen; i++)
				if (!strcmp(seen[i], fam))
					fail_msg("family %s not contiguous", fam);
			assert_true(n_seen < 512);
			strcpy(seen[n_seen++], fam);
			type[0] = '\0';
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) {
			assert_true(!strncmp(line + 7, fam, strlen(fam)) &&
				    line[7 + strlen(fam)] == ' ');
			snprintf(type, sizeof(type), "%s", line + 8 + strlen(fam));
			n = strlen(fam);
			if (!strcmp(type, "counter"))
				assert_true(n > 6 && !strcmp(fam + n - 6, "_total"));
			else if (!strcmp(type, "gauge"))
				assert_false(n > 6 && !strcmp(fam + n - 6, "_total"));
			else
				fail_msg("bad type %s", type);
			continue;
		}
		assert_true(line[0] != '#');
		/* A sample of the family just announced, with a number. */
		n = strcspn(line, "{ ");
		if (!fam[0] || !type[0] || strlen(fam) != n || strncmp(line, fam, n))
			fail_msg("sample without HELP/TYPE: %s", line);
		assert_true(!strncmp(line, "ipsecmon_", 9));
		sp = strrchr(line, ' ');
		assert_non_null(sp);
		assert_true(strspn(sp + 1, "0123456789.") == strlen(sp + 1));
		*sp = '\0';
		for (j = 0; j < n_series; j++)
			if (!strcmp(series[j], line))
				fail_msg("duplicate series %s", line);
		assert_true(n_series < 4096);
		series[n_series++] = line;
	}
	free(copy);
}

static void test_prom_basic(void **state)
{
	struct ipsm_snapshot s;
	struct fixture f;
	char *t;

	(void)state;
	fill_snapshot(&f, &s);
	t = render(&s);
	check_structure(t);

	assert_line(t, "# TYPE ipsecmon_traffic_packets_total counter");
	assert_line(t, "# TYPE ipsecmon_snapshot_timestamp_seconds gauge");
	assert_line(t, "ipsecmon_snapshot_timestamp_seconds 1700000000.250");
	assert_line(t, "ipsecmon_traffic_packets_total{" IFL
		       ",direction=\"rx\",class=\"esp\",family=\"ipv4\"} 10");
	assert_line(t, "ipsecmon_traffic_bytes_total{" IFL
		       ",direction=\"rx\",class=\"esp\",family=\"ipv6\"} 300");
	assert_line(t, "ipsecmon_traffic_packets_total{" IFL
		       ",direction=\"tx\",class=\"other\",family=\"non_ip\"} 1");
	assert_line(t, "ipsecmon_traffic_packets_total{" IFL
		       ",direction=\"tx\",class=\"malformed\",family=\"ipv6\"} 0");
	/* 2 directions x 8 classes x 3 families, zeros included. */
	assert_int_equal(count_prefix(t, "ipsecmon_traffic_packets_total{"), 48);
	assert_int_equal(count_prefix(t, "ipsecmon_traffic_bytes_total{"), 48);

	assert_line(t,
		    "ipsecmon_ike_messages_total{" IFL
		    ",version=\"2\",exchange=\"ike_sa_init\",direction=\"rx\",kind=\"request\"} 1");
	assert_line(
		t, "ipsecmon_ike_messages_total{" IFL
		   ",version=\"2\",exchange=\"ike_sa_init\",direction=\"tx\",kind=\"response\"} 1");
	assert_line(t,
		    "ipsecmon_ike_messages_total{" IFL
		    ",version=\"1\",exchange=\"quick_mode\",direction=\"rx\",kind=\"message\"} 4");
	assert_line(t, "ipsecmon_ike_unparsed_packets_total{" IFL ",direction=\"rx\"} 6");
	assert_line(t, "ipsecmon_interface_hook_live{interface=\"a\\\"b\\\\c\",hook=\"xdp\"} 1");
	assert_line(t,
		    "ipsecmon_interface_hook_live{interface=\"a\\\"b\\\\c\",hook=\"tc-egress\"} 0");

	assert_line(t,
		    "ipsecmon_sa_packets_total{spi=\"0x0000abcd\",proto=\"esp\",direction=\"rx\","
		    "src=\"10.0.0.1\",dst=\"10.0.0.2\"} 10");
	assert_line(t, "ipsecmon_sa_bytes_total{spi=\"0x0000abcd\",proto=\"esp\",direction=\"rx\","
		       "src=\"10.0.0.1\",dst=\"10.0.0.2\"} 1400");
	assert_line(t,
		    "ipsecmon_sa_seq_gaps_total{spi=\"0x0000abcd\",proto=\"esp\",direction=\"rx\","
		    "src=\"10.0.0.1\",dst=\"10.0.0.2\"} 2");
	assert_line(t, "ipsecmon_sa_seq_replays_total{spi=\"0x0000abcd\",proto=\"esp\","
		       "direction=\"rx\",src=\"10.0.0.1\",dst=\"10.0.0.2\"} 1");
	assert_line(t, "ipsecmon_sa_series_dropped 0");
	assert_line(t, "# TYPE ipsecmon_sa_series_dropped gauge");
	assert_line(t, "ipsecmon_datapath_untracked_packets_total 4");
	assert_line(t, "ipsecmon_datapath_sa_table_full_total 3");
	assert_line(t, "ipsecmon_datapath_sa_rows 1");
	assert_line(t, "ipsecmon_datapath_max_sas 8192");
	assert_line(t, "ipsecmon_kernel_xfrm_stat_total{counter=\"XfrmInNoStates\"} 17");
	assert_line(t, "ipsecmon_kernel_xfrm_stat_total{counter=\"X\\nY\"} 1");
	assert_line(t, "ipsecmon_correlation_info{mode=\"inactive\"} 1");
	assert_line(t, "ipsecmon_bad_spi_series_dropped 0");

	/* Unknown without XFRM, events or correlation: no sample, no header (JSON: null). */
	assert_null(strstr(t, "ipsecmon_active_sas"));
	assert_null(strstr(t, "ipsecmon_active_tunnels"));
	assert_null(strstr(t, "ipsecmon_pending_key_operations"));
	assert_null(strstr(t, "ipsecmon_key_additions_total"));
	assert_null(strstr(t, "ipsecmon_key_deletions_total"));
	assert_null(strstr(t, "ipsecmon_rekeys_total"));
	assert_null(strstr(t, "ipsecmon_bad_spi_packets_total"));
	assert_null(strstr(t, "ipsecmon_packets_not_decrypted_total"));
	assert_null(strstr(t, "ipsecmon_packets_not_authenticated_total"));
	assert_null(strstr(t, "ipsecmon_packets_replayed_total"));
	assert_null(strstr(t, "ipsecmon_protected_bytes_total"));
	free(t);

	/* No xfrm_stat: the family is gone, not zero. */
	s.have_xfrm_stat = false;
	t = render(&s);
	assert_null(strstr(t, "ipsecmon_kernel_xfrm_stat_total"));
	free(t);
}

static void test_prom_ipsecmon_known(void **state)
{
	struct ipsm_snapshot s;
	struct fixture f;
	struct ipsm_counters *c = &s.ipsecmon;
	char *t;

	(void)state;
	fill_snapshot(&f, &s);
	c->have_xfrm = c->have_events = true;
	s.correlation = IPSM_CORR_MONITOR;
	s.monitor_live = true;
	c->active_sas = 3;
	c->active_tunnels = 1;
	c->pending = 2;
	c->key_additions = 5;
	c->key_deletions = 4;
	c->rekeys = 1;
	c->bad_spi_packets = 9;
	c->acct.not_decrypted = 7;
	c->acct.not_authenticated = 6;
	c->acct.replayed = 8;
	c->acct.bytes[IPSM_DIR_RX][IPSM_KIND_CONFIDENTIAL] = 500;
	c->acct.bytes[IPSM_DIR_TX][IPSM_KIND_TUNNEL] = 600;
	t = render(&s);
	check_structure(t);
	assert_line(t, "# TYPE ipsecmon_active_sas gauge");
	assert_line(t, "ipsecmon_active_sas 3");
	assert_line(t, "# TYPE ipsecmon_active_tunnels gauge");
	assert_line(t, "ipsecmon_active_tunnels 1");
	assert_line(t, "# TYPE ipsecmon_pending_key_operations gauge");
	assert_line(t, "ipsecmon_pending_key_operations 2");
	assert_line(t, "# TYPE ipsecmon_key_additions_total counter");
	assert_line(t, "ipsecmon_key_additions_total 5");
	assert_line(t, "ipsecmon_key_deletions_total 4");
	assert_line(t, "ipsecmon_rekeys_total 1");
	assert_line(t, "# TYPE ipsecmon_bad_spi_packets_total counter");
	assert_line(t, "ipsecmon_bad_spi_packets_total 9");
	assert_line(t, "ipsecmon_packets_not_decrypted_total 7");
	assert_line(t, "ipsecmon_packets_not_authenticated_total 6");
	assert_line(t, "ipsecmon_packets_replayed_total 8");
	assert_line(t,
		    "ipsecmon_protected_bytes_total{kind=\"confidential\",direction=\"rx\"} 500");
	assert_line(t, "ipsecmon_protected_bytes_total{kind=\"tunnel\",direction=\"tx\"} 600");
	assert_line(t, "ipsecmon_protected_bytes_total{kind=\"authenticated\",direction=\"tx\"} 0");
	assert_int_equal(count_prefix(t, "ipsecmon_protected_bytes_total{"), 8);
	assert_line(t, "ipsecmon_correlation_info{mode=\"monitor\"} 1");
	free(t);

	/* The kernel decides bad SPIs and no monitor runs: no pending, no events. */
	c->have_events = false;
	s.monitor_live = false;
	s.correlation = IPSM_CORR_KERNEL;
	t = render(&s);
	check_structure(t);
	assert_null(strstr(t, "ipsecmon_pending_key_operations"));
	assert_null(strstr(t, "ipsecmon_key_additions_total"));
	assert_line(t, "ipsecmon_bad_spi_packets_total 9");
	assert_line(t, "ipsecmon_active_sas 3");
	assert_line(t, "ipsecmon_correlation_info{mode=\"kernel\"} 1");
	free(t);

	/* A monitor ran once, none runs now: pending is still unknown. */
	c->have_events = true;
	t = render(&s);
	assert_null(strstr(t, "ipsecmon_pending_key_operations"));
	assert_line(t, "ipsecmon_key_additions_total 5");
	free(t);

	/* The kernel decides bad SPIs and a monitor runs (6.8+): pending is its count. */
	s.monitor_live = true;
	t = render(&s);
	assert_line(t, "ipsecmon_pending_key_operations 2");
	free(t);
}

/* 105 SAs: the 100 busiest get series, 5 are counted as dropped. */
static void test_prom_sa_cap(void **state)
{
	struct ipsm_bad_spi_row bad[25];
	struct ipsm_snapshot s;
	struct fixture f;
	struct ipsm_sa *sas;
	char line[256], *t;
	size_t i, n = IPSM_PROM_MAX_SA_SERIES + 5;

	(void)state;
	fill_snapshot(&f, &s);
	sas = calloc(n, sizeof(*sas));
	assert_non_null(sas);
	/* SPI i+1 has i+1 packets: SPIs 1..5 are the least busy. */
	for (i = 0; i < n; i++) {
		sas[i].key.dir = IPSM_DIR_RX;
		sas[i].key.proto = 50;
		sas[i].key.family = IPSM_AF_IPV4;
		sas[i].key.spi = htonl(i + 1);
		sas[i].key.daddr[0] = 10;
		sas[i].key.daddr[3] = 2;
		sas[i].saddr[0] = 10;
		sas[i].saddr[3] = 1;
		sas[i].packets = i + 1;
		sas[i].seq_exact = true;
	}
	s.sas = sas;
	s.n_sas = n;
	memset(bad, 0, sizeof(bad));
	for (i = 0; i < 25; i++) {
		bad[i].spi = htonl(0x1000 + i);
		bad[i].proto = 51;
		bad[i].family = IPSM_AF_IPV6;
		bad[i].saddr[0] = 0xfd;
		bad[i].saddr[15] = 1;
		bad[i].daddr[0] = 0xfd;
		bad[i].daddr[15] = 2;
		bad[i].packets = 100 - i;
		bad[i].bytes = 1000;
	}
	s.bad_spis = bad;
	s.n_bad_spis = 25;
	t = render(&s);
	check_structure(t);

	assert_int_equal(count_prefix(t, "ipsecmon_sa_packets_total{"), IPSM_PROM_MAX_SA_SERIES);
	assert_int_equal(count_prefix(t, "ipsecmon_sa_bytes_total{"), IPSM_PROM_MAX_SA_SERIES);
	assert_int_equal(count_prefix(t, "ipsecmon_sa_seq_gaps_total{"), IPSM_PROM_MAX_SA_SERIES);
	assert_int_equal(count_prefix(t, "ipsecmon_sa_seq_replays_total{"),
			 IPSM_PROM_MAX_SA_SERIES);
	assert_line(t, "ipsecmon_sa_series_dropped 5");
	assert_line(t, "ipsecmon_datapath_sa_rows 105");
	for (i = 0; i < n; i++) {
		snprintf(line, sizeof(line),
			 "ipsecmon_sa_packets_total{spi=\"0x%08zx\",proto=\"esp\",direction=\"rx\","
			 "src=\"10.0.0.1\",dst=\"10.0.0.2\"} %zu",
			 i + 1, i + 1);
		assert_int_equal(has_line(t, line), i >= 5);
	}

	assert_int_equal(count_prefix(t, "ipsecmon_bad_spi_packets_by_spi_total{"),
			 IPSM_PROM_MAX_BAD_SPI_SERIES);
	assert_int_equal(count_prefix(t, "ipsecmon_bad_spi_bytes_by_spi_total{"),
			 IPSM_PROM_MAX_BAD_SPI_SERIES);
	assert_line(t, "ipsecmon_bad_spi_packets_by_spi_total{spi=\"0x00001000\",proto=\"ah\","
		       "src=\"fd00::1\",dst=\"fd00::2\"} 100");
	assert_false(has_line(t, "ipsecmon_bad_spi_packets_by_spi_total{spi=\"0x00001014\","
				 "proto=\"ah\",src=\"fd00::1\",dst=\"fd00::2\"} 80"));
	assert_line(t, "ipsecmon_bad_spi_series_dropped 5");
	free(t);
	free(sas);
}

/* No SAs, no bad SPIs, no interfaces: still a valid document. */
static void test_prom_empty(void **state)
{
	struct ipsm_snapshot s;
	char *t;

	(void)state;
	memset(&s, 0, sizeof(s));
	t = render(&s);
	check_structure(t);
	assert_line(t, "ipsecmon_sa_series_dropped 0");
	assert_int_equal(count_prefix(t, "ipsecmon_sa_packets_total"), 0);
	assert_line(t, "ipsecmon_traffic_packets_total{interface=\"\",direction=\"rx\","
		       "class=\"esp\",family=\"ipv4\"} 0");
	free(t);
}

/* A tunnel: its state as a set of four, its SAs, packets and bytes by direction. */
static void test_prom_tunnels(void **state)
{
	struct ipsm_tunnel t = { .family = AF_INET, .sas = 2, .state = IPSM_TUN_ONE_WAY };
	struct ipsm_snapshot s;
	char *text;

	(void)state;
	memset(&s, 0, sizeof(s));
	inet_pton(AF_INET, "10.0.0.2", t.local);
	inet_pton(AF_INET, "10.0.0.1", t.remote);
	t.rx = (struct ipsm_ctr){ 7, 700 };
	s.tunnels = &t;
	s.n_tunnels = 1;
	s.ipsecmon.have_xfrm = true;
	s.have_kxfrm = true;
	s.tunnels_tracked = true;
	s.ipsecmon.tunnels_one_way = 1;
	text = render(&s);
	check_structure(text);
	assert_line(
		text,
		"ipsecmon_tunnel_state{local=\"10.0.0.2\",remote=\"10.0.0.1\",state=\"one_way\"} 1");
	assert_line(text,
		    "ipsecmon_tunnel_state{local=\"10.0.0.2\",remote=\"10.0.0.1\",state=\"up\"} 0");
	assert_int_equal(count_prefix(text, "ipsecmon_tunnel_state{"), 4);
	assert_line(text, "ipsecmon_tunnel_sas{local=\"10.0.0.2\",remote=\"10.0.0.1\"} 2");
	assert_line(
		text,
		"ipsecmon_tunnel_packets{local=\"10.0.0.2\",remote=\"10.0.0.1\",direction=\"rx\"} 7");
	assert_line(
		text,
		"ipsecmon_tunnel_bytes{local=\"10.0.0.2\",remote=\"10.0.0.1\",direction=\"tx\"} 0");
	assert_line(text, "ipsecmon_tunnel_series_dropped 0");
	assert_line(text, "ipsecmon_tunnels_one_way 1");
	assert_line(text, "ipsecmon_tunnels_down 0");
	free(text);
	/* One reading only: one-way is not known, so no series. */
	s.tunnels_tracked = false;
	text = render(&s);
	assert_int_equal(count_prefix(text, "ipsecmon_tunnels_one_way"), 0);
	free(text);
}

static void test_prom_bad_address(void **state)
{
	static const char *const bad[] = {
		"",
		"abc",
		"1.2.3.4",
		"127.0.0.1:",
		"127.0.0.1:0",
		"127.0.0.1:65536",
		"::1:9477",
		"[::1]",
		"[::1]9477",
		"[127.0.0.1]:9477",
		"localhost:9477",
		"127.0.0.1:-1",
		"127.0.0.1:9x",
	};
	struct prom_server *srv = (void *)1;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(prom_server_start(bad[i], &srv), -EINVAL);
		assert_null(srv);
	}
	/* Publish and stop cope with no server. */
	prom_server_publish(NULL, strdup("x"), 1);
	prom_server_stop(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prom_basic),	 cmocka_unit_test(test_prom_ipsecmon_known),
		cmocka_unit_test(test_prom_sa_cap),	 cmocka_unit_test(test_prom_empty),
		cmocka_unit_test(test_prom_bad_address), cmocka_unit_test(test_prom_tunnels),
	};

	return cmocka_run_group_tests_name("prom", tests, NULL, NULL);
}
