/* SPDX-License-Identifier: GPL-2.0 */
/* Readable output: the stats tables and the status list. */
#ifndef IPSM_OUT_TEXT_H
#define IPSM_OUT_TEXT_H

#include <stdio.h>

#include "snapshot.h"

void text_stats(FILE *f, const struct ipsm_snapshot *s);
void text_status(FILE *f, const struct ipsm_iface *ifs, size_t n);
/* "ok", "gone" or "partial": whether attach's hooks are all still in place. */
const char *iface_state(const struct ipsm_iface *ifc);

#endif
