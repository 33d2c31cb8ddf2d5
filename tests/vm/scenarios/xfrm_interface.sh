#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Route-based IPsec through XFRM interfaces: `ipsec1` (if_id 42) on top of
# v1/v2 at both ends, tunnel-mode SAs and policies bound to if_id 42, the
# inner networks routed into ipsec1. ipsecmon watches the underlay (v1 and
# v2 carry the ESP; ipsec1 only sees cleartext), and the SAs' if_id must not
# make it lose them: exact packets per SA, the tunnel bytes, no bad SPI.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib/guest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/guest.sh"

N=8
IF_ID=42
SPI12=0x1042
SPI21=0x2042

setup_gateways
# xfrmi_setup NS UNDERLAY INNER PEER_INNER: the interface, and the peer's
# inner network routed into it.
xfrmi_setup() {
	ip -n "$1" -batch - <<-EOF
		link add ipsec1 type xfrm dev $2 if_id $IF_ID
		link set dev ipsec1 up
		route replace $4/32 dev ipsec1 src $3
	EOF
}
xfrmi_setup gw1 v1 "$GW1_NET" "$GW2_NET"
xfrmi_setup gw2 v2 "$GW2_NET" "$GW1_NET"
for ns in gw1 gw2; do
	sa_add "$ns" cbc-sha256 "$GW1_V4" "$GW2_V4" "$SPI12" --mode tunnel --if-id "$IF_ID"
	sa_add "$ns" cbc-sha256 "$GW2_V4" "$GW1_V4" "$SPI21" --mode tunnel --if-id "$IF_ID"
done
sp_add gw1 out "$GW1_NET" "$GW2_NET" esp "$SPI12" tunnel if_id "$IF_ID"
sp_add gw1 in "$GW2_NET" "$GW1_NET" esp "$SPI21" tunnel if_id "$IF_ID"
sp_add gw2 out "$GW2_NET" "$GW1_NET" esp "$SPI21" tunnel if_id "$IF_ID"
sp_add gw2 in "$GW1_NET" "$GW2_NET" esp "$SPI12" tunnel if_id "$IF_ID"

if have_ipsecmon; then
	ipsecmon_attach gw2 v2
fi

# check_round LABEL TOTAL: after TOTAL pings in all, every counter of both
# ends and of gw2's ipsecmon.
check_round() {
	local label=$1 t=$2
	check_eq "$label: gw1 out SA $SPI12 packets" "$t" "$(sa_stat gw1 esp "$SPI12" packets)"
	check_eq "$label: gw2 in SA $SPI12 packets" "$t" "$(sa_stat gw2 esp "$SPI12" packets)"
	check_eq "$label: gw2 out SA $SPI21 packets" "$t" "$(sa_stat gw2 esp "$SPI21" packets)"
	check_eq "$label: gw1 in SA $SPI21 packets" "$t" "$(sa_stat gw1 esp "$SPI21" packets)"
	# The inner IPv4 packet (84 bytes) per ping, as the SA counts it.
	check_eq "$label: gw2 in SA $SPI12 bytes" "$((t * 84))" "$(sa_stat gw2 esp "$SPI12" bytes)"
	check_eq "$label: gw2 ipsec1 rx packets" "$t" \
		"$(ip -n gw2 -j -s link show dev ipsec1 | jq '.[0].stats64.rx.packets')"
	check_eq "$label: gw1 xfrm_stat errors" none "$(xfrm_errors gw1)"
	check_eq "$label: gw2 xfrm_stat errors" none "$(xfrm_errors gw2)"
	have_ipsecmon || return 0
	check_eq "$label: ipsecmon gw2 [rx, tx] esp packets" "[$t,$t]" \
		"$(ipsecmon_q gw2 '[.traffic.rx.esp.packets, .traffic.tx.esp.packets]')"
	check_eq "$label: ipsecmon in SA $SPI12 [known, mode, wire, kernel packets]" \
		"[true,\"tunnel\",$t,$t]" \
		"$(ipsecmon_sa gw2 "$SPI12" rx '[.known, .mode, .packets, .kernel.packets]')"
	check_eq "$label: ipsecmon out SA $SPI21 [known, mode, wire, kernel packets]" \
		"[true,\"tunnel\",$t,$t]" \
		"$(ipsecmon_sa gw2 "$SPI21" tx '[.known, .mode, .packets, .kernel.packets]')"
	check_eq "$label: ipsecmon datapath bad SPIs, bad_spis rows" "[0,0]" \
		"$(ipsecmon_q gw2 '[.datapath.bad_spi_packets, (.bad_spis | length)]')"
}

check_eq "attach only: echo replies" "$N" "$(ping_n gw1 "$GW2_NET" "$N" -I "$GW1_NET")"
settle
check_round "attach only" "$N"
if have_ipsecmon; then
	want_bad=null
	[[ $IPSECMON_BAD_SPI_IDLE == active ]] && want_bad=0
	check_eq "attach only: ipsecmon bad_spi_packets" "$want_bad" \
		"$(ipsecmon_q gw2 .ipsecmon.bad_spi_packets)"
	ipsecmon_monitor gw2 v2
fi

check_eq "run: echo replies" "$N" "$(ping_n gw1 "$GW2_NET" "$N" -I "$GW1_NET")"
settle
check_round "run" "$((2 * N))"
if have_ipsecmon; then
	ipsecmon_monitor_sync
	check_eq "run: ipsecmon correlation, active SAs, active tunnels, bad SPIs" \
		"[\"$IPSECMON_CORR\",2,1,0]" \
		"$(ipsecmon_q gw2 '.ipsecmon | [.correlation, .active_sas, .active_tunnels, .bad_spi_packets]')"
	# Tunnel SAs only: their wire bytes are the tunnel bytes, both ways.
	check_eq "run: ipsecmon tunnel bytes [received, sent] = wire ESP bytes" \
		"$(ipsecmon_q gw2 '[.traffic.rx.esp.bytes, .traffic.tx.esp.bytes]')" \
		"$(ipsecmon_q gw2 '[.ipsecmon.tunnel_bytes_received, .ipsecmon.tunnel_bytes_sent]')"
	check_eq "run: ipsecmon transport bytes [received, sent]" "[0,0]" \
		"$(ipsecmon_q gw2 '[.ipsecmon.transport_bytes_received, .ipsecmon.transport_bytes_sent]')"
	check_eq "run: ipsecmon in SA $SPI12 wire bytes = (84 + ESP overhead) per packet" 1 \
		"$(ipsecmon_sa gw2 "$SPI12" rx "if .bytes > $((2 * N * 84)) and .bytes % $((2 * N)) == 0 then 1 else .bytes end")"
	check_eq "ipsecmon totals never went down" 1 "$(ipsecmon_monotonic)"
	ipsecmon_monitor_stop
fi
teardown_gateways
