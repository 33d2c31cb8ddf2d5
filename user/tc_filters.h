/* SPDX-License-Identifier: GPL-2.0 */
/* rtnetlink questions libbpf's bpf_tc_* API cannot answer. */
#ifndef IPSM_TC_FILTERS_H
#define IPSM_TC_FILTERS_H

/*
 * Number of tc filters (of any kind, any owner) on the clsact qdisc of
 * ifindex, both directions; a negative errno on failure. Used before
 * deleting a clsact we created: someone may have added filters since.
 */
int tc_clsact_filter_count(int ifindex);

#endif
