// SPDX-License-Identifier: GPL-2.0
/* Open-addressing index over the monitor's array of kernel SAs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sa_index.h"

#define EMPTY 0
#define DEAD 1

/* 64-bit FNV-1a over the bytes that make the key. */
static __u64 fnv(__u64 h, const void *p, size_t len)
{
	const unsigned char *b = p;

	while (len--)
		h = (h ^ *b++) * 0x100000001b3ULL;
	return h;
}

static __u64 hash_id(const struct ipsm_xfrm_sa *sa)
{
	__u64 h = 0xcbf29ce484222325ULL;

	h = fnv(h, &sa->spi, sizeof(sa->spi));
	h = fnv(h, &sa->proto, sizeof(sa->proto));
	h = fnv(h, &sa->family, sizeof(sa->family));
	return fnv(h, sa->daddr, sizeof(sa->daddr));
}

static bool eq_id(const struct ipsm_xfrm_sa *a, const struct ipsm_xfrm_sa *b)
{
	return a->spi == b->spi && a->proto == b->proto && a->family == b->family &&
	       !memcmp(a->daddr, b->daddr, sizeof(a->daddr));
}

static __u64 hash_child(const struct ipsm_xfrm_sa *sa)
{
	__u64 h = 0xcbf29ce484222325ULL;

	h = fnv(h, &sa->reqid, sizeof(sa->reqid));
	h = fnv(h, &sa->proto, sizeof(sa->proto));
	h = fnv(h, &sa->family, sizeof(sa->family));
	h = fnv(h, sa->saddr, sizeof(sa->saddr));
	return fnv(h, sa->daddr, sizeof(sa->daddr));
}

static bool eq_child(const struct ipsm_xfrm_sa *a, const struct ipsm_xfrm_sa *b)
{
	return a->reqid == b->reqid && a->proto == b->proto && a->family == b->family &&
	       !memcmp(a->saddr, b->saddr, sizeof(a->saddr)) &&
	       !memcmp(a->daddr, b->daddr, sizeof(a->daddr));
}

const struct sa_index sa_index_by_id = { .hash = hash_id, .eq = eq_id };
const struct sa_index sa_index_by_child = { .hash = hash_child, .eq = eq_child };

static void put(struct sa_index *ix, const struct ipsm_xfrm_sa *sas, size_t slot)
{
	size_t i = ix->hash(&sas[slot]) & (ix->cap - 1);

	while (ix->e[i] > DEAD)
		i = (i + 1) & (ix->cap - 1);
	if (ix->e[i] == DEAD)
		ix->dead--;
	ix->e[i] = slot + 2;
	ix->used++;
}

/* Room for n entries at most half full, tombstones gone. */
static int resize(struct sa_index *ix, const struct ipsm_xfrm_sa *sas, size_t n)
{
	size_t cap = 64, i;
	__u32 *old = ix->e, *e;
	size_t old_cap = ix->cap;

	while (cap < 2 * n)
		cap *= 2;
	e = calloc(cap, sizeof(*e));
	if (!e)
		return -ENOMEM;
	ix->e = e;
	ix->cap = cap;
	ix->used = ix->dead = 0;
	for (i = 0; i < old_cap; i++)
		if (old[i] > DEAD)
			put(ix, sas, old[i] - 2);
	free(old);
	return 0;
}

int sa_index_build(struct sa_index *ix, const struct ipsm_xfrm_sa *sas, size_t n)
{
	size_t i;
	int err;

	free(ix->e);
	ix->e = NULL;
	ix->cap = ix->used = ix->dead = 0;
	err = resize(ix, sas, n);
	for (i = 0; !err && i < n; i++)
		put(ix, sas, i);
	return err;
}

ssize_t sa_index_find(const struct sa_index *ix, const struct ipsm_xfrm_sa *sas,
		      const struct ipsm_xfrm_sa *key)
{
	size_t i;

	if (!ix->cap)
		return -1;
	for (i = ix->hash(key) & (ix->cap - 1); ix->e[i] != EMPTY; i = (i + 1) & (ix->cap - 1))
		if (ix->e[i] > DEAD && ix->eq(&sas[ix->e[i] - 2], key))
			return ix->e[i] - 2;
	return -1;
}

int sa_index_add(struct sa_index *ix, const struct ipsm_xfrm_sa *sas, size_t slot)
{
	int err;

	if (2 * (ix->used + ix->dead + 1) > ix->cap) {
		err = resize(ix, sas, ix->used + 1);
		if (err)
			return err;
	}
	put(ix, sas, slot);
	return 0;
}

/* The entry that holds slot, found along its SA's probe sequence. */
static __u32 *entry_of(struct sa_index *ix, const struct ipsm_xfrm_sa *sas, size_t slot)
{
	size_t i;

	if (!ix->cap)
		return NULL;
	for (i = ix->hash(&sas[slot]) & (ix->cap - 1); ix->e[i] != EMPTY;
	     i = (i + 1) & (ix->cap - 1))
		if (ix->e[i] == slot + 2)
			return &ix->e[i];
	return NULL;
}

void sa_index_del(struct sa_index *ix, const struct ipsm_xfrm_sa *sas, size_t slot)
{
	__u32 *e = entry_of(ix, sas, slot);

	if (!e)
		return;
	*e = DEAD;
	ix->used--;
	ix->dead++;
}

void sa_index_move(struct sa_index *ix, const struct ipsm_xfrm_sa *sas, size_t from, size_t to)
{
	__u32 *e = entry_of(ix, sas, from);

	if (e)
		*e = to + 2;
}

void sa_index_free(struct sa_index *ix)
{
	free(ix->e);
	ix->e = NULL;
	ix->cap = ix->used = ix->dead = 0;
}
