// SPDX-License-Identifier: GPL-2.0
/* cmocka tests for the pending-rekey table and the sa_rekeyed event. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <netinet/in.h>

#include "rekeys.h"

static struct ipsm_sa_key key_of(__u32 spi)
{
	struct ipsm_sa_key k = { .dir = IPSM_DIR_RX, .proto = IPPROTO_ESP, .family = IPSM_AF_IPV4 };

	k.spi = htonl(spi);
	inet_pton(AF_INET, "10.0.0.2", k.daddr);
	return k;
}

static void test_table(void **state)
{
	struct rekeys *t = calloc(1, sizeof(*t));
	struct rekey *r, evicted;
	struct ipsm_sa_key k;
	bool did;
	size_t i;

	(void)state;
	assert_non_null(t);
	for (i = 0; i < IPSM_MAX_PENDING_REKEYS; i++) {
		r = rekeys_add(t, &evicted, &did);
		assert_false(did);
		r->old_key = key_of(0x1000 + i);
		r->old_spi = r->old_key.spi;
		r->new_key = key_of(0x2000 + i);
		r->new_sa.spi = r->new_key.spi;
	}
	/* Full: the oldest is handed back and its place is gone. */
	r = rekeys_add(t, &evicted, &did);
	assert_true(did);
	assert_int_equal(ntohl(evicted.old_spi), 0x1000);
	r->old_key = key_of(0x3000);
	r->old_spi = r->old_key.spi;
	assert_int_equal(t->n, IPSM_MAX_PENDING_REKEYS);
	k = key_of(0x1000);
	assert_null(rekeys_find(t, &k, k.spi, true));
	k = key_of(0x1005);
	r = rekeys_find(t, &k, k.spi, true);
	assert_non_null(r);
	/* The same key with another SPI (SPIs reused by another SA) is not it. */
	assert_null(rekeys_find(t, &k, htonl(0x9999), true));
	k = key_of(0x2005);
	assert_ptr_equal(rekeys_find(t, &k, k.spi, false), r);
	rekeys_remove(t, r);
	assert_int_equal(t->n, IPSM_MAX_PENDING_REKEYS - 1);
	assert_null(rekeys_find(t, &k, k.spi, false));
	/* Order kept: the oldest left is now 0x1001, the newest 0x3000. */
	assert_int_equal(ntohl(t->v[0].old_spi), 0x1001);
	assert_int_equal(ntohl(t->v[t->n - 1].old_spi), 0x3000);
	free(t);
}

static void test_event(void **state)
{
	struct ipsm_xfrm_sa x = { .family = AF_INET, .proto = IPPROTO_ESP, .reqid = 4 };
	struct ipsm_sa_key k = key_of(0x1002);
	struct rekey_outcome o = { .have_old_spi = true,
				   .old_spi = htonl(0x1001),
				   .have_early = true,
				   .early = 5,
				   .have_late = true,
				   .late = 3,
				   .have_overlap = true,
				   .overlap_s = 2.0004 };
	json_t *e;

	(void)state;
	x.spi = k.spi;
	memcpy(x.daddr, k.daddr, 16);
	inet_pton(AF_INET, "10.0.0.1", x.saddr);
	e = rekey_event(&x, &k, &o);
	assert_string_equal(json_string_value(json_object_get(e, "event")), "sa_rekeyed");
	assert_string_equal(json_string_value(json_object_get(e, "spi")), "0x00001002");
	assert_string_equal(json_string_value(json_object_get(e, "new_spi")), "0x00001002");
	assert_string_equal(json_string_value(json_object_get(e, "old_spi")), "0x00001001");
	assert_int_equal(json_integer_value(json_object_get(e, "early_packets")), 5);
	assert_int_equal(json_integer_value(json_object_get(e, "old_spi_packets_after")), 3);
	assert_true(json_real_value(json_object_get(e, "overlap_seconds")) == 2.0);
	json_decref(e);
	/* Found in a dump: only the old SPI is known. */
	o = (struct rekey_outcome){ .have_old_spi = true, .old_spi = htonl(0x1001) };
	e = rekey_event(&x, &k, &o);
	assert_true(json_is_null(json_object_get(e, "early_packets")));
	assert_true(json_is_null(json_object_get(e, "old_spi_packets_after")));
	assert_true(json_is_null(json_object_get(e, "overlap_seconds")));
	json_decref(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_event),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
