#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bad SPI: gw2's inbound SA is deleted while gw1 keeps sending on its copy.
# Every ESP packet that then arrives at gw2 names an SPI the kernel no longer
# has, so XfrmInNoStates must rise by exactly the number sent, and nothing
# else may move. The monitor's bad-SPI count must match it; after the monitor
# stops, what is still counted depends on the kernel's XDP SA lookup.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib/guest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/guest.sh"

N0=5     # pings while the SA still exists
N=7      # datagrams after it was deleted
N_IDLE=4 # more after the monitor stopped
SPI12=0x1001
SPI21=0x2001

setup_gateways
ipsec_pair cbc-sha256 "$SPI12" "$SPI21"
if have_ipsecmon; then
	ipsecmon_attach gw2 v2
	ipsecmon_monitor gw2 v2
fi

# The tunnel works before the deletion.
check_eq "echo replies before deletion" "$N0" "$(ping_n gw1 "$GW2_V4" "$N0")"
settle
check_eq "gw2 in SA $SPI12 packets before deletion" "$N0" "$(sa_stat gw2 esp "$SPI12" packets)"
check_eq "gw2 XfrmInNoStates before deletion" 0 "$(xfrm_stat gw2 XfrmInNoStates)"

if have_ipsecmon; then
	ipsecmon_monitor_sync
	check_eq "ipsecmon correlation, active SAs" "[\"$IPSECMON_CORR\",2]" \
		"$(ipsecmon_q gw2 '[.ipsecmon.correlation, .ipsecmon.active_sas]')"
	check_eq "ipsecmon SA $SPI12 known, wire and kernel packets" "[true,$N0,$N0]" \
		"$(ipsecmon_sa gw2 "$SPI12" rx '[.known, .packets, .kernel.packets]')"
fi

sa_del gw2 "$GW1_V4" "$GW2_V4" esp "$SPI12"
check_eq "gw2 in SA $SPI12 after deletion" absent "$(sa_stat gw2 esp "$SPI12" packets)"
if have_ipsecmon; then
	# The monitor has seen the DELSA before the next packet is sent.
	ipsecmon_monitor_sync
	check_eq "ipsecmon SA $SPI12 row after deletion" absent "$(ipsecmon_sa gw2 "$SPI12" rx .spi)"
	check_eq "ipsecmon key deletions, additions, active SAs" "[1,0,1]" \
		"$(ipsecmon_q gw2 '[.ipsecmon.key_deletions, .ipsecmon.key_additions, .ipsecmon.active_sas]')"
fi

# One-way UDP: gw1 still encrypts with SPI 0x1001; gw2 has no state for it
# and drops each packet before UDP sees it, so nothing comes back.
udp_send gw1 "$GW2_V4" 9000 "$N"
await_eq "$N" xfrm_stat gw2 XfrmInNoStates
check_eq "gw1 out SA $SPI12 packets" "$((N0 + N))" "$(sa_stat gw1 esp "$SPI12" packets)"
check_eq "gw2 XfrmInNoStates" "$N" "$(xfrm_stat gw2 XfrmInNoStates)"
check_eq "gw2 xfrm_stat errors" "XfrmInNoStates=$N" "$(xfrm_errors gw2)"
check_eq "gw1 xfrm_stat errors" none "$(xfrm_errors gw1)"
if have_ipsecmon; then
	# On the wire gw2 received the N0 requests and the N orphaned packets.
	check_eq "ipsecmon gw2 rx esp packets" "$((N0 + N))" "$(ipsecmon_rx gw2 esp)"
	ipsecmon_monitor_sync
	# Decided per packet in the datapath: exactly the kernel's count.
	check_eq "ipsecmon bad_spi_packets = XfrmInNoStates" "$(xfrm_stat gw2 XfrmInNoStates)" \
		"$(ipsecmon_q gw2 .ipsecmon.bad_spi_packets)"
	check_eq "ipsecmon bad_spis names the SPI and the sender" \
		"[{\"spi\":\"0x00001001\",\"proto\":\"esp\",\"src\":\"$GW1_V4\",\"dst\":\"$GW2_V4\",\"packets\":$N}]" \
		"$(ipsecmon_q gw2 '[.bad_spis[] | {spi, proto, src, dst, packets}]')"
	check_eq "ipsecmon bad_spi event for the sender" 1 \
		"$(jq -c "select(.event == \"bad_spi\" and .src == \"$GW1_V4\")" "$IPSECMON_MON_OUT" | wc -l)"
	# The deleted SA's wire bytes stay in the totals (folded), none lost.
	check_eq "ipsecmon confidential bytes received kept after deletion" 1 \
		"$(ipsecmon_q gw2 'if .ipsecmon.confidential_bytes_received > 0 then 1 else 0 end')"
	check_eq "ipsecmon totals never went down" 1 "$(ipsecmon_monotonic)"
	ipsecmon_monitor_stop
	# Without a monitor only the kernel's own SA lookup still decides.
	check_eq "ipsecmon correlation, bad-SPI detection after the monitor stopped" \
		"[\"$IPSECMON_CORR_IDLE\",\"$IPSECMON_BAD_SPI_IDLE\"]" \
		"$(ipsecmon_q gw2 '[.ipsecmon.correlation, .ipsecmon.bad_spi_detection]')"
fi

# More orphaned packets with no monitor running. The kernel counts them all;
# with its SA lookup the datapath still counts each one as a bad SPI, with
# the map it cannot tell and says so (null, not a made-up number).
udp_send gw1 "$GW2_V4" 9000 "$N_IDLE"
await_eq "$((N + N_IDLE))" xfrm_stat gw2 XfrmInNoStates
check_eq "gw2 XfrmInNoStates with no monitor" "$((N + N_IDLE))" "$(xfrm_stat gw2 XfrmInNoStates)"
if have_ipsecmon; then
	check_eq "ipsecmon gw2 rx esp packets with no monitor" "$((N0 + N + N_IDLE))" "$(ipsecmon_rx gw2 esp)"
	want=null
	[[ $IPSECMON_BAD_SPI_IDLE == active ]] && want=$((N + N_IDLE))
	check_eq "ipsecmon bad_spi_packets with no monitor" "$want" \
		"$(ipsecmon_q gw2 .ipsecmon.bad_spi_packets)"
fi
teardown_gateways
