#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# IKE health (README "IKE health"), ipsecmon on gw2 (v2: XDP in, TC out).
# First hand-made IKEv2 messages from gw1: a request three times and again
# with a cookie (longer: no retransmit), IKE_SA_INIT responses with each
# refusing notify (one of them resent), one answered with status notifies
# only and no IKE_AUTH ever, one answered and then its IKE_AUTH (which
# also comes in two fragments alike but for their number, the second
# resent). Then strongSwan: gw1 proposes what gw2 does not have
# (NO_PROPOSAL_CHOSEN),
# then a DH group gw2 does not take first (INVALID_KE_PAYLOAD, then the
# tunnel comes up), then gw1 loses its IKE_AUTH (nft on its output): a
# half-open IKE SA on gw2. Each count exact, retransmits and notifies equal
# to tcpdump's capture on v2, in stats, JSON lines, Prometheus and watch.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib/guest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/guest.sh"

AFTER=4
PROM=127.0.0.1:9478
IPSECMON_MON_INTERVAL=0.5
PCAP=/tmp/ike_health.pcap
TS1=$GW1_V4/32
TS2=$GW2_V4/32

q() {
	"$IPSECMON_BIN" stats --json --half-open-after "$AFTER" --netns gw2 \
		--pin-dir "$_IPSECMON_PIN" | jq -rc "$1"
}
# [retransmits rx, tx, [notifies], half-open, awaiting IKE_AUTH, IKE_AUTH seen]
health() {
	q '.ike | [.retransmits_by_direction.rx, .retransmits_by_direction.tx,
		(.ikev2.notify | [.no_proposal_chosen, .invalid_ke_payload, .cookie,
			.invalid_syntax, .other]),
		.half_open, .ike_sas.awaiting_auth, .ike_sas.auth_seen]'
}
_half_open_is() { [[ $(q .ike.half_open) == "$1" ]]; }
# gw1_conf PROPOSALS: gw1's swanctl.conf with those IKE proposals.
gw1_conf() { SWAN_PROPOSALS=$1 swanctl_psk_conf gw1 "$GW1_V4" gw2 "$GW2_V4" "$TS1" "$TS2"; }
gw1_reload() {
	gw1_conf "$1" >"$SS_DIR/gw1/swanctl/swanctl.conf"
	swanctl_ns gw1 --load-all --file "$SS_DIR/gw1/swanctl/swanctl.conf" >/dev/null
}

setup_gateways
if ! have_ipsecmon; then
	teardown_gateways
	exit 0
fi
ipsecmon_attach gw2 v2
rm -f "$PCAP"
bg ip netns exec gw2 tcpdump -i v2 -n -U -w "$PCAP" 'udp port 500' 2>/dev/null
TCPDUMP_PID=$!
wait_for 10 test -s "$PCAP"
ipsecmon_monitor gw2 v2 --half-open-after "$AFTER" --prometheus "$PROM"

note "$(nsx gw1 /usr/bin/python3 -I -S "$GUEST_LIB_DIR/ike_msgs.py" v1 "$GW2_MAC" "$GW1_V4" "$GW2_V4" \
	init-req/a1/0/sa,ke,nonce/3 init-req/a1/0/n16390,sa,ke,nonce/1 \
	init-resp/a2/0/n14/1 init-resp/a3/0/n17/2 init-resp/a4/0/n16390/1 \
	init-resp/a5/0/n7/1 init-resp/a6/0/n24/1 \
	init-resp/a7/b7/sa,ke,nonce,n16388,n16389/1 \
	init-resp/a8/b8/sa,ke,nonce/1 auth-req/a8/b8/sk/1 \
	auth-req/a8/b8/skf1/1 auth-req/a8/b8/skf2/2)"
settle
check_eq "hand-made: [retx rx, tx, notifies, half-open, awaiting, IKE_AUTH seen]" \
	'[4,0,[1,1,1,1,1],0,1,1]' "$(health)"
wait_for 20 _half_open_is 1 || true
check_eq "hand-made, $AFTER s on: the unauthenticated one half-open" \
	'[4,0,[1,1,1,1,1],1,0,1]' "$(health)"
check_eq "hand-made: IKE SAs tracked, table size" '[2,4096]' "$(q '.ike.ike_sas | [.tracked, .max]')"

# strongSwan: gw2 offers aes128-sha256-modp2048 only.
charon_start gw1 "$(gw1_conf aes256-sha384-modp2048)"
charon_start gw2 "$(swanctl_psk_conf gw2 "$GW2_V4" gw1 "$GW1_V4" "$TS2" "$TS1")"
if swanctl_ns gw1 --initiate --child net --timeout 30 >/tmp/initiate.log 2>&1; then
	check_eq "initiate with a proposal gw2 has not" failed ok
fi
check_eq "no proposal: one more no_proposal_chosen, nothing tracked" \
	'[[2,1,1,1,1],1,0,1]' "$(health | jq -c '.[2:]')"

# Two groups, the first one gw2 does not take: INVALID_KE_PAYLOAD, then up.
gw1_reload aes128-sha256-modp3072-modp2048
if ! swanctl_ns gw1 --initiate --child net --timeout 60 >/tmp/initiate.log 2>&1; then
	cat /tmp/initiate.log
	charon_log gw1
	charon_log gw2
	check_eq "initiate with modp3072 first" ok failed
fi
note "gw1: $(grep -h 'IKE_SA_INIT response\|DH group' "$SS_DIR/gw1/charon.log" | tail -3 | tr '\n' ' ')"
settle
check_eq "wrong DH group: one more invalid_ke_payload, one more IKE_AUTH seen" \
	'[[2,2,1,1,1],1,0,2]' "$(health | jq -c '.[2:]')"

# gw1 loses its IKE_AUTH (exchange type 35, 18 bytes into the IKE header).
swanctl_ns gw1 --terminate --ike gw --timeout 20 >/dev/null 2>&1 || true
gw1_reload aes128-sha256-modp2048
nsx gw1 nft -f - <<NFT
table ip ipsecmon_ike {
	chain out {
		type filter hook output priority 0; policy accept;
		udp dport 500 @th,208,8 35 drop
	}
}
NFT
swanctl_ns gw1 --initiate --child net --timeout 3 >/dev/null 2>&1 || true
wait_for 30 _half_open_is 2 || true
check_eq "IKE_AUTH lost: a second half-open IKE SA" '[[2,2,1,1,1],2,0,2]' \
	"$(health | jq -c '.[2:]')"

ipsecmon_monitor_sync
kill -INT "$TCPDUMP_PID" 2>/dev/null || true
wait "$TCPDUMP_PID" || true
wire=$(/usr/bin/python3 -I -S "$GUEST_LIB_DIR/ike_pcap.py" "$PCAP" "$GW2_V4" | jq -cS .)
note "the wire: $wire"
check_eq "retransmits and notifies = tcpdump's" "$wire" \
	"$(q '.ike | {retransmits: .retransmits_by_direction, notify: .ikev2.notify}' | jq -cS .)"
check_eq "retransmits received: the 4 hand-made ones at least" 1 \
	"$(q 'if .ike.retransmits_by_direction.rx >= 4 then 1 else 0 end')"
check_eq "retransmits = rx + tx" true \
	"$(q '.ike | .retransmits == .retransmits_by_direction.rx + .retransmits_by_direction.tx')"

# Complete lines only: the monitor may be writing one now.
lines=$(head -n "$(wc -l <"$IPSECMON_MON_OUT")" "$IPSECMON_MON_OUT" |
	jq -sc '[.[] | select(.interfaces)] | .[-2:]')
check_eq "JSON line: [half-open, notifies, delta of retransmits = the last two lines' difference]" \
	'[2,[2,2,1,1,1],true]' \
	"$(jq -c '.[0] as $p | .[1] | [.ike.half_open, (.ike.ikev2.notify | [.[]]),
		.delta.ike.retransmits == .ike.retransmits - $p.ike.retransmits]' <<<"$lines")"
note "sample: $(q '.ike | {retransmits, retransmits_by_direction, notify: .ikev2.notify, half_open, ike_sas}')"
metrics=$(ipsecmon_metrics gw2 "$PROM")
grep -E '^ipsecmon_ike_(retransmits|notify|half_open|awaiting|sas)' <<<"$metrics" |
	sed 's/^/#    sample: /' || true
check_eq "Prometheus: notifies no_proposal_chosen, invalid_ke_payload, cookie" "2 2 1" \
	"$(awk 'index($0, "ipsecmon_ike_notify_total{interface=\"v2\",notify=\"no_proposal_chosen\"}") == 1 { a = $2 }
		index($0, "ipsecmon_ike_notify_total{interface=\"v2\",notify=\"invalid_ke_payload\"}") == 1 { b = $2 }
		index($0, "ipsecmon_ike_notify_total{interface=\"v2\",notify=\"cookie\"}") == 1 { c = $2 }
		END { print a, b, c }' <<<"$metrics")"
check_eq "Prometheus: half-open, retransmits received" "2 $(q .ike.retransmits_by_direction.rx)" \
	"$(awk '$1 == "ipsecmon_ike_half_open" { h = $2 }
		index($0, "ipsecmon_ike_retransmits_total{interface=\"v2\",direction=\"rx\"}") == 1 { r = $2 }
		END { print h, r }' <<<"$metrics")"

rx=$(q .ike.retransmits_by_direction.rx)
tx=$(q .ike.retransmits_by_direction.tx)
watch_start gw2 --interval 0.5 --half-open-after "$AFTER"
watch_wait 'Seq out'
watch_keys p
watch_wait '^ IKE retx'
check_lines "watch, peers pane: the IKE health line" 1 /tmp/pane \
	-E "^ IKE retx $rx/$tx half-open 2 \\| NOTIFY proposal 2 ke 2 cookie 1 syntax 1 other 1\$"
sed -n '11,24p' /tmp/pane | sed 's/^/#    watch: /'
watch_stop

nsx gw1 nft delete table ip ipsecmon_ike
ipsecmon_monitor_stop
teardown_gateways
