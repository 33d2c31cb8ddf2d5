#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A concentrator's SAD: gw2 holds 5,000 inbound SAs besides the pair that
# carries traffic, and `run --interval 1` watches it. Every number stays
# exact: active SAs, the carrying SA's wire and kernel packets, no bad SPI,
# and a churn of 500 deletions and 500 additions in one `ip -batch` (one
# burst of 1,000 events, longer than one event batch) counted exactly once
# each, with one sa_added or sa_deleted event each. The stream stays
# bounded (at most the 20 SAs of the top view, the rest in sas_omitted, no
# line over 16 KiB), and the monitor keeps its interval: no two snapshot lines
# further apart than the heartbeat's 5 s grace, past which bad-SPI
# detection would lapse. The figures (dump, stats, RSS) are noted for the
# record, not asserted. IPSECMON_SCALE_SAS changes the size.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib/guest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/guest.sh"

SAS=${IPSECMON_SCALE_SAS:-5000}
CHURN=$((SAS / 10))
N=10
SPI12=0x1001
SPI21=0x2001
FIRST=0x100000 # the bulk SAs' SPIs
NEXT=0x200000 # the churn's new SAs

if ! have_ipsecmon; then
	skip "ipsecmon scale scenario" "no ipsecmon-bpf binary"
	ok "nothing to do without ipsecmon-bpf"
	exit 0
fi

# bulk_batch VERB FIRST_SPI COUNT: `ip -batch` lines for COUNT inbound SAs of
# gw2 (one source each, reqid = SPI: no two share a CHILD_SA, so none is a
# rekey), "add" or "delete".
bulk_batch() {
	local verb=$1 first=$2 count=$3 i spi
	local enc auth
	enc=0x$(key_hex bulk-enc 16)
	auth=0x$(key_hex bulk-auth 32)
	for ((i = 0; i < count; i++)); do
		spi=$((first + i))
		if [[ $verb == add ]]; then
			printf 'xfrm state add src 10.9.%d.%d dst %s proto esp spi %d reqid %d mode transport enc cbc(aes) %s auth-trunc hmac(sha256) %s 128\n' \
				$((i / 250)) $((i % 250 + 1)) "$GW2_V4" "$spi" "$spi" "$enc" "$auth"
		else
			printf 'xfrm state delete dst %s proto esp spi %d\n' "$GW2_V4" "$spi"
		fi
	done
}

# now_ms: wall clock in milliseconds, for the noted figures.
now_ms() { date +%s%3N; }

setup_gateways
ipsec_pair cbc-sha256 "$SPI12" "$SPI21"
t0=$(now_ms)
bulk_batch add "$FIRST" "$SAS" | ip -n gw2 -batch -
note "$SAS SAs added with ip -batch in $(($(now_ms) - t0)) ms"
TOTAL=$((SAS + 2))
check_eq "gw2 SAD size" "$TOTAL" "$(ip -n gw2 xfrm state count | awk '{ print $NF }')"

ipsecmon_attach gw2 v2
IPSECMON_MON_INTERVAL=1 ipsecmon_monitor gw2 v2
ipsecmon_monitor_sync
check_eq "ipsecmon [active SAs, SA rows, bad SPIs]" "[$TOTAL,$TOTAL,0]" \
	"$(ipsecmon_q gw2 '[.ipsecmon.active_sas, .datapath.sa_rows, .ipsecmon.bad_spi_packets]')"

check_eq "echo replies" "$N" "$(ping_n gw1 "$GW2_V4" "$N")"
settle
ipsecmon_monitor_sync
check_eq "ipsecmon SA $SPI12 [wire, kernel packets]" "[$N,$N]" \
	"$(ipsecmon_sa gw2 "$SPI12" rx '[.packets, .kernel.packets]')"

# Churn: the first CHURN bulk SAs go, CHURN new ones come, in one burst.
{
	bulk_batch delete "$FIRST" "$CHURN"
	bulk_batch add "$NEXT" "$CHURN"
} | ip -n gw2 -batch -
ipsecmon_monitor_sync
ipsecmon_monitor_sync
check_eq "after the churn: [additions, deletions, rekeys, active SAs, SA rows]" \
	"[$CHURN,$CHURN,0,$TOTAL,$TOTAL]" \
	"$(ipsecmon_q gw2 '[.ipsecmon.key_additions, .ipsecmon.key_deletions, .ipsecmon.rekeys,
		.ipsecmon.active_sas, .datapath.sa_rows]')"
check_eq "sa_added, sa_deleted events" "[$CHURN,$CHURN]" \
	"$(jq -s -c '[([.[] | select(.event == "sa_added")] | length),
		([.[] | select(.event == "sa_deleted")] | length)]' "$IPSECMON_MON_OUT")"
check_eq "after the churn: echo replies" "$N" "$(ping_n gw1 "$GW2_V4" "$N")"
settle
ipsecmon_monitor_sync
check_eq "ipsecmon SA $SPI12 [wire, kernel packets], bad SPIs" "[$((2 * N)),$((2 * N)),0]" \
	"$(ipsecmon_q gw2 "[([.sas[] | select(.spi == \"0x00001001\" and .dir == \"rx\")][0] |
		.packets, .kernel.packets), .ipsecmon.bad_spi_packets]")"

# The stream: the top view in every snapshot line (the busiest of the
# interval and the most troubled: none when all were idle), bounded lines.
check_eq "every snapshot line: at most 20 SAs, the rest in sas_omitted" true \
	"$(jq -s '[.[] | select(.interfaces)] | all((.sas | length) <= 20 and
		(.sas | length) + .sas_omitted == .datapath.sa_rows)' "$IPSECMON_MON_OUT")"
check_eq "a snapshot line of the pings shows the two busy SAs, no other" true \
	"$(jq -s '[.[] | select(.interfaces) | [.sas[].spi] | sort] |
		any(. == ["0x00001001", "0x00002001"])' "$IPSECMON_MON_OUT")"
longest=$(awk '{ if (length($0) > n) n = length($0) } END { print n + 0 }' "$IPSECMON_MON_OUT")
note "longest JSON line: $longest bytes"
check_eq "no JSON line over 16 KiB" 1 "$((longest <= 16384))"
gap=$(jq -s '[.[] | select(.interfaces) | .time | sub("\\.[0-9]+Z$"; "Z") | fromdate] |
	[range(1; length) as $i | .[$i] - .[$i - 1]] | max' "$IPSECMON_MON_OUT")
note "longest gap between snapshot lines (interval 1 s): $gap s"
check_eq "the monitor kept its interval (no gap over 5 s)" 1 "$((gap <= 5))"

# For the record.
t0=$(now_ms)
ip -n gw2 xfrm state list >/dev/null
note "kernel dump (ip xfrm state list): $(($(now_ms) - t0)) ms"
t0=$(now_ms)
"$IPSECMON_BIN" stats --json --netns gw2 --pin-dir "$_IPSECMON_PIN" >/dev/null
note "stats --json: $(($(now_ms) - t0)) ms"
note "monitor RSS: $(awk '/^VmRSS/ { print $2, $3 }' "/proc/$_IPSECMON_MON_PID/status")"
check_eq "monitor stderr" "" "$(cat "$IPSECMON_MON_OUT.err")"
ipsecmon_monitor_stop
teardown_gateways
