#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Rekey analytics (README "Rekey analytics"), a rekey made by hand on both
# gateways so that every number is known: gw1 switches to the new SPI
# 0x1002 before gw2 has its SA (5 pings lost: early packets, and 5 bad SPIs
# that the kernel counts as XfrmInNoStates), goes back to the old SPI for 3
# pings after gw2 installed the new SA (late packets), then uses the new
# one; gw2 deletes the old SA. The outbound side is made before broken. The
# monitor on gw2 must write one sa_rekeyed per direction when the old SA
# goes, with old and new SPI, early 5 and late 3 inbound (null outbound),
# the overlap, and the totals rekey_early_packets 5, rekey_late_packets 3
# in JSON, Prometheus and watch's tunnels pane.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib/guest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/guest.sh"

N=10
EARLY=5
LATE=3
OLD_IN=0x1001 NEW_IN=0x1002
OLD_OUT=0x2001 NEW_OUT=0x2002
IPSECMON_MON_INTERVAL=0.5
PROM=127.0.0.1:9477

setup_gateways
ipsec_pair cbc-sha256 "$OLD_IN" "$OLD_OUT"
if ! have_ipsecmon; then
	teardown_gateways
	exit 0
fi
ipsecmon_attach gw2 v2
ipsecmon_monitor gw2 v2 --prometheus "$PROM"
check_eq "echo replies on the old SAs" "$N" "$(ping_n gw1 "$GW2_V4" "$N")"
settle
ipsecmon_monitor_sync
xfrm_stat_save gw2 /tmp/xfrm_stat.before

# gw1 switches first: the newest SA of the CHILD_SA (its reqid) is the one it uses.
sa_add gw1 cbc-sha256 "$GW1_V4" "$GW2_V4" "$NEW_IN" --reqid "$OLD_IN"
check_eq "early switch: echo replies" 0 "$(ping_n gw1 "$GW2_V4" "$EARLY")"
settle
check_eq "early switch: gw2 xfrm_stat" "XfrmInNoStates=$EARLY" "$(xfrm_errors gw2 /tmp/xfrm_stat.before)"
check_eq "early switch: ipsecmon bad SPI packets" "$EARLY" "$(ipsecmon_q gw2 .ipsecmon.bad_spi_packets)"

# gw1 back on the old SA; gw2 gets the new inbound one: the rekey starts there.
sa_del gw1 "$GW1_V4" "$GW2_V4" esp "$NEW_IN"
sa_add gw2 cbc-sha256 "$GW1_V4" "$GW2_V4" "$NEW_IN" --reqid "$OLD_IN"
started=$SECONDS
ipsecmon_monitor_sync
check_eq "late: echo replies on the old SA" "$LATE" "$(ping_n gw1 "$GW2_V4" "$LATE")"
# gw1 on the new SA for good (its sequence numbers start again at 1).
sa_add gw1 cbc-sha256 "$GW1_V4" "$GW2_V4" "$NEW_IN" --reqid "$OLD_IN"
check_eq "echo replies on the new inbound SA" 4 "$(ping_n gw1 "$GW2_V4" 4)"
settle
ipsecmon_monitor_sync
check_eq "gw2 [old, new] inbound SA packets" "[$((N + LATE)),4]" \
	"[$(sa_stat gw2 esp "$OLD_IN" packets),$(sa_stat gw2 esp "$NEW_IN" packets)]"
check_eq "no sa_rekeyed while the old inbound SA lives" 0 \
	"$(jq -c 'select(.event == "sa_rekeyed")' "$IPSECMON_MON_OUT" | wc -l)"
sa_del gw2 "$GW1_V4" "$GW2_V4" esp "$OLD_IN"
ended=$SECONDS

# Outbound, made before broken: gw1 has the new inbound SA first.
sa_add gw1 cbc-sha256 "$GW2_V4" "$GW1_V4" "$NEW_OUT" --reqid "$OLD_OUT"
sa_add gw2 cbc-sha256 "$GW2_V4" "$GW1_V4" "$NEW_OUT" --reqid "$OLD_OUT"
check_eq "echo replies on the new outbound SA" 2 "$(ping_n gw1 "$GW2_V4" 2)"
sa_del gw2 "$GW2_V4" "$GW1_V4" esp "$OLD_OUT"
settle
ipsecmon_monitor_sync

jq -c 'select(.event == "sa_rekeyed")' "$IPSECMON_MON_OUT" | sed 's/^/#    event: /'
check_eq "sa_rekeyed [dir, old_spi, new_spi, early_packets, old_spi_packets_after]" \
	"[[\"rx\",\"0x00001001\",\"0x00001002\",$EARLY,$LATE],[\"tx\",\"0x00002001\",\"0x00002002\",null,null]]" \
	"$(jq -sc '[.[] | select(.event == "sa_rekeyed") | [.dir, .old_spi, .new_spi, .early_packets, .old_spi_packets_after]]' "$IPSECMON_MON_OUT")"
overlap=$(jq -s '[.[] | select(.event == "sa_rekeyed" and .dir == "rx")] | .[0].overlap_seconds' "$IPSECMON_MON_OUT")
note "inbound overlap ${overlap} s, the script measured $((ended - started)) s (whole seconds)"
# Whole seconds on the script's side, and the monitor reads each event a little later.
check_eq "inbound overlap_seconds within what the script measured (+-2 s)" 1 \
	"$(awk -v o="$overlap" -v a="$((ended - started))" 'BEGIN { print (o >= a - 2 && o <= a + 2) }')"
check_eq "ipsecmon [rekeys, rekey_early_packets, rekey_late_packets]" "[2,$EARLY,$LATE]" \
	"$(ipsecmon_q gw2 '[.ipsecmon | .rekeys, .rekey_early_packets, .rekey_late_packets]')"
check_eq "Prometheus [early, late]" "$EARLY $LATE" \
	"$(ipsecmon_metrics gw2 "$PROM" | awk '$1 == "ipsecmon_rekey_early_packets_total" { e = $2 }
		$1 == "ipsecmon_rekey_late_packets_total" { l = $2 } END { print e, l }')"
watch_start gw2 --interval 0.5
watch_wait 'Seq out'
watch_keys t
watch_wait '^ REKEYS'
check_lines "watch, tunnels pane: the rekey line" 1 /tmp/pane \
	-E "^ REKEYS 2: early packets $EARLY \\(new SPI before its SA\\), late $LATE \\(old SPI\\)$"
grep '^ REKEYS' /tmp/pane | sed 's/^/#    watch: /'
watch_stop
check_eq "ipsecmon totals never went down" 1 "$(ipsecmon_monotonic)"
ipsecmon_monitor_stop
teardown_gateways
