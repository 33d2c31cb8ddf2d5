/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A hash index over an array of kernel SAs, so that the monitor finds an SA
 * (or one of the same CHILD_SA) in constant time whatever the SAD's size:
 * open addressing over slot numbers of the caller's array, which stays the
 * owner of the SAs. Several entries may have equal keys.
 */
#ifndef IPSM_SA_INDEX_H
#define IPSM_SA_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "xfrm_nl.h"

struct sa_index {
	size_t cap; /* a power of two, or 0 */
	size_t used; /* live entries */
	size_t dead; /* tombstones */
	__u32 *e; /* 0 empty, 1 removed, slot + 2 */
	__u64 (*hash)(const struct ipsm_xfrm_sa *sa);
	bool (*eq)(const struct ipsm_xfrm_sa *a, const struct ipsm_xfrm_sa *b);
};

/* The SA's lookup triple (SPI, protocol, family, destination). */
extern const struct sa_index sa_index_by_id;
/* Its CHILD_SA: reqid, protocol, family and both gateway addresses. */
extern const struct sa_index sa_index_by_child;

/* Index sas[0..n) afresh; 0 or -ENOMEM. */
int sa_index_build(struct sa_index *ix, const struct ipsm_xfrm_sa *sas, size_t n);
/* The slot of an SA equal to key, -1 if none. */
ssize_t sa_index_find(const struct sa_index *ix, const struct ipsm_xfrm_sa *sas,
		      const struct ipsm_xfrm_sa *key);
/* sas[slot] was added; 0 or -ENOMEM. */
int sa_index_add(struct sa_index *ix, const struct ipsm_xfrm_sa *sas, size_t slot);
/* sas[slot] is going (call before the array changes). */
void sa_index_del(struct sa_index *ix, const struct ipsm_xfrm_sa *sas, size_t slot);
/* sas[from] moves to slot to (call before the array changes; to is free). */
void sa_index_move(struct sa_index *ix, const struct ipsm_xfrm_sa *sas, size_t from, size_t to);
void sa_index_free(struct sa_index *ix);

#endif
