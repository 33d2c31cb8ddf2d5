#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Sequence exhaustion: gw2's outbound SA of an IPv4 pair starts 3,000
# numbers before the 32-bit end (replay-oseq); an IPv6 pair with ESN starts
# at the same low half. gw1 pings gw2 at 10 per second, so gw2 answers on
# its outbound SAs at that rate. ipsecmon on gw2 must report the kernel's
# output sequence number exactly (seq_out), ESN per SA, time to exhaustion
# from the rate of the last interval (about 300 s, none for the ESN SA, none
# from a single reading, none once idle), one seq_exhaustion_near event for
# the SA under `run --seq-warn 600` and none for the others, and `check
# --seq-exhaustion` WARNING while the traffic runs.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib/guest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/guest.sh"

LIMIT=4294967295
START=$((LIMIT - 3000))
N=60
SPI12=0x3001 SPI21=0x3002 ESN12=0x3101 ESN21=0x3102
IPSECMON_MON_INTERVAL=1

# kernel_oseq NS SPI: the SA's output sequence number as ip -s xfrm shows it.
kernel_oseq() {
	local hex
	hex=$(ip -n "$1" -s xfrm state | awk -v spi="$(printf '0x%08x' "$2")" '
		$0 ~ "spi " spi { on = 1 } on && /oseq/ {
			for (i = 1; i < NF; i++) if ($i == "oseq") { v = $(i + 1); sub(",", "", v); print v; exit }
		}')
	printf '%d' "$hex"
}

setup_gateways
ipsec_pair cbc-sha256 "$SPI12" "$SPI21" --oseq "$START"
ipsec_pair cbc-sha256 "$ESN12" "$ESN21" --v6 --esn --oseq "$START"
check_eq "gw2 out $SPI21 oseq as installed" "$START" "$(kernel_oseq gw2 "$SPI21")"
if have_ipsecmon; then
	ipsecmon_attach gw2 v2
	ipsecmon_monitor gw2 v2 --seq-warn=600
	check_eq "one reading: seq_out, esn, no estimate for $SPI21" "[$START,false,null]" \
		"$(ipsecmon_sa gw2 "$SPI21" tx '[.seq_out, .esn, .seq_exhaustion_seconds]')"
	check_eq "inbound SA $SPI12: no seq_out, esn false" "[null,false,null]" \
		"$(ipsecmon_sa gw2 "$SPI12" rx '[.seq_out, .esn, .seq_exhaustion_seconds]')"
fi

# Traffic at 10 per second on both pairs; check reads two snapshots meanwhile.
bg ip netns exec gw1 ping -n -q -c "$N" -i 0.1 "$GW2_V4"
bg ip netns exec gw1 ping -n -q -c "$N" -i 0.1 "$GW2_V6"
sleep 2
if have_ipsecmon; then
	rc=0
	"$IPSECMON_BIN" check --netns gw2 --pin-dir "$_IPSECMON_PIN" --interval 2 \
		--seq-exhaustion 3600,60 >/tmp/check.out || rc=$?
	check_eq "check --seq-exhaustion 3600,60 while sending: WARNING" 1 "$rc"
	note "check: $(cat /tmp/check.out)"
	check_lines "check names the SA and the time left" 1 /tmp/check.out \
		-E "WARNING - .*SA 0x00003002 out of sequence numbers in [0-9]+s < 3600"
fi
wait_for 20 bash -c '! pgrep -x ping' || true
settle

out=$(kernel_oseq gw2 "$SPI21")
check_eq "gw2 out $SPI21 oseq after $N echo replies" "$((START + N))" "$out"
check_eq "gw2 out $ESN21 oseq after $N echo replies" "$((START + N))" "$(kernel_oseq gw2 "$ESN21")"
check_eq "gw2 xfrm_stat errors" none "$(xfrm_errors gw2)"
if have_ipsecmon; then
	check_eq "seq_out of $SPI21 = the kernel's, esn" "[$((START + N)),false]" \
		"$(ipsecmon_sa gw2 "$SPI21" tx '[.seq_out, .esn]')"
	check_eq "seq_out of $ESN21 = the kernel's, esn" "[$((START + N)),true]" \
		"$(ipsecmon_sa gw2 "$ESN21" tx '[.seq_out, .esn]')"
	ipsecmon_monitor_sync
	# The rate behind each line's estimate: what was left over the time left.
	# Lines whose interval the traffic only partly covered show less.
	est=$(jq -sc --arg spi 0x00003002 --argjson lim "$LIMIT" '[.[] | select(.interfaces)
		| .sas[] | select(.spi == $spi and .dir == "tx" and .seq_exhaustion_seconds != null)
		| (($lim - .seq_out) / .seq_exhaustion_seconds) | floor]' "$IPSECMON_MON_OUT")
	note "rates behind the estimates of $SPI21 (packets/s): $est"
	check_eq "lines with an estimate for $SPI21: 2 or more at 7-15 packets/s, none above" 1 \
		"$(jq -r '([.[] | select(. >= 7 and . <= 15)] | length) >= 2 and all(. <= 15)
			| if . then 1 else 0 end' <<<"$est")"
	check_eq "no estimate for the ESN SA $ESN21 in any line" 0 \
		"$(jq -sc '[.[] | select(.interfaces) | .sas[] | select(.spi == "0x00003102")
			| select(.seq_exhaustion_seconds != null)] | length' "$IPSECMON_MON_OUT")"
	note "event: $(jq -c 'select(.event == "seq_exhaustion_near")' "$IPSECMON_MON_OUT")"
	note "a line's SA: $(jq -sc '[.[] | select(.interfaces) | .sas[]
		| select(.spi == "0x00003002" and .seq_exhaustion_seconds != null)][-1]
		| {spi, dir, packets, seq_out, esn, seq_exhaustion_seconds}' "$IPSECMON_MON_OUT")"
	check_eq "seq_exhaustion_near events [spi, dir] (one, the SA without ESN)" \
		'[["0x00003002","tx"]]' \
		"$(jq -sc '[.[] | select(.event == "seq_exhaustion_near") | [.spi, .dir]]' "$IPSECMON_MON_OUT")"
	check_eq "the event's seq_out within the traffic, time left under 600 s" 1 \
		"$(jq -s --argjson s "$START" --argjson n "$N" '[.[] | select(.event == "seq_exhaustion_near")][0]
			| if .seq_out > $s and .seq_out <= $s + $n and .seq_exhaustion_seconds < 600
			  then 1 else 0 end' "$IPSECMON_MON_OUT")"
	ipsecmon_monitor_sync
	check_eq "idle again: no estimate in the last line" null \
		"$(jq -sc '[.[] | select(.interfaces)] | last | .sas[]
			| select(.spi == "0x00003002" and .dir == "tx") | .seq_exhaustion_seconds' \
			"$IPSECMON_MON_OUT")"
	ipsecmon_monitor_stop
fi
teardown_gateways
