// SPDX-License-Identifier: GPL-2.0
/* cmocka tests for counting the datapath's answered IKE SAs by age. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ike_health.h"
#include "ipsecmon.h"

#define S 1000000000ULL

static void test_ages(void **state)
{
	const __u64 now = 2000 * S;
	const struct ipsm_ike_sa e[] = {
		{ .answered = now - 1 * S }, /* awaiting */
		{ .answered = now - 29 * S }, /* awaiting: 29 s < 30 */
		{ .answered = now - 30 * S }, /* half-open: exactly 30 */
		{ .answered = now - 899 * S }, /* half-open, still in the window */
		{ .answered = now - 900 * S }, /* out of the window: not reported */
		{ .answered = now - 950 * S, .authed = now - 949 * S }, /* out of the window */
		{ .answered = now - 40 * S, .authed = now - 39 * S }, /* authenticated */
		{ .answered = now + 4000000 }, /* a tick ahead of our clock: age 0 */
	};
	struct ipsm_ike_sas c;

	(void)state;
	ike_sas_count(e, sizeof(e) / sizeof(e[0]), now, IPSM_DEFAULT_HALF_OPEN_AFTER_S, &c);
	assert_int_equal(c.tracked, 8);
	assert_int_equal(c.awaiting_auth, 3);
	assert_int_equal(c.half_open, 2);
	assert_int_equal(c.auth_seen, 1);

	/* --half-open-after 1: the 1 s old one too. */
	ike_sas_count(e, sizeof(e) / sizeof(e[0]), now, 1, &c);
	assert_int_equal(c.awaiting_auth, 1);
	assert_int_equal(c.half_open, 4);
}

static void test_empty(void **state)
{
	struct ipsm_ike_sas c = { .half_open = 7 };

	(void)state;
	ike_sas_count(NULL, 0, 5 * S, 30, &c);
	assert_int_equal(c.tracked + c.awaiting_auth + c.half_open + c.auth_seen, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ages),
		cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
