#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Tunnels (README "Tunnels"): gw2 has an ESP pair with gw1 and a policy
# towards 10.0.0.3 that no SA serves (configured, down from the start).
# ipsecmon on gw2 must show the gw1 pair up with the exact wire counts of
# the pings; one way when gw1 drops its ESP (nft, postrouting) while gw2
# keeps sending, after --one-way-after intervals and through quiet ones;
# up again once replies come back; down when gw2's SAs of the pair are
# deleted and their policies kept, up when they are back. Each change is one
# tunnel_* event, and the counts and states are in Prometheus too.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib/guest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/guest.sh"

N=10
SPI12=0x1001
SPI21=0x2001
GW3_V4=10.0.0.3
# ESP transport, AES-CBC + HMAC-SHA256-128 around a 64-byte ICMP message.
WIRE=140
IPSECMON_MON_INTERVAL=0.5
PROM=127.0.0.1:9477

# tunnel NS REMOTE JQ: JQ applied to gw2's tunnel to REMOTE in stats; "absent" without one.
tunnel() {
	ipsecmon_q "$1" "[.tunnels[] | select(.remote == \"$2\")] | if length == 0 then \"absent\" else .[0] | $3 end"
}

# events NAME: the monitor's NAME events as [local, remote, state, sas].
events() {
	jq -sc --arg e "$1" '[.[] | select(.event == $e) | [.local, .remote, .state, .sas]]' \
		"$IPSECMON_MON_OUT"
}

# last_state REMOTE: the tunnel's state in the monitor's last JSON line.
last_state() {
	jq -sr --arg r "$1" '[.[] | select(.interfaces)] | last | .tunnels[] | select(.remote == $r) | .state' \
		"$IPSECMON_MON_OUT"
}
_last_state_is() { [[ $(last_state "$1") == "$2" ]]; }

setup_gateways
ipsec_pair cbc-sha256 "$SPI12" "$SPI21"
# Configured towards a gateway that never answered: a policy, no SA.
ip -n gw2 xfrm policy add src "$GW2_V4" dst "$GW3_V4" dir out priority 100 \
	tmpl src "$GW2_V4" dst "$GW3_V4" proto esp reqid 7 mode tunnel
if ! have_ipsecmon; then
	teardown_gateways
	exit 0
fi
ipsecmon_attach gw2 v2
check_eq "one reading: gw1 pair [mode, configured, sas, state, rx, tx]" \
	'["transport",true,2,"up",0,0]' \
	"$(tunnel gw2 "$GW1_V4" '[.mode, .configured, .sas, .state, .rx.packets, .tx.packets]')"
check_eq "one reading: gw3 pair [mode, configured, sas, state]" '["tunnel",true,0,"down"]' \
	"$(tunnel gw2 "$GW3_V4" '[.mode, .configured, .sas, .state]')"
check_eq "one reading: [tunnels_down, tunnels_one_way] (one way needs two readings)" '[1,null]' \
	"$(ipsecmon_q gw2 '[.ipsecmon.tunnels_down, .ipsecmon.tunnels_one_way]')"
ipsecmon_monitor gw2 v2 --one-way-after 3 --prometheus "$PROM"

# Both ways: the pings' exact wire counts.
check_eq "echo replies" "$N" "$(ping_n gw1 "$GW2_V4" "$N")"
settle
ipsecmon_monitor_sync
check_eq "both ways: gw1 pair rx/tx [packets, bytes, from]" \
	"[[$N,$((N * WIRE)),\"wire\"],[$N,$((N * WIRE)),\"wire\"]]" \
	"$(tunnel gw2 "$GW1_V4" '[.rx, .tx | [.packets, .bytes, .from]]')"
wait_for 10 _last_state_is "$GW1_V4" idle || true
check_eq "both ways, then quiet: the monitor's state" idle "$(last_state "$GW1_V4")"

# gw1 drops what it sends gw2: gw2's pings go out, no reply comes back.
nsx gw1 nft -f - <<NFT
table ip ipsecmon_oneway {
	chain post {
		type filter hook postrouting priority 0; policy accept;
		ip daddr $GW2_V4 meta l4proto esp drop
	}
}
NFT
# 10 s of requests: 3 intervals of one-way traffic even when a loaded host
# stretches the monitor's intervals.
bg ip netns exec gw2 ping -n -q -c 25 -i 0.4 -W 1 "$GW1_V4"
wait_for 20 _last_state_is "$GW1_V4" one_way || true
check_eq "one way: the monitor's state" one_way "$(last_state "$GW1_V4")"
check_eq "one way: ipsecmon.tunnels_one_way in the last line" 1 \
	"$(jq -s '[.[] | select(.interfaces)] | last | .ipsecmon.tunnels_one_way' "$IPSECMON_MON_OUT")"
check_eq "one way: Prometheus state" 1 \
	"$(ipsecmon_metrics gw2 "$PROM" | grep -F "ipsecmon_tunnel_state{local=\"$GW2_V4\",remote=\"$GW1_V4\",state=\"one_way\"} " | awk '{ print $2 }')"
check_eq "one way: Prometheus ipsecmon_tunnels_one_way" 1 \
	"$(ipsecmon_metrics gw2 "$PROM" | awk '$1 == "ipsecmon_tunnels_one_way" { print $2 }')"
wait_for 20 bash -c '! pgrep -x ping' || true
ipsecmon_monitor_sync
ipsecmon_monitor_sync
check_eq "one way, then quiet: still one way" one_way "$(last_state "$GW1_V4")"
check_eq "one way: rx stayed, tx grew by the 25 requests" "[$N,$((N + 25))]" \
	"$(tunnel gw2 "$GW1_V4" '[.rx.packets, .tx.packets]')"

# Replies again: up.
nsx gw1 nft delete table ip ipsecmon_oneway
check_eq "after the drop: echo replies" "$N" "$(ping_n gw2 "$GW1_V4" "$N")"
ipsecmon_monitor_sync
ipsecmon_monitor_sync

# The pair's SAs go on gw2, its policies stay: down; back: up.
sa_del gw2 "$GW1_V4" "$GW2_V4" esp "$SPI12"
sa_del gw2 "$GW2_V4" "$GW1_V4" esp "$SPI21"
wait_for 10 _last_state_is "$GW1_V4" down || true
check_eq "SAs deleted, policies kept: [configured, sas, state]" '[true,0,"down"]' \
	"$(tunnel gw2 "$GW1_V4" '[.configured, .sas, .state]')"
check_eq "SAs deleted: ipsecmon.tunnels_down" 2 "$(ipsecmon_q gw2 .ipsecmon.tunnels_down)"
note "stats --json, tunnels: $(ipsecmon_q gw2 .tunnels)"
check_eq "SAs deleted: Prometheus ipsecmon_tunnels_down" 2 \
	"$(ipsecmon_metrics gw2 "$PROM" | awk '$1 == "ipsecmon_tunnels_down" { print $2 }')"
# Back as a new negotiation would make them: fresh on both sides (gw1's
# inbound SA would take gw2's restarted sequence numbers for replays).
sa_del gw1 "$GW1_V4" "$GW2_V4" esp "$SPI12"
sa_del gw1 "$GW2_V4" "$GW1_V4" esp "$SPI21"
for ns in gw1 gw2; do
	sa_add "$ns" cbc-sha256 "$GW1_V4" "$GW2_V4" "$SPI12"
	sa_add "$ns" cbc-sha256 "$GW2_V4" "$GW1_V4" "$SPI21"
done
check_eq "SAs back: echo replies" "$N" "$(ping_n gw1 "$GW2_V4" "$N")"
ipsecmon_monitor_sync
ipsecmon_monitor_sync

# The live window's tunnels pane (key t), from watch's own two readings.
watch_start gw2 --interval 0.5
watch_wait 'Seq out'
watch_keys t
watch_wait '^ TUNNELS 2: up 0, idle 1, one way 0, down 1$'
sed 's/^/#    watch: /' /tmp/pane
check_lines "watch, tunnels pane: the count by state" 1 /tmp/pane \
	-E '^ TUNNELS 2: up 0, idle 1, one way 0, down 1$'
check_lines "watch, tunnels pane: the down pair first" 1 /tmp/pane \
	-E "^ $GW2_V4 > $GW3_V4 +down +0 +0\.0 +0\.0\$"
check_lines "watch, tunnels pane: the gw1 pair" 1 /tmp/pane \
	-E "^ $GW2_V4 > $GW1_V4 +idle +2 +0\.0 +0\.0\$"
check_eq "watch, tunnels pane: 24 lines" 24 "$(wc -l </tmp/pane)"
watch_stop

jq -c 'select(.event and (.event | startswith("tunnel_")))' "$IPSECMON_MON_OUT" | sed 's/^/#    event: /'
check_eq "tunnel_one_way events [local, remote, state, sas]" \
	"[[\"$GW2_V4\",\"$GW1_V4\",\"one_way\",2]]" "$(events tunnel_one_way)"
# The interval before one way had one-way traffic too, short of 3: up.
check_eq "tunnel_one_way: previous state" '["up"]' \
	"$(jq -sc '[.[] | select(.event == "tunnel_one_way") | .previous]' "$IPSECMON_MON_OUT")"
# gw3's pair was down from the first reading: no event for it.
check_eq "tunnel_down events [local, remote, state, sas]" \
	"[[\"$GW2_V4\",\"$GW1_V4\",\"down\",0]]" "$(events tunnel_down)"
check_eq "tunnel_down: previous state idle or up" 1 \
	"$(jq -s '[.[] | select(.event == "tunnel_down") | .previous | select(. == "idle" or . == "up")] | length' "$IPSECMON_MON_OUT")"
check_eq "tunnel_up events [remote, previous]" "[[\"$GW1_V4\",\"one_way\"],[\"$GW1_V4\",\"down\"]]" \
	"$(jq -sc '[.[] | select(.event == "tunnel_up") | [.remote, .previous]]' "$IPSECMON_MON_OUT")"
check_eq "gw3 pair down all along [state, sas]" '["down",0]' "$(tunnel gw2 "$GW3_V4" '[.state, .sas]')"
check_eq "ipsecmon totals never went down" 1 "$(ipsecmon_monotonic)"
ipsecmon_monitor_stop
teardown_gateways
