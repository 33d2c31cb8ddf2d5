// SPDX-License-Identifier: GPL-2.0
/* The unit tests' filled snapshot; see fixture.h. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"

void fixture_fill(struct fixture *f)
{
	struct ipsm_snapshot *s = &f->s;
	struct ipsm_iface *ifc = &f->ifc;
	struct ipsm_sa *sa = &f->sa;

	memset(f, 0, sizeof(*f));
	s->time.tv_sec = 1700000000;
	s->netns_id = 7;
	ifc->ifindex = 5;
	snprintf(ifc->name, sizeof(ifc->name), "eth0");
	ifc->present = true;
	ifc->hooks = ifc->hooks_live = (1U << IPSM_HOOK_XDP) | (1U << IPSM_HOOK_TC_EGRESS);
	ifc->xdp_flags = 2; /* XDP_FLAGS_SKB_MODE */
	ifc->attached_at = 1699999000;
	s->ifaces = ifc;
	s->n_ifaces = 1;
	s->traffic[IPSM_DIR_RX][IPSM_AF_IPV4][IPSM_CLASS_ESP] = (struct ipsm_ctr){ 10, 1400 };
	s->traffic[IPSM_DIR_RX][IPSM_AF_IPV6][IPSM_CLASS_ESP] = (struct ipsm_ctr){ 2, 300 };
	s->traffic[IPSM_DIR_TX][IPSM_AF_IPV4][IPSM_CLASS_NAT_KEEPALIVE] =
		(struct ipsm_ctr){ 1, 29 };
	s->ike[IPSM_DIR_RX][IPSM_IKE_V2][IPSM_IKE_X0][0] = 1;
	s->ike[IPSM_DIR_TX][IPSM_IKE_V2][IPSM_IKE_X0][1] = 1;
	s->ike[IPSM_DIR_RX][IPSM_IKE_V2][IPSM_IKE_X1][0] = 3;
	s->ike[IPSM_DIR_RX][IPSM_IKE_V1][IPSM_IKE_X2][0] = 4;
	s->ike[IPSM_DIR_RX][IPSM_IKE_UNKNOWN][IPSM_IKE_XOTHER][0] = 6;
	sa->key = (struct ipsm_sa_key){ .dir = IPSM_DIR_RX,
					.proto = 50,
					.family = IPSM_AF_IPV4,
					.spi = htonl(0xabcd),
					.daddr = { 10, 0, 0, 2 } };
	sa->saddr[0] = 10;
	sa->saddr[3] = 1;
	sa->packets = 10;
	sa->bytes = 1400;
	sa->first_seen = 1699999999ULL * NS;
	sa->last_seen = 1700000000ULL * NS;
	sa->seq_max = 12;
	sa->seq_exact = true; /* one CPU saw it */
	sa->seq_gaps = 2;
	sa->seq_replays = 1;
	sa->flags = IPSM_SA_F_SEQ_VALID | IPSM_SA_F_UDP_ENCAP;
	s->sas = sa;
	s->n_sas = 1;
	s->max_sas = 8192;
	s->dp.sa_inserts = 1;
	s->dp.untracked_packets = 4;
	s->have_xfrm_stat = true;
	s->xfrm_stat.n = 1;
	snprintf(s->xfrm_stat.e[0].name, sizeof(s->xfrm_stat.e[0].name), "XfrmInNoStates");
	s->xfrm_stat.e[0].value = 17;
	s->have_kxfrm = true;
	s->kxfrm.sad_count = 3;
	s->kxfrm.policies[0] = 1;
	s->kxfrm.policies[1] = 2;
	s->kxfrm.policies_block = 1;
}
