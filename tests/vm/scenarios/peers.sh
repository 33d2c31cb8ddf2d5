#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Peers (README "Peers"): gw2 with an ESP pair to gw1 (10.0.0.1) and a
# policy towards 10.0.0.3 that no SA serves. 10.0.0.3 (frames written on
# gw1's wire) sends 6 ESP packets on an SPI gw2 does not have and 4 IKE
# messages; gw2 sends it 2; before that, 30 spoofed sources send one IKE
# message each (an IKE_SA_INIT flood, 256 slots per CPU). ipsecmon on gw2
# must list each remote address with its SAs, tunnels, bytes, bad-SPI
# packets, IKE messages both ways and a last-seen time, exactly; every
# flood source except those whose slot another took (ike_peer_evicted);
# 10 peers per JSON line with the rest in peers_omitted, the busiest and
# the most troubled among them; the same in Prometheus and watch's pane p.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib/guest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/guest.sh"

N=10
WIRE=140
GW3_V4=10.0.0.3
FLOOD=30
IPSECMON_MON_INTERVAL=0.5
PROM=127.0.0.1:9477

# peer ADDR JQ: JQ applied to gw2's peer ADDR in stats; "absent" without one.
peer() {
	ipsecmon_q gw2 "[.peers[] | select(.address == \"$1\")] | if length == 0 then \"absent\" else .[0] | $2 end"
}

setup_gateways
ipsec_pair cbc-sha256 0x1001 0x2001
# A tunnel to gw3 configured, never negotiated; for TCP only, which nothing here
# sends: IKE and the ICMP errors to 10.0.0.3 pass in the clear, no ACQUIRE.
ip -n gw2 xfrm policy add src "$GW2_V4" dst "$GW3_V4" proto tcp dir out priority 100 \
	tmpl src "$GW2_V4" dst "$GW3_V4" proto esp reqid 7 mode tunnel
if ! have_ipsecmon; then
	teardown_gateways
	exit 0
fi
ipsecmon_attach gw2 v2
ipsecmon_monitor gw2 v2 --prometheus "$PROM"
check_eq "echo replies gw1 -> gw2" "$N" "$(ping_n gw1 "$GW2_V4" "$N")"
note "$(nsx gw1 /usr/bin/python3 -I -S "$GUEST_LIB_DIR/ike_send.py" v1 "$GW2_MAC" 10.0.9.1 "$GW2_V4" "$FLOOD" 1)"
note "$(nsx gw1 /usr/bin/python3 -I -S "$GUEST_LIB_DIR/esp_spray.py" v1 "$GW2_MAC" "$GW3_V4" "$GW2_V4" 0x7777 1 6)"
note "$(nsx gw1 /usr/bin/python3 -I -S "$GUEST_LIB_DIR/ike_send.py" v1 "$GW2_MAC" "$GW3_V4" "$GW2_V4" 1 4)"
note "$(nsx gw2 /usr/bin/python3 -I -S "$GUEST_LIB_DIR/ike_send.py" v2 "$GW1_MAC" "$GW2_V4" "$GW3_V4" 1 2)"
settle
ipsecmon_monitor_sync
ipsecmon_monitor_sync

check_eq "gw1: [sas, tunnels, tunnels_down, rx, tx, bad SPI, IKE]" \
	"[2,1,0,[$N,$((N * WIRE))],[$N,$((N * WIRE))],0,{\"rx\":0,\"tx\":0}]" \
	"$(peer "$GW1_V4" '[.sas, .tunnels, .tunnels_down, [.rx.packets, .rx.bytes], [.tx.packets, .tx.bytes], .bad_spi_packets, .ike_messages]')"
check_eq "gw1: last seen" true "$(peer "$GW1_V4" '.last_seen | type == "string"')"
check_eq "gw3: [sas, tunnels, tunnels_down, rx, tx, bad SPI, IKE]" \
	'[0,1,1,[0,0],[0,0],6,{"rx":4,"tx":2}]' \
	"$(peer "$GW3_V4" '[.sas, .tunnels, .tunnels_down, [.rx.packets, .rx.bytes], [.tx.packets, .tx.bytes], .bad_spi_packets, .ike_messages]')"
evicted=$(ipsecmon_q gw2 .datapath.ike_peer_evicted)
note "IKE peer slots taken over: $evicted (the hash is seeded per namespace; 30 addresses in 256 slots)"
# A hash that spreads one subnet's addresses: with 30 of them in 256 slots a
# handful of collisions at most (29 when the last byte did not reach the index).
check_eq "flood: at most 10 slots taken over" 1 "$((evicted <= 10))"
check_eq "flood sources listed: all but those whose slot another took" "$((FLOOD - evicted))" \
	"$(ipsecmon_q gw2 '[.peers[] | select(.address | startswith("10.0.9.")) | select(.ike_messages.rx == 1 and .ike_messages.tx == 0 and .sas == 0)] | length')"
check_eq "stats: every peer, none omitted" "[$((FLOOD - evicted + 2)),null]" \
	"$(ipsecmon_q gw2 '[(.peers | length), .peers_omitted]')"
total=$((FLOOD - evicted + 2))
# Complete lines only: the monitor may be writing one now.
last=$(head -n "$(wc -l <"$IPSECMON_MON_OUT")" "$IPSECMON_MON_OUT" |
	jq -sc '[.[] | select(.interfaces)] | last')
if ((total > 10)); then want="[10,$((total - 10))]"; else want="[$total,null]"; fi
check_eq "JSON line: 10 peers at most, the rest omitted" "$want" \
	"$(jq -c '[(.peers | length), .peers_omitted]' <<<"$last")"
check_eq "JSON line: the busiest (gw1) and the most troubled (gw3) among them" 2 \
	"$(jq --arg a "$GW1_V4" --arg b "$GW3_V4" '[.peers[] | select(.address == $a or .address == $b)] | length' <<<"$last")"
metrics=$(ipsecmon_metrics gw2 "$PROM")
check_eq "Prometheus: gw3's IKE messages rx, tx, bad-SPI packets" "4 2 6" \
	"$(awk -v p="peer=\"$GW3_V4\"" 'index($0, "ipsecmon_peer_ike_messages{" p ",direction=\"rx\"}") == 1 { r = $2 }
		index($0, "ipsecmon_peer_ike_messages{" p ",direction=\"tx\"}") == 1 { t = $2 }
		index($0, "ipsecmon_peer_bad_spi_packets{" p "}") == 1 { b = $2 }
		END { print r, t, b }' <<<"$metrics")"
check_eq "Prometheus: gw1's bytes rx" "$((N * WIRE))" \
	"$(awk -v p="ipsecmon_peer_bytes{peer=\"$GW1_V4\",direction=\"rx\"}" 'index($0, p) == 1 { print $2 }' <<<"$metrics")"
check_eq "Prometheus: no peer without series (fewer than 100)" 0 \
	"$(awk '$1 == "ipsecmon_peer_series_dropped" { print $2 }' <<<"$metrics")"

watch_start gw2 --interval 0.5
watch_wait 'Seq out'
watch_keys p
watch_wait "^ $GW3_V4 "
sed -n '11,21p' /tmp/pane | sed 's/^/#    watch: /'
if ((total > 9)); then want=": the most troubled and the busiest"; else want=""; fi
check_lines "watch, peers pane: the count" 1 /tmp/pane -E "^ PEERS $total$want\$"
check_eq "watch, peers pane: gw3 first, then gw1" "$GW3_V4 $GW1_V4" \
	"$(sed -n '13,14p' /tmp/pane | awk '{ printf "%s%s", n++ ? " " : "", $1 }')"
check_lines "watch, peers pane: gw3's row" 1 /tmp/pane \
	-E "^ $GW3_V4 +0 +0 B +0 B +6 +4/2 +[0-9:]+Z$"
check_lines "watch, peers pane: gw1's row" 1 /tmp/pane \
	-E "^ $GW1_V4 +2 +1\\.4 KiB +1\\.4 KiB +0 +0/0 +[0-9:]+Z$"
watch_stop
ipsecmon_monitor_stop
teardown_gateways
