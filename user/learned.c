// SPDX-License-Identifier: GPL-2.0
/* Ageing and eviction of the SA table's learned rows. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "learned.h"

/* Evict this share of the learned rows at once: one table scan per burst of new SAs. */
#define EVICT_SHARE 8

struct candidate {
	struct ipsm_sa_key key;
	__u64 last_seen; /* the CPUs' latest, monotonic ns */
};

bool learned_idle(const struct ipsm_sa *row, __u64 now_ns, __u64 idle_ns)
{
	if (!idle_ns)
		return false;
	return !row->last_seen || (now_ns > row->last_seen && now_ns - row->last_seen >= idle_ns);
}

static int by_last_seen(const void *a, const void *b)
{
	const struct candidate *x = a, *y = b;

	return x->last_seen < y->last_seen ? -1 : x->last_seen > y->last_seen;
}

/* The learned rows with their last packet's time; 0 or -errno. */
static int collect(const struct sa_table *t, learned_keep_fn keep, void *ctx,
		   struct candidate **out, size_t *n_out)
{
	struct ipsm_sa_key key, next, *prev = NULL;
	struct candidate *c = NULL, *nc;
	struct ipsm_sa_val *v;
	size_t n = 0, cap = 0;
	int err = 0, i;

	v = calloc(t->ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	while (!bpf_map_get_next_key(t->fd_rows, prev, &next)) {
		key = next;
		prev = &key;
		if (keep(ctx, &key))
			continue;
		if (sa_table_lookup(t, &key, v))
			continue; /* gone meanwhile */
		if (n == cap) {
			cap = cap ? 2 * cap : 256;
			nc = realloc(c, cap * sizeof(*c));
			if (!nc) {
				err = -ENOMEM;
				goto out;
			}
			c = nc;
		}
		c[n].key = key;
		c[n].last_seen = 0;
		for (i = 0; i < t->ncpus; i++)
			if (v[i].last_seen > c[n].last_seen)
				c[n].last_seen = v[i].last_seen;
		n++;
	}
out:
	free(v);
	if (err) {
		free(c);
		return err;
	}
	*out = c;
	*n_out = n;
	return 0;
}

int learned_evict(const struct sa_table *t, learned_keep_fn keep, void *ctx)
{
	struct candidate *c;
	size_t n, i, want;
	int err, removed = 0;

	err = collect(t, keep, ctx, &c, &n);
	if (err)
		return err;
	qsort(c, n, sizeof(*c), by_last_seen);
	want = (n + EVICT_SHARE - 1) / EVICT_SHARE;
	for (i = 0; i < want; i++)
		if (!sa_table_remove(t, &c[i].key))
			removed++;
	free(c);
	/* One new epoch for the lot: no CPU goes on counting in an evicted row. */
	if (removed)
		sa_table_new_epoch(t);
	return removed;
}
