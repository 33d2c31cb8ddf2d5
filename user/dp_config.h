/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the datapath is told about the namespace: its config (the monitor's
 * heartbeat, the bad-SPI hash seed, flags), its own addresses, and the
 * marks of its SAs. Written by attach and the monitor; read per packet on
 * the miss path only.
 */
#ifndef IPSM_DP_CONFIG_H
#define IPSM_DP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "local_addrs.h"
#include "pins.h"
#include "xfrm_nl.h"

struct dp_config {
	int fd_corr, fd_addrs, fd_marks;
};

int dp_config_open(const struct ipsm_paths *p, struct dp_config *dc);
void dp_config_close(struct dp_config *dc);
/* A random bad-SPI hash seed, once per namespace's maps, and the namespace's inode. */
int dp_config_seed(struct dp_config *dc);
/* The monitor's heartbeat: trust the SA table until then (0: no longer). */
int dp_config_heartbeat(struct dp_config *dc, __u64 live_until_mono_ns);
/* Whether the datapath may trust sa_filter (IPSM_CFG_ROW_FILTER); needs fd_corr only. */
int dp_config_row_filter(struct dp_config *dc, bool trusted);
/* Make local_addrs equal to la and let the datapath use it. */
int dp_config_addrs(struct dp_config *dc, const struct local_addrs *la);
/* The distinct marks of the SAs in xs, for the kernel lookup's miss path. */
int dp_config_marks(struct dp_config *dc, const struct ipsm_xfrm_sa *xs, size_t n);
/* One more mark, at once: a new SA's, before the next full rebuild. */
int dp_config_mark_add(struct dp_config *dc, __u32 mark);
/* At attach: seed, addresses and marks as they are now. 0 or -errno. */
int dp_config_refresh(const struct ipsm_paths *p);

#endif
