/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Prometheus text exposition format 0.0.4 of a snapshot (README
 * "Prometheus"). Same semantics as the JSON: a counter that cannot be known
 * (null in JSON) has no sample at all, never a made-up 0.
 */
#ifndef IPSM_OUT_PROM_H
#define IPSM_OUT_PROM_H

#include <stddef.h>

#include "snapshot.h"

/*
 * Per-SA series are bounded: the busiest SAs by packets get series, the
 * rest are counted in ipsecmon_sa_series_dropped. Same for bad SPIs.
 */
#define IPSM_PROM_MAX_SA_SERIES 100
#define IPSM_PROM_MAX_BAD_SPI_SERIES 20
#define IPSM_PROM_MAX_TUNNEL_SERIES 100
#define IPSM_PROM_MAX_PEER_SERIES 100

/*
 * Render s; *text is malloc'ed (the caller frees it) and NUL-terminated,
 * *len excludes the NUL. 0 or a negative errno.
 */
int prom_render(const struct ipsm_snapshot *s, char **text, size_t *len);

#endif
