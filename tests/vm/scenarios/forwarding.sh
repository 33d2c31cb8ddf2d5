#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A router on the ESP path: gw1 -- mid -- gw2, SAs only on gw1 and gw2, and
# ipsecmon on mid's two interfaces. mid has no SA for any of the SPIs it
# forwards, yet none of those packets is a bad SPI: none is addressed to
# mid. It must count them as traffic (rx on the interface they arrive on, tx
# on the one they leave by) and on the rows the datapath learns for their
# SPIs, with attach alone and with `run` up, whatever decides bad SPIs.
#
# Those learned rows must not crowd out mid's own SAs: with a table of 16
# rows filled by forwarded ESP of 8 more SPIs (6 get rows, 2 are untracked),
# an SA added on mid still gets its row, the two least recently seen
# learned rows making room; and with `run --learned-idle=3`, learned rows
# idle for 3 s go (the kernel SA's row stays) and come back from zero with
# the next packets.
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
	ipsecmon_attach mid m1 m2 --max-sas 16
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
have_ipsecmon || { teardown_gateways; exit 0; }
check_eq "run: no bad_spi event on mid" 0 \
	"$(jq -c 'select(.event == "bad_spi")' "$IPSECMON_MON_OUT" | wc -l)"

# A full table: forwarded ESP to 10.0.2.99 (behind m2, no host's SA), 2
# frames for each of 8 SPIs, SPI by SPI: rx and tx rows for the first 6
# fill the 16 rows, the last 2 SPIs' 8 passages are untracked.
FLOOD=0x3001
nsx mid ip neigh replace 10.0.2.99 lladdr "$GW2_MAC" dev m2 nud permanent
note "$(nsx gw1 /usr/bin/python3 -I -S "$GUEST_LIB_DIR/esp_spray.py" v1 "$R_MID1_MAC" \
	"$R_GW1_V4" 10.0.2.99 "$FLOOD" 8 2)"
settle
ESP_ALL="[$((4 * N + 16)),$((4 * N + 16))]"
check_eq "full: ipsecmon mid [rx, tx] esp packets" "$ESP_ALL" \
	"$(ipsecmon_q mid '[.traffic.rx.esp.packets, .traffic.tx.esp.packets]')"
check_eq "full: [rows, untracked packets, bad SPIs]" "[16,8,0]" \
	"$(ipsecmon_q mid '[(.sas | length), .datapath.untracked_packets, .datapath.bad_spi_packets]')"
# mid's own SA (from gw1, to mid): its row evicts the 2 oldest learned ones,
# which are ping rows, not the flood's.
sa_add mid cbc-sha256 "$R_GW1_V4" "$R_MID1_V4" 0x4001
ipsecmon_monitor_sync
check_eq "full: mid's SA row [known, dir]" '[true,"rx"]' "$(ipsecmon_sa mid 0x4001 rx '[.known, .dir]')"
check_eq "full: [rows, learned flood rows, learned ping rows]" "[15,12,2]" \
	"$(ipsecmon_q mid '[(.sas | length),
		([.sas[] | select(.known == false and (.spi | startswith("0x0000300")))] | length),
		([.sas[] | select(.spi == "0x00001001" or .spi == "0x00002001")] | length)]')"
check_eq "full: run says nothing of a full table" "" "$(grep -i 'table full' "$IPSECMON_MON_OUT.err" || true)"
ipsecmon_monitor_stop
cp "$IPSECMON_MON_OUT" /tmp/forwarding-run1.jsonl

# Ageing: every learned row idle for 3 s goes; the SA's row stays.
ipsecmon_monitor mid m1 m2 --learned-idle=3
sleep 3.5
ipsecmon_monitor_sync
check_eq "aged: [rows, mid's SA row known]" "[1,true]" \
	"$(ipsecmon_q mid '[(.sas | length), ([.sas[] | select(.spi == "0x00004001")][0].known)]')"
check_eq "aged: ipsecmon mid [rx, tx] esp packets unchanged" "$ESP_ALL" \
	"$(ipsecmon_q mid '[.traffic.rx.esp.packets, .traffic.tx.esp.packets]')"
# The next packets make the rows again, from zero (one reading: they age again in 3 s).
check_eq "aged: echo replies" "$N" "$(ping_n gw1 "$R_GW2_V4" "$N")"
settle
check_eq "relearned: [rows, ping rows [known, packets]]" "[5,[[false,$N],[false,$N],[false,$N],[false,$N]]]" \
	"$(ipsecmon_q mid '[(.sas | length), [.sas[] | select(.spi == "0x00001001" or .spi == "0x00002001") | [.known, .packets]]]')"
check_eq "bad SPIs on mid, in all" "[0,0]" \
	"$(ipsecmon_q mid '[.ipsecmon.bad_spi_packets, .datapath.bad_spi_packets]')"
ipsecmon_monitor_stop
check_eq "ipsecmon totals never went down" 1 "$(ipsecmon_monotonic /tmp/forwarding-run1.jsonl "$IPSECMON_MON_OUT")"
teardown_gateways
