#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# AH with a wrong key: gw2's copy of SA gw1->gw2 has another HMAC key. Every
# AH packet arriving at gw2 fails the ICV check: the SA's integrity-failure
# counter and XfrmInStateProtoError must each rise by exactly the number
# sent, and the SA must accept nothing.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib/guest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/guest.sh"

N=8
SPI12=0x1001
SPI21=0x2001

setup_gateways
ipsec_pair ah-sha256 "$SPI12" "$SPI21" --gw2-in-key wrong-key
if have_ipsecmon; then
	ipsecmon_attach gw2 v2
	ipsecmon_monitor gw2 v2
fi

udp_send gw1 "$GW2_V4" 9000 "$N"
await_eq "$N" sa_stat gw2 ah "$SPI12" integrity_failed
check_eq "gw1 out SA $SPI12 packets" "$N" "$(sa_stat gw1 ah "$SPI12" packets)"
check_eq "gw2 in SA $SPI12 integrity failures" "$N" "$(sa_stat gw2 ah "$SPI12" integrity_failed)"
check_eq "gw2 in SA $SPI12 packets accepted" 0 "$(sa_stat gw2 ah "$SPI12" packets)"
check_eq "gw2 XfrmInStateProtoError" "$N" "$(xfrm_stat gw2 XfrmInStateProtoError)"
check_eq "gw2 xfrm_stat errors" "XfrmInStateProtoError=$N" "$(xfrm_errors gw2)"
check_eq "gw1 xfrm_stat errors" none "$(xfrm_errors gw1)"
if have_ipsecmon; then
	check_eq "ipsecmon gw2 rx ah packets" "$N" "$(ipsecmon_rx gw2 ah)"
	ipsecmon_monitor_sync
	# AH authenticates and does not encrypt.
	check_eq "ipsecmon packets_not_authenticated" "$N" \
		"$(ipsecmon_q gw2 .ipsecmon.packets_not_authenticated)"
	check_eq "ipsecmon packets_not_decrypted" 0 "$(ipsecmon_q gw2 .ipsecmon.packets_not_decrypted)"
	check_eq "ipsecmon SA $SPI12 kernel integrity_failed" "$N" \
		"$(ipsecmon_sa gw2 "$SPI12" rx .kernel.integrity_failed)"
	check_eq "ipsecmon SA $SPI12 authenticated, not confidential" "[true,false]" \
		"$(ipsecmon_sa gw2 "$SPI12" rx '.kernel | [.authenticated, .confidential]')"
	check_eq "ipsecmon authenticated/confidential bytes received" \
		"[$(ipsecmon_sa gw2 "$SPI12" rx .bytes),0]" \
		"$(ipsecmon_q gw2 '[.ipsecmon.authenticated_bytes_received, .ipsecmon.confidential_bytes_received]')"
	ipsecmon_monitor_stop
fi
teardown_gateways
