/* SPDX-License-Identifier: GPL-2.0 */
/* The live IPSECMON window of watch, for an 80x24 terminal. */
#ifndef IPSM_OUT_TERM_H
#define IPSM_OUT_TERM_H

#include <stdio.h>

#include "snapshot.h"

/*
 * Redraw the window: counters, traffic per class with rates against prev
 * (NULL: no rates yet), the busiest SAs, bad SPIs, IKE exchanges.
 */
void term_view(FILE *f, const struct ipsm_snapshot *cur, const struct ipsm_snapshot *prev,
	       double seconds, unsigned int interval_ms);

#endif
