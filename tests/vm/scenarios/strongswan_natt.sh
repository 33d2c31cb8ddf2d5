#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# NAT traversal with strongSwan: gw1 sits behind a masquerading router (mid),
# both charons have `encap = yes`, and charon sends NAT keepalives every 2 s.
# On gw2's v2 ipsecmon must see ESP-in-UDP on port 4500 (counted per SA, the
# rows marked udp), IKE on 4500 behind the non-ESP marker as ike, the 1-byte
# 0xff keepalives as nat_keepalive — each exactly as tcpdump counts it on the
# same interface — and a forced rekey with exact additions, deletions and
# rekeys and no bad SPI.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib/guest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/guest.sh"

N=6
NAT=$R_MID2_V4 # gw1 as gw2 sees it

# What tcpdump saw arriving on gw2's v2, by the same rules as the datapath:
# UDP 500, or 4500 with the non-ESP marker, is IKE; a 1-byte 0xff datagram
# on 4500 is a keepalive; the rest of 4500 is ESP-in-UDP.
wire_count() {
	local f
	case $1 in
	ike) f='udp dst port 500 or (udp dst port 4500 and udp[4:2] > 11 and udp[8:4] = 0)' ;;
	keepalive) f='udp dst port 4500 and udp[4:2] = 9 and udp[8] = 0xff' ;;
	esp_in_udp) f='udp dst port 4500 and udp[4:2] > 16 and udp[8:4] != 0' ;;
	esac
	tcpdump -r /tmp/natt.pcap -n "$f" 2>/dev/null | wc -l
}

in_spi() { ip -n gw2 xfrm state list dst "$R_GW2_V4" proto esp | awk '$1 == "proto" { print $4 }'; }
out_spi() { ip -n gw2 xfrm state list src "$R_GW2_V4" proto esp | awk '$1 == "proto" { print $4 }'; }

setup_routed --nat
if have_ipsecmon; then
	ipsecmon_attach gw2 v2
	ip netns exec gw2 tcpdump -i v2 -Q in -n -U -w /tmp/natt.pcap 'udp' 2>/dev/null &
	TCPDUMP_PID=$!
	wait_for 10 test -s /tmp/natt.pcap
	ipsecmon_monitor gw2 v2
fi
# encap = yes: ESP in UDP even where no NAT is detected (here there is one).
charon_start gw1 "$(swanctl_psk_conf gw1 "$R_GW1_V4" gw2 "$R_GW2_V4" "$R_GW1_V4/32" "$R_GW2_V4/32" \
	'encap = yes')" \
	'keep_alive = 2s'
charon_start gw2 "$(swanctl_psk_conf gw2 "$R_GW2_V4" gw1 %any "$R_GW2_V4/32" "$R_GW1_V4/32" \
	'encap = yes')" \
	'keep_alive = 2s'

if ! swanctl_ns gw1 --initiate --child net --timeout 30 >/tmp/initiate.log 2>&1; then
	cat /tmp/initiate.log
	charon_log gw1
	charon_log gw2
	check_eq "swanctl --initiate" ok failed
	exit 1
fi

old=$(spis gw2 esp)
check_eq "ESP SAs after IKE_AUTH (gw1 vs gw2)" "$old" "$(spis gw1 esp)"
check_eq "ESP SAs after IKE_AUTH" 2 "$(count_words "$old")"
check_eq "gw2 in SA: from the NAT's address, UDP-encapsulated on 4500" \
	"$NAT espinudp 4500 4500" \
	"$(ip -n gw2 xfrm state list dst "$R_GW2_V4" proto esp |
		awk '$1 == "src" { s = $2 } $1 == "encap" { print s, $3, $5, $7 }')"
note "SPIs before rekey: $old"

spi_in=$(in_spi)
spi_out=$(out_spi)
check_eq "echo replies before rekey" "$N" "$(ping_n gw1 "$R_GW2_V4" "$N")"
settle
check_eq "gw2 in SA $spi_in packets before rekey" "$N" "$(sa_stat gw2 esp "$spi_in" packets)"
if have_ipsecmon; then
	ipsecmon_monitor_sync
	check_eq "ipsecmon after IKE_AUTH [active SAs, tunnels, additions, deletions, rekeys]" \
		"[2,1,2,0,0]" "$(ipsecmon_q gw2 '.ipsecmon | [.active_sas, .active_tunnels,
			.key_additions, .key_deletions, .rekeys]')"
	check_eq "ipsecmon in SA $spi_in [known, encap, kernel encap, wire, kernel packets]" \
		"[true,\"udp\",\"espinudp\",$N,$N]" \
		"$(ipsecmon_sa gw2 "$spi_in" rx '[.known, .encap, .kernel.encap, .packets, .kernel.packets]')"
	check_eq "ipsecmon out SA $spi_out [known, encap, wire, kernel packets]" \
		"[true,\"udp\",$N,$(sa_stat gw2 esp "$spi_out" packets)]" \
		"$(ipsecmon_sa gw2 "$spi_out" tx '[.known, .encap, .packets, .kernel.packets]')"
fi

# Idle: charon behind the NAT keeps its mapping open with keepalives.
_keepalive_seen() { (($(ipsecmon_rx gw2 nat_keepalive) > 0)); }
if have_ipsecmon; then
	wait_for 12 _keepalive_seen || true
fi

swanctl_ns gw1 --rekey --child net >/dev/null
if ! wait_for 20 both_have_two_new "$old"; then
	charon_log gw1
	charon_log gw2
fi
new=$(spis gw2 esp)
note "SPIs after rekey: $new"
check_eq "ESP SAs after rekey (gw1 vs gw2)" "$new" "$(spis gw1 esp)"
check_eq "ESP SAs after rekey" 2 "$(count_words "$new")"
for s in $old; do
	check_eq "old SPI $s gone from gw2" absent "$(sa_stat gw2 esp "$s" packets)"
done

spi_in=$(in_spi)
spi_out=$(out_spi)
check_eq "echo replies after rekey" "$N" "$(ping_n gw1 "$R_GW2_V4" "$N")"
settle
check_eq "gw2 new in SA $spi_in packets" "$N" "$(sa_stat gw2 esp "$spi_in" packets)"
check_eq "gw1 xfrm_stat errors" none "$(xfrm_errors gw1)"
check_eq "gw2 xfrm_stat errors" none "$(xfrm_errors gw2)"
check_eq "gw1 charon child-rekey counter" 1 "$(ike_counter gw1 child-rekey)"
check_eq "gw2 charon child-rekey counter" 1 "$(ike_counter gw2 child-rekey)"
if have_ipsecmon; then
	ipsecmon_monitor_sync
	check_eq "ipsecmon after rekey [active SAs, additions, deletions, rekeys, bad SPIs]" \
		"[2,4,2,2,0]" "$(ipsecmon_q gw2 '.ipsecmon | [.active_sas, .key_additions,
			.key_deletions, .rekeys, .bad_spi_packets]')"
	check_eq "ipsecmon new in SA $spi_in [known, encap, wire, kernel packets]" \
		"[true,\"udp\",$N,$(sa_stat gw2 esp "$spi_in" packets)]" \
		"$(ipsecmon_sa gw2 "$spi_in" rx '[.known, .encap, .packets, .kernel.packets]')"
	check_eq "ipsecmon new out SA $spi_out [known, encap, wire, kernel packets]" \
		"[true,\"udp\",$N,$(sa_stat gw2 esp "$spi_out" packets)]" \
		"$(ipsecmon_sa gw2 "$spi_out" tx '[.known, .encap, .packets, .kernel.packets]')"
	check_eq "ipsecmon datapath bad SPIs, bad_spis rows, plain esp rx" "[0,0,0]" \
		"$(ipsecmon_q gw2 '[.datapath.bad_spi_packets, (.bad_spis | length), .traffic.rx.esp.packets]')"
	check_eq "ipsecmon tunnel bytes received = wire ESP-in-UDP bytes" \
		"$(ipsecmon_q gw2 .traffic.rx.esp_in_udp.bytes)" "$(ipsecmon_q gw2 .ipsecmon.tunnel_bytes_received)"
	check_eq "ipsecmon sa_rekeyed events" 2 \
		"$(jq -c 'select(.event == "sa_rekeyed")' "$IPSECMON_MON_OUT" | wc -l)"
	check_eq "ipsecmon totals never went down" 1 "$(ipsecmon_monotonic)"
	ipsecmon_monitor_stop

	# Freeze the wire (mid forwards nothing more: no keepalive can slip in
	# between tcpdump's end and ipsecmon's read), then compare class by class.
	nsx mid nft -f - <<-EOF
		table ip ipsecmon_freeze {
			chain hold {
				type filter hook forward priority filter; policy drop;
			}
		}
	EOF
	sleep 0.5
	kill -INT "$TCPDUMP_PID"
	wait "$TCPDUMP_PID" || true
	note "on v2: $(wire_count ike) IKE, $(wire_count keepalive) keepalives, $(wire_count esp_in_udp) ESP-in-UDP"
	check_eq "ipsecmon gw2 rx esp_in_udp packets = tcpdump's = pings" "$((2 * N)) $((2 * N))" \
		"$(wire_count esp_in_udp) $(ipsecmon_rx gw2 esp_in_udp)"
	check_eq "ipsecmon gw2 rx ike packets = tcpdump's" "$(wire_count ike)" "$(ipsecmon_rx gw2 ike)"
	check_eq "ipsecmon gw2 rx nat_keepalive packets = tcpdump's" "$(wire_count keepalive)" \
		"$(ipsecmon_rx gw2 nat_keepalive)"
	check_eq "NAT keepalives seen" 1 "$(($(ipsecmon_rx gw2 nat_keepalive) > 0))"
	check_eq "ipsecmon gw2 IKE on 4500 (non-ESP marker) seen" 1 \
		"$(($(tcpdump -r /tmp/natt.pcap -n 'udp dst port 4500 and udp[8:4] = 0' 2>/dev/null | wc -l) > 0))"
	check_eq "ipsecmon gw2 unparsed IKE" 0 "$(ipsecmon_q gw2 .ike.unparsed)"
fi
