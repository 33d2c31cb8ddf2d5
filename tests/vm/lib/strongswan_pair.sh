# SPDX-License-Identifier: GPL-2.0
#
# The strongSwan IKEv2 rekey scenario, for one address family: sourced by
# scenarios/strongswan_rekey.sh (SWAN_AF=4) and strongswan_ipv6.sh
# (SWAN_AF=6) after guest.sh. The IPv6 run also checks the outbound SA and
# that no IPv4 packet was seen.
# shellcheck shell=bash

case ${SWAN_AF:?} in
4) GW1_ADDR=$GW1_V4 GW2_ADDR=$GW2_V4 SWAN_PLEN=32 ;;
6) GW1_ADDR=$GW1_V6 GW2_ADDR=$GW2_V6 SWAN_PLEN=128 ;;
*) fail "SWAN_AF" "4 or 6" "$SWAN_AF"; exit 1 ;;
esac

N=6

setup_gateways
if have_ipsecmon; then
	ipsecmon_attach gw2 v2
	# The wire's own count of IKE messages arriving on v2, to hold the
	# monitor's IKE counters against (charon leaves retransmits out).
	ip netns exec gw2 tcpdump -i v2 -Q in -n -U -w /tmp/ike.pcap 'udp port 500' 2>/dev/null &
	TCPDUMP_PID=$!
	wait_for 10 test -s /tmp/ike.pcap
	# The monitor from before IKE: every SA comes as an event.
	ipsecmon_monitor gw2 v2
fi
charon_start gw1 "$(swanctl_psk_conf gw1 "$GW1_ADDR" gw2 "$GW2_ADDR" "$GW1_ADDR/$SWAN_PLEN" "$GW2_ADDR/$SWAN_PLEN")"
charon_start gw2 "$(swanctl_psk_conf gw2 "$GW2_ADDR" gw1 "$GW1_ADDR" "$GW2_ADDR/$SWAN_PLEN" "$GW1_ADDR/$SWAN_PLEN")"

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
note "SPIs before rekey: $old"

# The inbound SA on gw2 is the one whose destination is gw2.
in_spi() { ip -n gw2 xfrm state list dst "$GW2_ADDR" proto esp | awk '$1 == "proto" { print $4 }'; }
out_spi() { ip -n gw2 xfrm state list src "$GW2_ADDR" proto esp | awk '$1 == "proto" { print $4 }'; }

spi_in=$(in_spi)
spi_out=$(out_spi)
check_eq "echo replies before rekey" "$N" "$(ping_n gw1 "$GW2_ADDR" "$N")"
settle
check_eq "gw2 in SA $spi_in packets before rekey" "$N" "$(sa_stat gw2 esp "$spi_in" packets)"
if have_ipsecmon; then
	ipsecmon_monitor_sync
	check_eq "ipsecmon after IKE_AUTH [active SAs, tunnels, additions, deletions, rekeys]" \
		"[2,1,2,0,0]" "$(ipsecmon_q gw2 '.ipsecmon | [.active_sas, .active_tunnels,
			.key_additions, .key_deletions, .rekeys]')"
	check_eq "ipsecmon in SA $spi_in [known, mode, wire, kernel packets]" \
		"[true,\"tunnel\",$N,$(sa_stat gw2 esp "$spi_in" packets)]" \
		"$(ipsecmon_sa gw2 "$spi_in" rx '[.known, .mode, .packets, .kernel.packets]')"
	if [[ $SWAN_AF == 6 ]]; then
		check_eq "ipsecmon out SA $spi_out [family, wire, kernel packets]" \
			"[\"ipv6\",$N,$(sa_stat gw2 esp "$spi_out" packets)]" \
			"$(ipsecmon_sa gw2 "$spi_out" tx '[.family, .packets, .kernel.packets]')"
	fi
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
	check_eq "old SPI $s gone from gw1" absent "$(sa_stat gw1 esp "$s" packets)"
	check_eq "old SPI $s gone from gw2" absent "$(sa_stat gw2 esp "$s" packets)"
done

old_in=$spi_in
old_out=$spi_out
spi_in=$(in_spi)
spi_out=$(out_spi)
check_eq "echo replies after rekey" "$N" "$(ping_n gw1 "$GW2_ADDR" "$N")"
settle
check_eq "gw2 new in SA $spi_in packets" "$N" "$(sa_stat gw2 esp "$spi_in" packets)"
if have_ipsecmon; then
	ipsecmon_monitor_sync
	# Two new SAs (one per direction) replaced two old ones of the same CHILD_SA.
	check_eq "ipsecmon after rekey [active SAs, additions, deletions, rekeys, bad SPIs]" \
		"[2,4,2,2,0]" "$(ipsecmon_q gw2 '.ipsecmon | [.active_sas, .key_additions,
			.key_deletions, .rekeys, .bad_spi_packets]')"
	check_eq "ipsecmon new in SA $spi_in [known, wire, kernel packets]" \
		"[true,$N,$(sa_stat gw2 esp "$spi_in" packets)]" \
		"$(ipsecmon_sa gw2 "$spi_in" rx '[.known, .packets, .kernel.packets]')"
	if [[ $SWAN_AF == 6 ]]; then
		check_eq "ipsecmon new out SA $spi_out [known, wire, kernel packets]" \
			"[true,$N,$(sa_stat gw2 esp "$spi_out" packets)]" \
			"$(ipsecmon_sa gw2 "$spi_out" tx '[.known, .packets, .kernel.packets]')"
		check_eq "ipsecmon datapath bad SPIs, bad_spis rows" "[0,0]" \
			"$(ipsecmon_q gw2 '[.datapath.bad_spi_packets, (.bad_spis | length)]')"
		check_eq "ipsecmon IPv6 rx esp packets, IPv4 rx packets of any class" "[$((2 * N)),0]" \
			"$(ipsecmon_q gw2 '[.traffic.rx.esp.ipv6.packets, ([.traffic.rx[].ipv4.packets] | add)]')"
	fi
	# Both SAs' wire bytes, the old one folded and the new one live.
	check_eq "ipsecmon tunnel bytes received = wire ESP bytes" \
		"$(ipsecmon_q gw2 .traffic.rx.esp.bytes)" "$(ipsecmon_q gw2 .ipsecmon.tunnel_bytes_received)"
	note "monitor events: $(jq -c 'select(.event) | [.event, .spi, .dir, .reqid]' "$IPSECMON_MON_OUT" | tr '\n' ' ')"
	check_eq "ipsecmon sa_rekeyed events" 2 \
		"$(jq -c 'select(.event == "sa_rekeyed")' "$IPSECMON_MON_OUT" | wc -l)"
	# Nothing was sent during the rekey: nothing early or late on gw2's inbound SAs.
	check_eq "ipsecmon sa_rekeyed [dir, old_spi, new_spi, early, late]" \
		"[[\"rx\",\"$old_in\",\"$spi_in\",0,0],[\"tx\",\"$old_out\",\"$spi_out\",null,null]]" \
		"$(jq -sc '[.[] | select(.event == "sa_rekeyed") | [.dir, .old_spi, .new_spi,
			.early_packets, .old_spi_packets_after]] | sort' "$IPSECMON_MON_OUT")"
	check_eq "ipsecmon sa_rekeyed overlap_seconds, both at least 0" true \
		"$(jq -s '[.[] | select(.event == "sa_rekeyed") | .overlap_seconds | numbers | select(. >= 0)] | length == 2' "$IPSECMON_MON_OUT")"
	check_eq "ipsecmon [rekey_early_packets, rekey_late_packets]" "[0,0]" \
		"$(ipsecmon_q gw2 '[.ipsecmon.rekey_early_packets, .ipsecmon.rekey_late_packets]')"
	check_eq "ipsecmon totals never went down" 1 "$(ipsecmon_monotonic)"
	ipsecmon_monitor_stop
fi
check_eq "gw1 xfrm_stat errors" none "$(xfrm_errors gw1)"
check_eq "gw2 xfrm_stat errors" none "$(xfrm_errors gw2)"
check_eq "gw1 charon child-rekey counter" 1 "$(ike_counter gw1 child-rekey)"
check_eq "gw2 charon child-rekey counter" 1 "$(ike_counter gw2 child-rekey)"
if have_ipsecmon; then
	check_eq "ipsecmon gw2 rx esp packets" "$((2 * N))" "$(ipsecmon_rx gw2 esp)"
	kill -INT "$TCPDUMP_PID"
	wait "$TCPDUMP_PID" || true
	wire_ike=$(tcpdump -r /tmp/ike.pcap -n 2>/dev/null | wc -l)
	# charon counts messages it processed; a retransmit under this slow
	# emulation is on the wire (and in our count) but not in charon's.
	note "gw2 charon processed $(ike_counter gw2 in) IKE messages, $wire_ike arrived on v2"
	check_eq "ipsecmon gw2 rx ike packets = IKE packets tcpdump saw" "$wire_ike" \
		"$(ipsecmon_rx gw2 ike)"
	check_eq "ipsecmon gw2 IKEv2 requests received >= charon's" 1 \
		"$("$IPSECMON_BIN" stats --json --netns gw2 --pin-dir "$_IPSECMON_PIN" |
			jq --argjson c "$(ike_counter gw2 in)" '.ike.ikev2.rx | [.[].requests] | add >= $c | if . then 1 else 0 end')"
fi
