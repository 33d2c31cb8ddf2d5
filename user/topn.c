// SPDX-License-Identifier: GPL-2.0
/* Sorting scored indexes; see topn.h. */
#include <stdlib.h>

#include "topn.h"

static int by_score(const void *a, const void *b)
{
	const struct ipsm_scored *x = a, *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

void ipsm_sort_scored(struct ipsm_scored *v, size_t n)
{
	if (n)
		qsort(v, n, sizeof(*v), by_score);
}
