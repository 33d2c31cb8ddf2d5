// SPDX-License-Identifier: GPL-2.0
/* Reads and writes of the SA table that respect the datapath's cache. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "maps.h"
#include "sa_table.h"

#define FILTER_BYTES ((size_t)IPSM_ROW_FILTER_SLOTS * sizeof(__u64))

static int filter_map(const struct ipsm_paths *p, struct sa_table *t);

int sa_table_open(const struct ipsm_paths *p, struct sa_table *t)
{
	char path[PATH_MAX];
	int ncpus;

	t->fd_rows = t->fd_cache = t->fd_epoch = -1;
	t->filter = NULL;
	ncpus = libbpf_num_possible_cpus();
	if (ncpus < 0)
		return ipsm_error(IPSM_EXIT_FAIL, ncpus, "cannot count CPUs: %s", strerror(-ncpus));
	t->ncpus = ncpus;
	t->fd_rows = ipsm_map_open(p, 0, IPSM_MAP_SA_STATS);
	if (t->fd_rows < 0)
		return t->fd_rows;
	/* Pins of an older version have no cache: then the rows are all there is. */
	ipsm_map_path(p, 0, IPSM_MAP_SA_CACHE, path, sizeof(path));
	t->fd_cache = bpf_obj_get(path);
	ipsm_map_path(p, 0, IPSM_MAP_SA_EPOCH, path, sizeof(path));
	t->fd_epoch = bpf_obj_get(path);
	if ((t->fd_cache < 0) != (t->fd_epoch < 0)) {
		sa_table_close(t);
		return ipsm_error(IPSM_EXIT_FAIL, -ENOENT,
				  "the SA cache's pins in %s are incomplete", p->ns);
	}
	return filter_map(p, t);
}

/*
 * Rows are counted in and out of the filter by whoever makes and deletes
 * them, so without it no row may be written here: an error, not a table
 * that quietly lets the datapath miss rows.
 */
static int filter_map(const struct ipsm_paths *p, struct sa_table *t)
{
	char path[PATH_MAX];
	void *m;
	int fd;

	ipsm_map_path(p, 0, IPSM_MAP_SA_FILTER, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0) {
		sa_table_close(t);
		return ipsm_error(IPSM_EXIT_FAIL, -errno, "cannot open %s: %s", path,
				  strerror(errno));
	}
	m = mmap(NULL, FILTER_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED) {
		sa_table_close(t);
		return ipsm_error(IPSM_EXIT_FAIL, -errno, "cannot map %s: %s", path,
				  strerror(errno));
	}
	t->filter = m;
	return 0;
}

void sa_table_close(struct sa_table *t)
{
	if (t->filter)
		munmap(t->filter, FILTER_BYTES);
	t->filter = NULL;
	if (t->fd_epoch >= 0)
		close(t->fd_epoch);
	if (t->fd_cache >= 0)
		close(t->fd_cache);
	if (t->fd_rows >= 0)
		close(t->fd_rows);
	t->fd_rows = t->fd_cache = t->fd_epoch = -1;
}

int sa_table_slots(const struct sa_table *t, struct ipsm_sa_slot **out)
{
	struct ipsm_sa_slot *slots;
	__u32 i, *keys, count, batch;
	int err = 0;

	*out = NULL;
	if (t->fd_cache < 0)
		return 0;
	slots = calloc((size_t)IPSM_SA_CACHE_SLOTS * t->ncpus, sizeof(*slots));
	keys = calloc(IPSM_SA_CACHE_SLOTS, sizeof(*keys));
	if (!slots || !keys) {
		err = -ENOMEM;
		goto out;
	}
	count = IPSM_SA_CACHE_SLOTS;
	if (bpf_map_lookup_batch(t->fd_cache, NULL, &batch, keys, slots, &count, NULL) &&
	    errno != ENOENT) {
		/* No batch operations on this kernel: one slot at a time. */
		for (i = 0; i < IPSM_SA_CACHE_SLOTS; i++) {
			if (bpf_map_lookup_elem(t->fd_cache, &i, &slots[(size_t)i * t->ncpus])) {
				err = -errno;
				goto out;
			}
		}
	} else if (count != IPSM_SA_CACHE_SLOTS) {
		err = -EIO;
		goto out;
	}
	*out = slots;
	slots = NULL;
out:
	free(keys);
	free(slots);
	return err;
}

/* A CPU's slot is its value of the row while the row is as it was at the fill. */
static void take_slots(const struct ipsm_sa_slot *s, int ncpus, const struct ipsm_sa_key *key,
		       struct ipsm_sa_val *v)
{
	int c;

	for (c = 0; c < ncpus; c++)
		if (s[c].key.spi && !memcmp(&s[c].key, key, sizeof(*key)) &&
		    v[c].cache_tag == s[c].val.cache_tag && v[c].packets == s[c].fill_packets &&
		    v[c].first_seen == s[c].val.first_seen)
			v[c] = s[c].val;
}

void sa_table_overlay(const struct ipsm_sa_slot *slots, int ncpus, const struct ipsm_sa_key *key,
		      struct ipsm_sa_val *v)
{
	if (slots)
		take_slots(&slots[(size_t)ipsm_sa_slot_of(key) * ncpus], ncpus, key, v);
}

int sa_table_lookup(const struct sa_table *t, const struct ipsm_sa_key *key, struct ipsm_sa_val *v)
{
	struct ipsm_sa_slot *s = NULL;
	__u32 idx = ipsm_sa_slot_of(key);
	int err = 0;

	if (t->fd_cache >= 0) {
		s = calloc(t->ncpus, sizeof(*s));
		if (!s)
			return -ENOMEM;
		if (bpf_map_lookup_elem(t->fd_cache, &idx, s)) {
			err = -errno;
			goto out;
		}
	}
	/* After the slots: a slot written back meanwhile is seen in the row. */
	if (bpf_map_lookup_elem(t->fd_rows, key, v)) {
		err = -errno;
		goto out;
	}
	if (s)
		take_slots(s, t->ncpus, key, v);
out:
	free(s);
	return err;
}

int sa_table_new_epoch(const struct sa_table *t)
{
	__u64 e, old = 0;
	__u32 k = 0;

	if (t->fd_epoch < 0)
		return 0;
	bpf_map_lookup_elem(t->fd_epoch, &k, &old);
	/*
	 * A fresh random value each time, not old + 1: two monitors bumping
	 * at once still change it, and a value slots were filled under does
	 * not come back (nor 0, that of slots never filled).
	 */
	do {
		if (getrandom(&e, sizeof(e), 0) != sizeof(e))
			e = old + 1;
	} while (e == old || !e);
	if (bpf_map_update_elem(t->fd_epoch, &k, &e, BPF_ANY))
		return -errno;
	return 0;
}

/* Count a row in (+1) or out (-1) of its filter slot, atomically with the datapath's. */
static void filter_count(const struct sa_table *t, const struct ipsm_sa_key *key, int d)
{
	if (t->filter)
		__atomic_fetch_add(&t->filter[ipsm_row_filter_slot(key)], (__u64)(__s64)d,
				   __ATOMIC_SEQ_CST);
}

int sa_table_create(const struct sa_table *t, const struct ipsm_sa_key *key,
		    const struct ipsm_sa_val *v)
{
	int err = 0;

	filter_count(t, key, 1);
	if (bpf_map_update_elem(t->fd_rows, key, v, BPF_NOEXIST)) {
		err = -errno;
		filter_count(t, key, -1);
	}
	return err;
}

int sa_table_update(const struct sa_table *t, const struct ipsm_sa_key *key,
		    const struct ipsm_sa_val *v, __u64 flags)
{
	int err = 0;

	/* A row that may be new is made as one, so that the filter counts it. */
	if (flags != BPF_EXIST) {
		err = sa_table_create(t, key, v);
		if (err != -EEXIST || flags == BPF_NOEXIST)
			return err;
	}
	if (bpf_map_update_elem(t->fd_rows, key, v, BPF_EXIST))
		return -errno;
	return sa_table_new_epoch(t);
}

int sa_table_remove(const struct sa_table *t, const struct ipsm_sa_key *key)
{
	if (bpf_map_delete_elem(t->fd_rows, key))
		return -errno;
	filter_count(t, key, -1);
	return 0;
}

int sa_table_delete(const struct sa_table *t, const struct ipsm_sa_key *key)
{
	int err = sa_table_remove(t, key);

	return err ? err : sa_table_new_epoch(t);
}
