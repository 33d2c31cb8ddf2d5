/* SPDX-License-Identifier: GPL-2.0 */
/* One filled snapshot for the unit tests of every output. */
#ifndef IPSM_TEST_FIXTURE_H
#define IPSM_TEST_FIXTURE_H

#include "snapshot.h"

#define NS 1000000000ULL

/* The storage a fixture snapshot points into. */
struct fixture {
	struct ipsm_snapshot s;
	struct ipsm_iface ifc;
	struct ipsm_sa sa;
};

/*
 * A snapshot with a little of everything, as snapshot_take() would fill
 * it before correlation: one interface (eth0, xdp + tc-egress), ESP over
 * both families, a NAT keepalive, IKE of both versions and an unparsed
 * one, one inbound SA row (SPI 0xabcd, 10.0.0.1 > 10.0.0.2, 10 packets,
 * 1400 bytes), datapath counters, XfrmInNoStates 17 and a SADINFO.
 */
void fixture_fill(struct fixture *f);

#endif
