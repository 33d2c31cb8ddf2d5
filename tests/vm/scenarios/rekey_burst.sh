#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Rekeys while the monitor ticks: a new SA whose NEWSA event is still
# unread when a tick dumps the SAs (it came while the tick read the maps)
# is a rekey as timely as one told by its event. CI on 6.1 once showed a
# strongSwan rekey with early_packets, old_spi_packets_after and
# overlap_seconds all null: the dump found the new SA first and took it
# for one seen after lost events. Here gw2 rekeys its inbound SA by hand
# R times in a row (new SA first, then the old one goes) under a monitor
# ticking every 0.1 s, so that ticks and additions meet; every sa_rekeyed
# must have old and new SPI, early 0, late 0 and an overlap.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib/guest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/guest.sh"

R=40
BASE_IN=0x1000
OUT_SPI=0x2001
IPSECMON_MON_INTERVAL=0.1

setup_gateways
ipsec_pair cbc-sha256 $((BASE_IN + 1)) "$OUT_SPI"
if ! have_ipsecmon; then
	teardown_gateways
	exit 0
fi
ipsecmon_attach gw2 v2
ipsecmon_monitor gw2 v2
check_eq "echo replies" 3 "$(ping_n gw1 "$GW2_V4" 3)"
settle
ipsecmon_monitor_sync
before=$(ipsecmon_q gw2 '.ipsecmon | [.rekeys, .key_additions, .key_deletions]')

want=''
for ((k = 1; k <= R; k++)); do
	old=$(printf '0x%08x' $((BASE_IN + k)))
	new=$(printf '0x%08x' $((BASE_IN + k + 1)))
	sa_add gw2 cbc-sha256 "$GW1_V4" "$GW2_V4" "$new" --reqid $((BASE_IN + 1))
	sa_del gw2 "$GW1_V4" "$GW2_V4" esp "$old"
	want+="[\"$old\",\"$new\",0,0,true],"
done
settle
ipsecmon_monitor_sync
check_eq "ipsecmon [rekeys, additions, deletions] since the first, active SAs" "[$R,$R,$R,2]" \
	"$(ipsecmon_q gw2 '.ipsecmon | [.rekeys, .key_additions, .key_deletions, .active_sas]' |
		jq -c --argjson b "$before" '[.[0] - $b[0], .[1] - $b[1], .[2] - $b[2], .[3]]')"
got=$(jq -sc '[.[] | select(.event == "sa_rekeyed" and .dir == "rx") |
	[.old_spi, .new_spi, .early_packets, .old_spi_packets_after,
	 (.overlap_seconds | type == "number" and . >= 0)]]' "$IPSECMON_MON_OUT")
check_eq "sa_rekeyed [old_spi, new_spi, early, late, overlap >= 0], all $R in order" \
	"[${want%,}]" "$got"
check_eq "ipsecmon totals never went down" 1 "$(ipsecmon_monotonic)"
ipsecmon_monitor_stop
teardown_gateways
