/* SPDX-License-Identifier: GPL-2.0 */
/* Picking the top few of a list by a score: the bounded views (JSON lines, panes). */
#ifndef IPSM_TOPN_H
#define IPSM_TOPN_H

#include <stddef.h>
#include <linux/types.h>

struct ipsm_scored {
	size_t i; /* index in the list scored */
	__u64 score;
};

/* Highest score first; equal scores keep list order, so views stay put. */
void ipsm_sort_scored(struct ipsm_scored *v, size_t n);

#endif
