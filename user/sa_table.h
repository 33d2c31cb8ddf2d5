/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The SA table as the datapath keeps it: the rows (sa_stats), the per-CPU
 * cache in front of them (sa_cache) and the count of rows per slot of a
 * hash of their keys (sa_filter); include/ipsecmon.h says how they work.
 * Every user-space read, write and delete of a row goes through here, so
 * that reads see what the cache holds, writes make the cache let go, and
 * the filter never counts fewer rows than there are.
 */
#ifndef IPSM_SA_TABLE_H
#define IPSM_SA_TABLE_H

#include <linux/types.h>

#include "ipsecmon.h"
#include "pins.h"

struct sa_table {
	int fd_rows; /* sa_stats */
	int fd_cache; /* sa_cache; -1 with pins made before it existed */
	int fd_epoch; /* sa_epoch; -1 likewise */
	int ncpus;
	/* sa_filter, mapped; NULL only in a table built by hand (tests, readers) */
	__u64 *filter;
};

/* The namespace's table; 0 or -errno (reported). Closed by sa_table_close(). */
int sa_table_open(const struct ipsm_paths *p, struct sa_table *t);
void sa_table_close(struct sa_table *t);

/* Every CPU's slots (slot i of CPU c at [i * ncpus + c]), read before the rows. */
int sa_table_slots(const struct sa_table *t, struct ipsm_sa_slot **out);
/* Put the CPUs' cached values of key into v (ncpus values read after slots). */
void sa_table_overlay(const struct ipsm_sa_slot *slots, int ncpus, const struct ipsm_sa_key *key,
		      struct ipsm_sa_val *v);

/* One row, cached values in (v: ncpus values); 0, -ENOENT or -errno. */
int sa_table_lookup(const struct sa_table *t, const struct ipsm_sa_key *key, struct ipsm_sa_val *v);
/*
 * Make a row (v: ncpus values), counted in sa_filter first; 0, -EEXIST or
 * -errno. Nothing of a new row can be cached: no new epoch.
 */
int sa_table_create(const struct sa_table *t, const struct ipsm_sa_key *key,
		    const struct ipsm_sa_val *v);
/* Rewrite or delete a row, then make the cache let go of it; 0 or -errno. */
int sa_table_update(const struct sa_table *t, const struct ipsm_sa_key *key,
		    const struct ipsm_sa_val *v, __u64 flags);
int sa_table_delete(const struct sa_table *t, const struct ipsm_sa_key *key);
/* Delete a row and count it out of sa_filter, with no new epoch (see below). */
int sa_table_remove(const struct sa_table *t, const struct ipsm_sa_key *key);
/* After removing rows: a new sa_epoch, so no CPU counts in a gone row. */
int sa_table_new_epoch(const struct sa_table *t);

#endif
