/* SPDX-License-Identifier: GPL-2.0 */
/* /proc/net/xfrm_stat: the kernel's global XFRM error counters. */
#ifndef IPSM_XFRM_STAT_H
#define IPSM_XFRM_STAT_H

#include <stdio.h>
#include <linux/types.h>

#define IPSM_XFRM_STAT_MAX 64
#define IPSM_XFRM_STAT_NAMELEN 40

/* Kept by the kernel's names and order, so counters added later still show. */
struct ipsm_xfrm_stat {
	unsigned int n;
	struct {
		char name[IPSM_XFRM_STAT_NAMELEN];
		__u64 value;
	} e[IPSM_XFRM_STAT_MAX];
};

/* Parse the "Name <spaces> value" lines of f; 0 or a negative errno. */
int xfrm_stat_parse(FILE *f, struct ipsm_xfrm_stat *st);
/* Read /proc/net/xfrm_stat of the current network namespace. */
int xfrm_stat_read(struct ipsm_xfrm_stat *st);
/* Value by name, or -1 if the kernel has no such counter. */
long long xfrm_stat_get(const struct ipsm_xfrm_stat *st, const char *name);

#endif
