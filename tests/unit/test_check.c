// SPDX-License-Identifier: GPL-2.0
/* cmocka tests for check's verdicts and for the delta/rate members of stream lines. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include <arpa/inet.h>
#include <linux/xfrm.h>

#include "check.h"
#include "out_json.h"
#include "seq_out.h"

/* Two readings 2 s apart: 20 more bad SPI packets, 4 more ICV failures. */
static void pair(struct ipsm_snapshot *a, struct ipsm_snapshot *b)
{
	memset(a, 0, sizeof(*a));
	a->correlation = IPSM_CORR_MONITOR;
	a->ipsecmon.have_xfrm = a->ipsecmon.have_events = true;
	a->ipsecmon.active_sas = 2;
	a->ipsecmon.bad_spi_packets = 100;
	a->ipsecmon.acct.not_authenticated = 10;
	a->ipsecmon.acct.not_decrypted = 10;
	a->time.tv_sec = 1000;
	*b = *a;
	b->time.tv_sec = 1002;
	b->ipsecmon.bad_spi_packets = 120;
	b->ipsecmon.acct.not_authenticated = 14;
	b->ipsecmon.acct.not_decrypted = 14;
	b->traffic[IPSM_DIR_RX][IPSM_AF_IPV4][IPSM_CLASS_ESP] = (struct ipsm_ctr){ 50, 5000 };
	a->traffic[IPSM_DIR_RX][IPSM_AF_IPV4][IPSM_CLASS_ESP] = (struct ipsm_ctr){ 10, 1000 };
}

/* The threshold of a counter, by its JSON name. */
static struct check_range *rate(struct check_opts *o, const char *json)
{
	const struct ipsm_counter_def *d = ipsm_counter_by_json(json);

	assert_non_null(d);
	return &o->rate[d - ipsm_counter_defs];
}

static struct check_opts no_checks(void)
{
	struct check_opts o = { .min_sas = -1, .max_idle = -1 };

	return o;
}

static void test_parse_range(void **state)
{
	struct check_range r = {};

	(void)state;
	assert_int_equal(check_parse_range("1,5", &r, false), 0);
	assert_true(r.on);
	assert_true(r.warn == 1 && r.crit == 5);
	assert_int_equal(check_parse_range("0.5,0.5", &r, false), 0);
	assert_int_equal(check_parse_range("5", &r, false), -EINVAL);
	assert_int_equal(check_parse_range("5,1", &r, false), -EINVAL); /* critical below warning */
	assert_int_equal(check_parse_range("-1,2", &r, false), -EINVAL);
	assert_int_equal(check_parse_range("1,2x", &r, false), -EINVAL);
}

static void test_levels(void **state)
{
	struct ipsm_snapshot a, b;
	struct check_opts o = no_checks();
	char line[512];

	(void)state;
	pair(&a, &b);
	/* 10 bad SPI packets per second. */
	check_parse_range("20,50", rate(&o, "bad_spi_packets"), false);
	assert_int_equal(check_eval(&o, &a, &b, 2, line, sizeof(line)), CHECK_OK);
	assert_string_equal(line, "IPSECMON OK - 2 active SAs, bad SPI packets 10.000/s "
				  "|active_sas=2;;;0 bad_spi_rate=10.000;20;50;0 "
				  "not_decrypted_rate=2.000;;;0 not_authenticated_rate=2.000;;;0");
	check_parse_range("10,50", rate(&o, "bad_spi_packets"), false);
	assert_int_equal(check_eval(&o, &a, &b, 2, line, sizeof(line)), CHECK_WARNING);
	assert_non_null(strstr(line, "IPSECMON WARNING - bad SPI packets 10.000/s >= 10 |"));
	check_parse_range("1,2", rate(&o, "packets_not_authenticated"), false);
	assert_int_equal(check_eval(&o, &a, &b, 2, line, sizeof(line)), CHECK_CRITICAL);
	assert_non_null(strstr(line, "packets not authenticated 2.000/s >= 2"));
	o = no_checks();
	o.min_sas = 3;
	assert_int_equal(check_eval(&o, &a, &b, 2, line, sizeof(line)), CHECK_CRITICAL);
	assert_non_null(strstr(line, "2 active SAs < 3 |active_sas=2;;3:;0"));
}

static void test_unknown(void **state)
{
	struct ipsm_snapshot a, b;
	struct check_opts o = no_checks();
	char line[512];

	(void)state;
	pair(&a, &b);
	a.correlation = b.correlation = IPSM_CORR_INACTIVE;
	check_parse_range("1,5", rate(&o, "bad_spi_packets"), false);
	assert_int_equal(check_eval(&o, &a, &b, 2, line, sizeof(line)), CHECK_UNKNOWN);
	assert_non_null(strstr(line, "IPSECMON UNKNOWN - bad SPI packets unknown"));
	/* A known problem outranks the blind spot. */
	o.min_sas = 5;
	assert_int_equal(check_eval(&o, &a, &b, 2, line, sizeof(line)), CHECK_CRITICAL);
}

static void test_idle(void **state)
{
	struct ipsm_snapshot a, b;
	struct check_opts o = no_checks();
	struct ipsm_sa sa = {};
	char line[512];

	(void)state;
	pair(&a, &b);
	sa.known = true;
	sa.last_seen = 400ULL * 1000000000ULL; /* 602 s before b */
	b.sas = &sa;
	b.n_sas = 1;
	o.max_idle = 600;
	assert_int_equal(check_eval(&o, &a, &b, 2, line, sizeof(line)), CHECK_WARNING);
	assert_non_null(strstr(line, "an SA idle for 602s > 600s"));
	assert_non_null(strstr(line, "max_idle=602s;600;;0"));
	o.max_idle = 602;
	assert_int_equal(check_eval(&o, &a, &b, 2, line, sizeof(line)), CHECK_OK);
}

/*
 * Sequence numbers: an outbound SA 1000 numbers before the end that sent
 * 100 in 10 s has 100 s left; ESN, another SA under the key (new add
 * time), no growth or an inbound SA have no estimate. check: CRITICAL
 * under 300 s, WARNING under 3600, OK above, with the soonest in perfdata.
 */
static void test_seq_exhaustion(void **state)
{
	struct ipsm_sa now[5] = {}, before[5] = {};
	struct ipsm_snapshot a = {}, b = {};
	struct check_opts o = no_checks();
	struct check_range r;
	char line[512];
	int i;

	(void)state;
	assert_int_equal(check_parse_range("3600,300", &r, true), 0);
	assert_int_equal(check_parse_range("300,3600", &r, true), -EINVAL);
	for (i = 0; i < 5; i++) {
		now[i].known = before[i].known = true;
		now[i].key.dir = before[i].key.dir = IPSM_DIR_TX;
		now[i].key.spi = before[i].key.spi = htonl(0x1000 + i);
		now[i].x.have_replay = before[i].x.have_replay = true;
		now[i].x.add_time = before[i].x.add_time = 50;
		before[i].x.oseq = 0xffffffffULL - 1100;
		now[i].x.oseq = 0xffffffffULL - 1000;
	}
	now[1].x.flags = before[1].x.flags = XFRM_STATE_ESN;
	now[2].x.add_time = 60;
	now[3].x.oseq = before[3].x.oseq;
	now[4].key.dir = before[4].key.dir = IPSM_DIR_RX;
	a.sas = before;
	b.sas = now;
	a.n_sas = b.n_sas = 5;
	a.time.tv_sec = 1000;
	b.time.tv_sec = 1010;
	seq_out_estimate(&b, &a);
	assert_true(now[0].have_seq_exhaustion);
	assert_int_equal((long)now[0].seq_exhaustion_s, 100);
	for (i = 1; i < 5; i++)
		assert_false(now[i].have_seq_exhaustion);
	seq_out_estimate(&b, NULL);
	assert_false(now[0].have_seq_exhaustion);
	seq_out_estimate(&b, &a);

	check_parse_range("3600,300", &o.seq_exhaustion, true);
	assert_int_equal(check_eval(&o, &a, &b, 10, line, sizeof(line)), CHECK_CRITICAL);
	assert_non_null(strstr(line, "SA 0x00001000 out of sequence numbers in 100s < 300"));
	assert_non_null(strstr(line, "seq_exhaustion=100s;3600:;300:;0"));
	check_parse_range("3600,50", &o.seq_exhaustion, true);
	assert_int_equal(check_eval(&o, &a, &b, 10, line, sizeof(line)), CHECK_WARNING);
	check_parse_range("60,50", &o.seq_exhaustion, true);
	assert_int_equal(check_eval(&o, &a, &b, 10, line, sizeof(line)), CHECK_OK);
}

static void test_changes(void **state)
{
	struct ipsm_snapshot a, b;
	json_t *doc = json_object(), *v;

	(void)state;
	pair(&a, &b);
	json_add_changes(doc, &b, &a, 2);
	v = json_object_get(
		json_object_get(
			json_object_get(json_object_get(json_object_get(doc, "delta"), "traffic"),
					"rx"),
			"esp"),
		"packets");
	assert_int_equal(json_integer_value(v), 40);
	v = json_object_get(
		json_object_get(
			json_object_get(json_object_get(json_object_get(doc, "rate"), "traffic"),
					"rx"),
			"esp"),
		"bytes");
	assert_true(json_real_value(v) == 2000.0);
	v = json_object_get(json_object_get(json_object_get(doc, "delta"), "ipsecmon"),
			    "bad_spi_packets");
	assert_int_equal(json_integer_value(v), 20);
	v = json_object_get(json_object_get(json_object_get(doc, "rate"), "ipsecmon"),
			    "packets_not_authenticated");
	assert_true(json_real_value(v) == 2.0);
	assert_true(json_real_value(json_object_get(doc, "interval_seconds")) == 2.0);
	json_decref(doc);

	/* Bad SPIs unknown in one of the two: no delta for them. */
	doc = json_object();
	a.correlation = IPSM_CORR_INACTIVE;
	json_add_changes(doc, &b, &a, 2);
	assert_null(json_object_get(json_object_get(json_object_get(doc, "delta"), "ipsecmon"),
				    "bad_spi_packets"));
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_range), cmocka_unit_test(test_levels),
		cmocka_unit_test(test_unknown),	    cmocka_unit_test(test_idle),
		cmocka_unit_test(test_changes),	    cmocka_unit_test(test_seq_exhaustion),
	};

	return cmocka_run_group_tests_name("check", tests, NULL, NULL);
}
