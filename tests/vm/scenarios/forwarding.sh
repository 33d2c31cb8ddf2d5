#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A router on the ESP path: gw1 -- mid -- gw2, SAs only on gw1 and gw2, and
# ipsecmon on mid's two interfaces. mid has no SA for any of the SPIs it
# forwards, yet none of those packets is a bad SPI: none is addressed to
# mid. It must count them as traffic (rx on the interface they arrive on, tx
# on the one they leave by) and on the rows the datapath learns for their
# SPIs, with attach alone and with `run` up, whatever decides bad SPIs.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib/guest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/guest.sh"

N=6
SPI12=0x1001
SPI21=0x2001

setup_routed
for ns in gw1 gw2; do
	sa_add "$ns" cbc-sha256 "$R_GW1_V4" "$R_GW2_V4" "$SPI12"
	sa_add "$ns" cbc-sha256 "$R_GW2_V4" "$R_GW1_V4" "$SPI21"
done
sp_add gw1 out "$R_GW1_V4" "$R_GW2_V4" esp "$SPI12" transport
sp_add gw1 in "$R_GW2_V4" "$R_GW1_V4" esp "$SPI21" transport
sp_add gw2 out "$R_GW2_V4" "$R_GW1_V4" esp "$SPI21" transport
sp_add gw2 in "$R_GW1_V4" "$R_GW2_V4" esp "$SPI12" transport

if have_ipsecmon; then
	ipsecmon_attach mid m1 m2
fi

# iface_esp IFACE: [rx, tx] ESP packets of one of mid's interfaces.
iface_esp() {
	"$IPSECMON_BIN" stats --json --netns mid --pin-dir "$_IPSECMON_PIN" "$1" |
		jq -c '[.traffic.rx.esp.packets, .traffic.tx.esp.packets]'
}

# check_round LABEL TOTAL BAD: after TOTAL pings in all; BAD is what
# ipsecmon.bad_spi_packets must say (0, or null where nothing decides).
check_round() {
	local label=$1 t=$2 bad=$3
	check_eq "$label: gw2 in SA $SPI12 packets" "$t" "$(sa_stat gw2 esp "$SPI12" packets)"
	check_eq "$label: gw1 in SA $SPI21 packets" "$t" "$(sa_stat gw1 esp "$SPI21" packets)"
	check_eq "$label: gw1 xfrm_stat errors" none "$(xfrm_errors gw1)"
	check_eq "$label: gw2 xfrm_stat errors" none "$(xfrm_errors gw2)"
	check_eq "$label: mid has no SA" "" "$(ip -n mid xfrm state list)"
	have_ipsecmon || return 0
	# Requests come in on m1 and leave by m2, replies the other way.
	check_eq "$label: ipsecmon mid [rx, tx] esp packets" "[$((2 * t)),$((2 * t))]" \
		"$(ipsecmon_q mid '[.traffic.rx.esp.packets, .traffic.tx.esp.packets]')"
	check_eq "$label: ipsecmon mid m1 [rx, tx] esp packets" "[$t,$t]" "$(iface_esp m1)"
	check_eq "$label: ipsecmon mid m2 [rx, tx] esp packets" "[$t,$t]" "$(iface_esp m2)"
	check_eq "$label: ipsecmon mid bad SPIs [ipsecmon, datapath, rows]" "[$bad,0,0]" \
		"$(ipsecmon_q mid '[.ipsecmon.bad_spi_packets, .datapath.bad_spi_packets, (.bad_spis | length)]')"
	local spi dir
	for spi in "$SPI12" "$SPI21"; do
		for dir in rx tx; do
			check_eq "$label: ipsecmon mid $dir row $spi [known, wire packets]" "[false,$t]" \
				"$(ipsecmon_sa mid "$spi" "$dir" '[.known, .packets]')"
		done
	done
	check_eq "$label: ipsecmon mid untracked packets" 0 "$(ipsecmon_q mid .datapath.untracked_packets)"
}

check_eq "attach only: echo replies" "$N" "$(ping_n gw1 "$R_GW2_V4" "$N")"
settle
want_bad=null
[[ ${IPSECMON_BAD_SPI_IDLE:-} == active ]] && want_bad=0
check_round "attach only" "$N" "$want_bad"

if have_ipsecmon; then
	ipsecmon_monitor mid m1 m2
fi
check_eq "run: echo replies" "$N" "$(ping_n gw1 "$R_GW2_V4" "$N")"
settle
if have_ipsecmon; then
	ipsecmon_monitor_sync
	check_eq "run: ipsecmon mid correlation, active SAs" "[\"$IPSECMON_CORR\",0]" \
		"$(ipsecmon_q mid '[.ipsecmon.correlation, .ipsecmon.active_sas]')"
fi
check_round "run" "$((2 * N))" 0
if have_ipsecmon; then
	check_eq "run: no bad_spi event on mid" 0 \
		"$(jq -c 'select(.event == "bad_spi")' "$IPSECMON_MON_OUT" | wc -l)"
	check_eq "ipsecmon totals never went down" 1 "$(ipsecmon_monotonic)"
	ipsecmon_monitor_stop
fi
teardown_gateways
