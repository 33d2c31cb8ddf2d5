/* SPDX-License-Identifier: GPL-2.0 */
/* The live IPSECMON window of watch, for an 80x24 terminal. */
#ifndef IPSM_OUT_TERM_H
#define IPSM_OUT_TERM_H

#include <stdio.h>

#include "snapshot.h"

/* What the middle of the window shows; the keys t and p switch. */
enum term_pane {
	TERM_PANE_TRAFFIC, /* traffic per class, the busiest SAs */
	TERM_PANE_TUNNELS, /* the tunnels, the most troubled first */
	TERM_PANE_PEERS, /* the remote gateways, the most troubled first */
};

/*
 * Redraw the window: counters, the pane with rates against prev (NULL: no
 * rates yet), bad SPIs, IKE exchanges, the SA that runs out of sequence
 * numbers first and the keys.
 */
void term_view(FILE *f, const struct ipsm_snapshot *cur, const struct ipsm_snapshot *prev,
	       double seconds, unsigned int interval_ms, enum term_pane pane);

#endif
