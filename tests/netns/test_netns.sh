#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Integration test on the host kernel (make test-netns): ipsecmon-bpf attached
# to vb in a throwaway namespace B counts an exact mix of crafted frames sent
# from namespace A, and the CLI's lifecycle (attach, re-attach, stats, status,
# detach, error exit codes) does what main.c and README promise. The host
# kernel has no ESP/AH: every IPsec packet is crafted by tests/lib/send_mix.py,
# whose expected counters are compared field by field with stats --json.
#
# Output: "ok NAME" or "FAIL NAME: expected X got Y" per check, then
# "N passed, N failed". Exit 1 on any failure. Needs root.
set -euo pipefail

TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/netns.sh
source "$TEST_DIR/../lib/netns.sh"
# shellcheck source=tests/lib/assert.sh
source "$TEST_DIR/../lib/assert.sh"

DEFAULT_PIN_DIR=/sys/fs/bpf/ipsecmon
OTHER_PIN_DIR=/sys/fs/bpf/ipsm-other-$$
WORK=$(mktemp -d /tmp/ipsm-netns.XXXXXX)
# check_rc keeps the output of the last command here.
LAST_OUT=$WORK/last.out
# SA round 1 skips one sequence number and replays one, so gaps and replays
# are checked against non-zero numbers.
MIX1=(--count 6 --skip 3 --replay 2 --plain 2)
MIX2=(--count 6 --seq-start 7 --plain 2)
# --plain 2 sends two TCP SYNs; B answers each with a reset.
SYNS=2

ipsm() {
	"$IPSM_BIN" "$@"
}


cleanup_all() {
	ipsm_netns_cleanup
	rm -rf "$WORK"
}

# Checks that cannot even start count as one failure, so that the summary
# line is still there for tests/run.sh.
preflight() {
	ipsm_netns_preflight ip tc jq taskset setpriv "$IPSM_PYTHON"
}

# The network namespace cookie of B, which names B's pin directory.
netns_cookie() {
	ip netns exec "$1" "$IPSM_PYTHON" -c '
import socket, struct
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
print(struct.unpack("Q", s.getsockopt(socket.SOL_SOCKET, 71, 8))[0])'
}

stats_json() {
	ipsm stats --json --netns "$NS_B"
}

rx_total() {
	stats_json | jq '[.traffic.rx[].packets] | add'
}

expected_total() {
	jq '[.traffic.rx[].packets] | add' "$1"
}

# The datapath counts in softirq, possibly after the sender returned: wait
# for the frames to be counted rather than sleep a fixed, hopeful time.
wait_counted() {
	local want=$1
	for _ in $(seq 50); do
		[ "$(rx_total)" -ge "$want" ] && break
		sleep 0.1
	done
	# Anything unexpected arriving late would show up in the comparison.
	sleep 0.2
}

# Without XFRM correlation every SPI gets a row with exact counters.
compare_sa_rows() {
	local label=$1 stats=$2 expect=$3 name want got
	while IFS=$'\t' read -r name want got; do
		check_eq "$label: $name" "$want" "$got"
	done < <(jq -r --slurpfile s "$stats" '
		.sas[] as $e
		| ($s[0].sas | map(select(.spi == $e.spi and .proto == $e.proto
			and .dir == $e.dir and .dst == $e.dst))) as $m
		| "sas[\($e.spi) \($e.proto) \($e.dir) \($e.dst)]" as $n
		| ["\($n).rows", "1", ($m | length | tostring)],
		  (["family", "src", "encap", "packets", "bytes", "seq_max",
		    "seq_gaps", "seq_replays", "seq_late"][] as $f
		   | ["\($n).\($f)", ($e[$f] | tojson), ($m[0][$f] | tojson)])
		| @tsv' "$expect")
	check_json "$label: sas count" "$stats" '.sas | length' "$(jq '.sas | length' "$expect")"
	check_json "$label: datapath.sa_rows" "$stats" '.datapath.sa_rows' \
		"$(jq '.sas | length' "$expect")"
	check_json "$label: bad-SPI detection inactive" "$stats" \
		'[.ipsecmon.correlation, .ipsecmon.bad_spi_detection, .ipsecmon.bad_spi_packets]' \
		'["inactive","inactive",null]'
}

# XDP on 6.8+ asks the kernel's SAD. The host has no SAs at all, and the mix
# is addressed to B: every inbound ESP/AH packet is a bad SPI, named in
# bad_spis and given no SA row.
compare_bad_spis() {
	local label=$1 stats=$2 expect=$3 name want got
	while IFS=$'\t' read -r name want got; do
		check_eq "$label: $name" "$want" "$got"
	done < <(jq -r --slurpfile s "$stats" '
		.sas[] | select(.dir == "rx") as $e
		| ($s[0].bad_spis | map(select(.spi == $e.spi and .proto == $e.proto
			and .src == $e.src and .dst == $e.dst))) as $m
		| "bad_spis[\($e.spi) \($e.proto) \($e.src) \($e.dst)]" as $n
		| ["\($n).rows", "1", ($m | length | tostring)],
		  (["family", "packets", "bytes"][] as $f
		   | ["\($n).\($f)", ($e[$f] | tojson), ($m[0][$f] | tojson)])
		| @tsv' "$expect")
	check_json "$label: bad_spis count" "$stats" '.bad_spis | length' \
		"$(jq '[.sas[] | select(.dir == "rx")] | length' "$expect")"
	check_json "$label: ipsecmon.bad_spi_packets" "$stats" '.ipsecmon.bad_spi_packets' \
		"$(jq '[.sas[] | select(.dir == "rx") | .packets] | add' "$expect")"
	check_json "$label: datapath.bad_spi_bytes" "$stats" '.datapath.bad_spi_bytes' \
		"$(jq '[.sas[] | select(.dir == "rx") | .bytes] | add' "$expect")"
	check_json "$label: correlation by the kernel" "$stats" \
		'[.ipsecmon.correlation, .ipsecmon.bad_spi_detection]' '["kernel","active"]'
	check_json "$label: no SA rows for bad SPIs" "$stats" '[(.sas | length), .datapath.sa_rows]' \
		'[0,0]'
}

# compare_mix LABEL STATS EXPECT: every leaf of the expected traffic and IKE
# counters, every expected SA row field, and nothing else in the SA table.
compare_mix() {
	local label=$1 stats=$2 expect=$3 name want got
	while IFS=$'\t' read -r name want got; do
		check_eq "$label: $name" "$want" "$got"
	done < <(jq -r --slurpfile s "$stats" '
		{traffic, ike} | paths(scalars) as $p
		| [($p | map(tostring) | join(".")), (getpath($p) | tojson),
		   ($s[0] | getpath($p) | tojson)] | @tsv' "$expect")
	if [ "$(jq -r '[.interfaces[] | select(.hooks | index("xdp"))][0].xdp_sa_lookup
			// "map"' "$stats")" == kernel ]; then
		compare_bad_spis "$label" "$stats" "$expect"
	else
		compare_sa_rows "$label" "$stats" "$expect"
	fi
	check_json "$label: datapath.untracked_packets" "$stats" \
		'.datapath.untracked_packets' 0
	# B itself sends no IPsec: its tx is TCP resets, ICMP errors, MLD.
	check_json "$label: traffic.tx ipsec classes" "$stats" \
		'[.traffic.tx | .esp, .ah, .esp_in_udp, .ike, .nat_keepalive,
		  .fragment, .malformed | .packets]' '[0,0,0,0,0,0,0]'
}

# Sum of two expectations where round 2's sequence numbers continue round
# 1's: counters add up, seq_max is round 2's.
merge_expect() {
	jq -s '
		def addup($a; $b): reduce ($a | paths(numbers)) as $p ($a;
			setpath($p; getpath($p) + ($b | getpath($p))));
		.[0] as $a | .[1] as $b
		| {traffic: addup($a.traffic; $b.traffic), ike: addup($a.ike; $b.ike),
		   sas: [$a.sas[] as $x
			| ($b.sas[] | select(.spi == $x.spi and .proto == $x.proto
				and .dst == $x.dst)) as $y
			| $x + {packets: ($x.packets + $y.packets),
				bytes: ($x.bytes + $y.bytes), seq_max: $y.seq_max,
				seq_gaps: ($x.seq_gaps + $y.seq_gaps),
				seq_replays: ($x.seq_replays + $y.seq_replays),
				seq_late: ($x.seq_late + $y.seq_late)}]}' "$1" "$2"
}

# Send a mix, wait until it is counted, snapshot: send_and_snapshot EXPECT
# STATS BASELINE_PACKETS MIX_ARGS...
send_and_snapshot() {
	local expect=$1 stats=$2 base=$3
	shift 3
	if ! ipsm_send_mix --expect "$expect" "$@" >"$WORK/send.out" 2>&1; then
		fail "send_mix $*" "exit 0" "$(head -c 300 "$WORK/send.out" | tr '\n' ' ')"
		echo '{"traffic":{},"ike":{},"sas":[]}' >"$expect"
	fi
	wait_counted $((base + $(expected_total "$expect")))
	# An empty object on failure: every comparison then fails, visibly.
	stats_json >"$stats" 2>"$WORK/stats.err" || echo '{}' >"$stats"
}

# MIX2 on top of what BEFORE (a snapshot after MIX1) shows: second_round
# LABEL BEFORE EXPECT_PREFIX STATS_PREFIX, MIX1's expectation in
# EXPECT_PREFIX-1.json; the totals must be both mixes'.
second_round() {
	local label=$1 before=$2 e=$3 s=$4 base
	base=$(jq '[.traffic.rx[].packets] | add' "$before")
	send_and_snapshot "$e-2.json" "$s-2.json" "$base" "${MIX2[@]}"
	merge_expect "$e-1.json" "$e-2.json" >"$e-sum.json"
	compare_mix "$label" "$s-2.json" "$e-sum.json"
}

# What detach must leave: nothing of ours on vb, no pins for B.
check_clean() {
	local label=$1
	check_eq "$label: no xdp on vb" "" \
		"$(ip -n "$NS_B" link show dev vb | grep -o 'xdp[a-z]*' || true)"
	check_eq "$label: no clsact on vb" "" \
		"$(tc -n "$NS_B" qdisc show dev vb | grep -o clsact || true)"
	check_eq "$label: no pin dir for B" "absent" \
		"$([ -e "$PIN_NS_DIR" ] && echo present || echo absent)"
	check_rc "$label: status after detach exits 7" 7 ipsm status --netns "$NS_B"
}

# The programs pinned for vb, sorted: those of its hooks only.
pinned_progs() {
	local f out=()
	for f in xdp tc_ingress tc_egress; do
		[ -e "$PIN_NS_DIR/if-$VB_IFINDEX/$f" ] && out+=("$f")
	done
	printf '%s\n' "${out[@]}" | sort | paste -sd' '
}

# The pin names of a JSON list of hooks, sorted as pinned_progs prints them.
hook_pins() {
	jq -rn --argjson h "$1" '$h | map(sub("-"; "_")) | sort | join(" ")'
}

# One attach mode end to end: attach, hooks, mix, exact counters, detach.
# run_variant LABEL HOOKS_JSON XDP_MODE_JSON ATTACH_ARGS...
run_variant() {
	local label=$1 hooks=$2 mode=$3
	shift 3
	check_rc "$label: attach" 0 ipsm attach vb --netns "$NS_B" "$@"
	check_eq "$label: programs loaded for the hooks only" "$(hook_pins "$hooks")" \
		"$(pinned_progs)"
	ipsm status --json --netns "$NS_B" >"$WORK/status.json" || echo '{}' >"$WORK/status.json"
	check_json "$label: status hooks" "$WORK/status.json" '.interfaces[0].hooks' "$hooks"
	check_json "$label: status hooks_live" "$WORK/status.json" \
		'.interfaces[0].hooks_live' "$hooks"
	send_and_snapshot "$WORK/exp-$label.json" "$WORK/stats-$label.json" 0 "${MIX1[@]}"
	check_json "$label: schema" "$WORK/stats-$label.json" '.schema' '"ipsecmon-bpf/1"'
	check_json "$label: interfaces" "$WORK/stats-$label.json" \
		'[.interfaces[] | .name]' '["vb"]'
	check_json "$label: interfaces[0].hooks" "$WORK/stats-$label.json" \
		'.interfaces[0].hooks' "$hooks"
	check_json "$label: interfaces[0].xdp_mode" "$WORK/stats-$label.json" \
		'.interfaces[0].xdp_mode' "$mode"
	compare_mix "$label" "$WORK/stats-$label.json" "$WORK/exp-$label.json"
	check_rc "$label: detach" 0 ipsm detach vb --netns "$NS_B"
	check_clean "$label"
}

test_errors_unattached() {
	check_rc "stats with nothing attached exits 7" 7 ipsm stats --netns "$NS_B"
	check_rc "stats --json with nothing attached exits 7" 7 ipsm stats --json --netns "$NS_B"
	check_rc "detach vb with nothing attached exits 7" 7 ipsm detach vb --netns "$NS_B"
	check_rc "detach --all with nothing attached exits 7" 7 ipsm detach --all --netns "$NS_B"
	check_rc "status with nothing attached exits 7" 7 ipsm status --netns "$NS_B"
	check_rc "attach unknown interface exits 4" 4 ipsm attach nosuch0 --netns "$NS_B"
	check_rc "attach vb plus unknown interface exits 4" 4 \
		ipsm attach vb nosuch0 --netns "$NS_B"
	check_rc "attach --netns nosuch exits 4" 4 ipsm attach vb --netns "nosuch-$$"
	check_rc "stats --netns nosuch exits 4" 4 ipsm stats --netns "nosuch-$$"
	check_rc "--hooks xdp,tc-ingress exits 2" 2 \
		ipsm attach vb --netns "$NS_B" --hooks xdp,tc-ingress
	check_rc "--hooks bogus exits 2" 2 ipsm attach vb --netns "$NS_B" --hooks bogus
	check_rc "--xdp-mode bogus exits 2" 2 ipsm attach vb --netns "$NS_B" --xdp-mode bogus
	check_rc "unknown command exits 2" 2 ipsm frobnicate
	check_rc "not root: stats exits 3" 3 \
		setpriv --reuid=65534 --regid=65534 --clear-groups "$IPSM_BIN" stats --netns "$NS_B"
	check_rc "not root: attach exits 3" 3 \
		setpriv --reuid=65534 --regid=65534 --clear-groups "$IPSM_BIN" attach vb --netns "$NS_B"
	check_eq "failed attaches left no pin dir for B" "absent" \
		"$([ -e "$PIN_NS_DIR" ] && echo present || echo absent)"
	check_eq "failed attaches left no xdp on vb" "" \
		"$(ip -n "$NS_B" link show dev vb | grep -o 'xdp[a-z]*' || true)"
}

# Default hooks, plus lifetime: counters outlive the CLI, re-attach keeps them.
test_default_lifecycle() {
	local s="$WORK/stats-life" e="$WORK/exp-life"
	check_rc "default: attach -v" 0 ipsm attach vb --netns "$NS_B" -v
	check_eq "default: attach said why it chose TC ingress" 1 \
		"$(grep -c '^ipsecmon-bpf: vb: receiving on TC ingress (driver veth: XDP would slow its traffic; --hooks xdp,tc-egress to have it)$' "$LAST_OUT" || true)"
	check_eq "default: pin dir is netns-<cookie of B>" "present" \
		"$([ -d "$PIN_NS_DIR" ] && echo present || echo absent)"
	ipsm status --json --netns "$NS_B" >"$WORK/status.json" || echo '{}' >"$WORK/status.json"
	check_json "default: status netns_id" "$WORK/status.json" '.netns_id' "$NS_B_COOKIE"
	# On veth the default receives on TC ingress: native XDP there turns
	# GRO off, generic XDP copies every GRO'd skb.
	check_json "default: status interfaces" "$WORK/status.json" \
		'[.interfaces[] | {name, hooks, hooks_live, present, xdp_mode}]' \
		'[{"name":"vb","hooks":["tc-ingress","tc-egress"],"hooks_live":["tc-ingress","tc-egress"],"present":true,"xdp_mode":null}]'
	check_eq "default: no XDP on vb" "" \
		"$(ip -n "$NS_B" link show dev vb | grep -o 'xdp[a-z]*' || true)"
	check_eq "default: tc ingress filter on vb" "1" \
		"$(tc -n "$NS_B" filter show dev vb ingress | grep -c 'handle 0x1bec ipsecmon_tc_ing' || true)"
	check_eq "default: tc egress filter on vb" "1" \
		"$(tc -n "$NS_B" filter show dev vb egress | grep -c 'handle 0x1bec ipsecmon_tc_egr' || true)"

	send_and_snapshot "$e-1.json" "$s-1.json" 0 "${MIX1[@]}"
	check_json "default: schema" "$s-1.json" '.schema' '"ipsecmon-bpf/1"'
	check_json "default: interfaces[0].name" "$s-1.json" '.interfaces[0].name' '"vb"'
	check_json "default: interfaces[0].hooks" "$s-1.json" '.interfaces[0].hooks' \
		'["tc-ingress","tc-egress"]'
	check_json "default: netns_id" "$s-1.json" '.netns_id' "$NS_B_COOKIE"
	compare_mix "default" "$s-1.json" "$e-1.json"
	# The resets B sends back are the proof that tc-egress counts.
	check_json "default: tx.other counts B's replies" "$s-1.json" \
		".traffic.tx.other.packets >= $SYNS" true

	# Every stats run is a new process reading the pins: same numbers.
	stats_json >"$s-1b.json" || echo '{}' >"$s-1b.json"
	check_json "stats twice: same traffic" "$s-1b.json" '.traffic.rx' \
		"$(jq -c '.traffic.rx' "$s-1.json")"
	check_json "stats twice: same SA counters" "$s-1b.json" \
		'[.sas[] | del(.first_seen, .last_seen)]' \
		"$(jq -c '[.sas[] | del(.first_seen, .last_seen)]' "$s-1.json")"
	check_json "stats twice: same IKE counters" "$s-1b.json" '.ike' \
		"$(jq -c '.ike' "$s-1.json")"
	check_rc "stats (text) exits 0" 0 ipsm stats --netns "$NS_B"
	check_lines "stats (text) has the esp row" 1 "$LAST_OUT" \
		-E '^esp +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+$'
	check_rc "stats vb (named) exits 0" 0 ipsm stats --json --netns "$NS_B" vb
	check_rc "stats of an interface not attached exits 7" 7 \
		ipsm stats --netns "$NS_B" lo

	# Attaching again changes nothing and resets nothing.
	check_rc "re-attach exits 0" 0 ipsm attach vb --netns "$NS_B"
	stats_json >"$s-1c.json" || echo '{}' >"$s-1c.json"
	check_json "re-attach: traffic not reset" "$s-1c.json" '.traffic.rx' \
		"$(jq -c '.traffic.rx' "$s-1.json")"
	check_json "re-attach: SA rows not reset" "$s-1c.json" \
		'[.sas[] | {spi, packets, seq_max}]' \
		"$(jq -c '[.sas[] | {spi, packets, seq_max}]' "$s-1.json")"
	check_json "re-attach: same hooks" "$s-1c.json" '.interfaces[0].hooks_live' \
		'["tc-ingress","tc-egress"]'
	check_eq "re-attach: still one tc egress filter" "1" \
		"$(tc -n "$NS_B" filter show dev vb egress | grep -c 'handle 0x1bec ipsecmon_tc_egr' || true)"
	check_rc "re-attach with xdp (tc-ingress already there) exits 2" 2 \
		ipsm attach vb --netns "$NS_B" --hooks xdp
	check_rc "re-attach with --xdp-mode skb (tc-ingress already there) exits 2" 2 \
		ipsm attach vb --netns "$NS_B" --xdp-mode skb

	# More traffic after the CLI exited: totals add up.
	second_round "two rounds" "$s-1c.json" "$e" "$s"

	check_rc "default: detach" 0 ipsm detach vb --netns "$NS_B"
	check_clean "default"
	check_rc "detach twice exits 7" 7 ipsm detach vb --netns "$NS_B"
}

# A hook added to an interface attached before loads its program then:
# attach loads only what its hooks run, and what was counted stays.
test_hook_added_later() {
	local label=added s="$WORK/stats-added" e="$WORK/exp-added"
	check_rc "$label: attach tc-ingress" 0 ipsm attach vb --netns "$NS_B" --hooks tc-ingress
	check_eq "$label: only tc_ingress loaded" "tc_ingress" "$(pinned_progs)"
	send_and_snapshot "$e-1.json" "$s-1.json" 0 "${MIX1[@]}"
	compare_mix "$label: round 1" "$s-1.json" "$e-1.json"
	check_rc "$label: add tc-egress" 0 ipsm attach vb --netns "$NS_B" --hooks tc-egress
	check_eq "$label: tc_egress loaded too" "tc_egress tc_ingress" "$(pinned_progs)"
	stats_json >"$s-1b.json" || echo '{}' >"$s-1b.json"
	check_json "$label: traffic kept" "$s-1b.json" '.traffic.rx' \
		"$(jq -c '.traffic.rx' "$s-1.json")"
	check_json "$label: both hooks live" "$s-1b.json" '.interfaces[0].hooks_live' \
		'["tc-ingress","tc-egress"]'
	second_round "$label: two rounds" "$s-1b.json" "$e" "$s"
	check_rc "$label: detach" 0 ipsm detach vb --netns "$NS_B"
	check_clean "$label"

	label=added-xdp
	check_rc "$label: attach tc-egress" 0 ipsm attach vb --netns "$NS_B" --hooks tc-egress
	check_eq "$label: only tc_egress loaded" "tc_egress" "$(pinned_progs)"
	check_rc "$label: add xdp" 0 ipsm attach vb --netns "$NS_B" --hooks xdp --xdp-mode skb
	check_eq "$label: xdp loaded too" "tc_egress xdp" "$(pinned_progs)"
	send_and_snapshot "$e-3.json" "$s-3.json" 0 "${MIX1[@]}"
	compare_mix "$label" "$s-3.json" "$e-3.json"
	check_rc "$label: detach" 0 ipsm detach vb --netns "$NS_B"
	check_clean "$label"

	# The hook cannot be had (another instance's XDP program): nothing of
	# the program loaded for it stays, the hooks there were stay live.
	label=added-refused
	IPSM_EXTRA_PIN_DIRS+=("$OTHER_PIN_DIR")
	check_rc "$label: another instance's XDP" 0 \
		ipsm attach vb --netns "$NS_B" --pin-dir "$OTHER_PIN_DIR" --hooks xdp
	check_rc "$label: attach tc-egress" 0 ipsm attach vb --netns "$NS_B" --hooks tc-egress
	check_rc "$label: add xdp over the other's exits 6" 6 \
		ipsm attach vb --netns "$NS_B" --hooks xdp
	check_eq "$label: still only tc_egress loaded" "tc_egress" "$(pinned_progs)"
	ipsm status --json --netns "$NS_B" >"$WORK/status.json" || echo '{}' >"$WORK/status.json"
	check_json "$label: tc-egress still live" "$WORK/status.json" \
		'.interfaces[0] | [.hooks, .hooks_live]' '[["tc-egress"],["tc-egress"]]'
	check_rc "$label: detach ours" 0 ipsm detach vb --netns "$NS_B"
	check_rc "$label: detach the other" 0 \
		ipsm detach --all --netns "$NS_B" --pin-dir "$OTHER_PIN_DIR"
	check_clean "$label"
}

# A clsact qdisc and filter that were there before attach survive detach.
test_foreign_clsact() {
	local label=foreign-clsact
	check_rc "$label: add a clsact qdisc" 0 tc -n "$NS_B" qdisc add dev vb clsact
	# u32 match-all without action: passes everything (no act_gact needed).
	check_rc "$label: add a foreign ingress filter" 0 \
		tc -n "$NS_B" filter add dev vb ingress pref 100 u32 match u32 0 0
	check_rc "$label: add a foreign egress filter" 0 \
		tc -n "$NS_B" filter add dev vb egress pref 100 u32 match u32 0 0
	check_rc "$label: attach" 0 ipsm attach vb --netns "$NS_B" --hooks tc-ingress,tc-egress
	check_eq "$label: both filters on ingress" "1 1" \
		"$(tc -n "$NS_B" filter show dev vb ingress | grep -c 'handle 0x1bec ipsecmon_tc_ing' || true) $(tc -n "$NS_B" filter show dev vb ingress | grep -c -m1 'pref 100 u32' || true)"
	send_and_snapshot "$WORK/exp-$label.json" "$WORK/stats-$label.json" 0 "${MIX1[@]}"
	compare_mix "$label" "$WORK/stats-$label.json" "$WORK/exp-$label.json"
	check_rc "$label: detach" 0 ipsm detach vb --netns "$NS_B"
	check_eq "$label: clsact still there" "clsact" \
		"$(tc -n "$NS_B" qdisc show dev vb | grep -o -m1 clsact || true)"
	check_eq "$label: foreign ingress filter still there" "1" \
		"$(tc -n "$NS_B" filter show dev vb ingress | grep -c -m1 'pref 100 u32' || true)"
	check_eq "$label: foreign egress filter still there" "1" \
		"$(tc -n "$NS_B" filter show dev vb egress | grep -c -m1 'pref 100 u32' || true)"
	check_eq "$label: our filters gone" "0" \
		"$({ tc -n "$NS_B" filter show dev vb ingress
			tc -n "$NS_B" filter show dev vb egress; } | grep -c ipsecmon || true)"
	check_eq "$label: no pin dir for B" "absent" \
		"$([ -e "$PIN_NS_DIR" ] && echo present || echo absent)"
	check_rc "$label: remove the clsact qdisc" 0 tc -n "$NS_B" qdisc del dev vb clsact

	# attach made the qdisc, then someone else put a filter on it: it stays.
	label=late-filter
	check_rc "$label: attach" 0 ipsm attach vb --netns "$NS_B"
	check_rc "$label: add a foreign filter" 0 \
		tc -n "$NS_B" filter add dev vb ingress pref 100 u32 match u32 0 0
	check_rc "$label: detach" 0 ipsm detach vb --netns "$NS_B"
	check_eq "$label: clsact kept for the other filter" "clsact" \
		"$(tc -n "$NS_B" qdisc show dev vb | grep -o -m1 clsact || true)"
	check_eq "$label: other filter kept" "1" \
		"$(tc -n "$NS_B" filter show dev vb ingress | grep -c -m1 'pref 100 u32' || true)"
	check_eq "$label: our egress filter gone" "0" \
		"$(tc -n "$NS_B" filter show dev vb egress | grep -c ipsecmon || true)"
	check_rc "$label: remove the clsact qdisc" 0 tc -n "$NS_B" qdisc del dev vb clsact
	check_clean "$label"
}

# Another program instance holds the XDP hook: exit 6 and nothing left
# behind; --force takes over.
test_conflict() {
	local label=conflict xdp_before
	IPSM_EXTRA_PIN_DIRS+=("$OTHER_PIN_DIR")
	check_rc "$label: attach with another pin dir" 0 \
		ipsm attach vb --netns "$NS_B" --pin-dir "$OTHER_PIN_DIR" --hooks xdp,tc-egress
	xdp_before=$(ip -n "$NS_B" -d link show dev vb | grep -o 'prog/xdp id [0-9]*' || true)
	check_rc "$label: attach over a foreign XDP program exits 6" 6 \
		ipsm attach vb --netns "$NS_B" --hooks xdp,tc-egress
	check_eq "$label: no pin dir left under $DEFAULT_PIN_DIR" "absent" \
		"$([ -e "$PIN_NS_DIR" ] && echo present || echo absent)"
	check_eq "$label: the other XDP program still attached" "$xdp_before" \
		"$(ip -n "$NS_B" -d link show dev vb | grep -o 'prog/xdp id [0-9]*' || true)"
	check_rc "$label: stats in default pin dir exits 7" 7 ipsm stats --netns "$NS_B"
	check_rc "$label: attach --force exits 0" 0 \
		ipsm attach vb --netns "$NS_B" --hooks xdp,tc-egress --force
	ipsm status --json --netns "$NS_B" >"$WORK/status.json" || echo '{}' >"$WORK/status.json"
	check_json "$label: ours live after --force" "$WORK/status.json" \
		'.interfaces[0].hooks_live' '["xdp","tc-egress"]'
	ipsm status --json --netns "$NS_B" --pin-dir "$OTHER_PIN_DIR" >"$WORK/status-other.json" || true
	check_json "$label: the replaced instance sees its hooks gone" "$WORK/status-other.json" \
		'.interfaces[0].hooks_live' '[]'
	send_and_snapshot "$WORK/exp-$label.json" "$WORK/stats-$label.json" 0 "${MIX1[@]}"
	compare_mix "$label" "$WORK/stats-$label.json" "$WORK/exp-$label.json"
	check_rc "$label: detach ours" 0 ipsm detach vb --netns "$NS_B"
	check_rc "$label: detach the other" 0 \
		ipsm detach --all --netns "$NS_B" --pin-dir "$OTHER_PIN_DIR"
	check_eq "$label: other pin dir removed" "absent" \
		"$([ -e "$OTHER_PIN_DIR" ] && echo present || echo absent)"
	check_clean "$label"
}

# A switch to native XDP where the driver has none fails and leaves ours in
# generic mode, never without a program; attaches at once serialize.
test_failed_switch_and_races() {
	local s="$WORK/stats-switch"
	ip -n "$NS_B" link add dm0 type bridge
	ip -n "$NS_B" link set dev dm0 up
	check_rc "switch: attach a bridge generic" 0 ipsm attach dm0 --netns "$NS_B" --xdp-mode skb
	check_rc "switch: native on a bridge fails (no driver XDP)" 5 \
		ipsm attach dm0 --netns "$NS_B" --xdp-mode native
	ipsm status --json --netns "$NS_B" >"$s.json" || echo '{}' >"$s.json"
	check_json "switch: ours still attached, generic" "$s.json" \
		'[.interfaces[] | select(.name == "dm0") | {xdp_mode, hooks_live}]' \
		'[{"xdp_mode":"skb","hooks_live":["xdp","tc-egress"]}]'
	check_eq "switch: ip link shows xdpgeneric on dm0" "xdpgeneric" \
		"$(ip -n "$NS_B" link show dev dm0 | grep -o -w -m1 xdpgeneric || true)"
	check_rc "switch: detach dm0" 0 ipsm detach dm0 --netns "$NS_B"

	# Three attaches of one fresh interface at once: one program, every hook ours.
	for _ in 1 2 3; do
		ipsm attach dm0 --netns "$NS_B" --xdp-mode skb >/dev/null 2>&1 &
	done
	wait
	ipsm status --json --netns "$NS_B" >"$s.json" || echo '{}' >"$s.json"
	check_json "race: three attaches leave one intact attach" "$s.json" \
		'[.interfaces[] | select(.name == "dm0") | {hooks, hooks_live}]' \
		'[{"hooks":["xdp","tc-egress"],"hooks_live":["xdp","tc-egress"]}]'
	check_rc "race: detach dm0" 0 ipsm detach dm0 --netns "$NS_B"
	check_eq "race: nothing left on dm0" "" \
		"$(ip -n "$NS_B" link show dev dm0 | grep -o -w -m1 'xdp[a-z]*' || true)"
	ip -n "$NS_B" link del dm0
}

# A namespace deleted without detach leaves its pins: status names them,
# detach --stale removes exactly those. Its own pin dir keeps it apart.
test_stale_namespace() {
	local ns="ipsm-stale-$$" dir=/sys/fs/bpf/ipsm-stale-$$ cookie stale
	IPSM_EXTRA_PIN_DIRS+=("$dir")
	ip netns add "$ns"
	ip -n "$ns" link add sa type veth peer name sb
	ip -n "$ns" link set dev sa up
	ip -n "$ns" link set dev sb up
	check_rc "stale: attach in a namespace" 0 ipsm attach sa --netns "$ns" --pin-dir "$dir"
	cookie=$(netns_cookie "$ns")
	check_rc "stale: attach here too" 0 ipsm attach vb --netns "$NS_B" --pin-dir "$dir"
	check_rc "stale: status while it lives" 0 ipsm status --json --netns "$NS_B" --pin-dir "$dir"
	check_json "stale: none while it lives" "$LAST_OUT" '.stale_namespaces' '[]'
	ip netns del "$ns"
	# The kernel frees a namespace asynchronously once nothing holds it.
	for _ in $(seq 50); do
		stale=$(ipsm status --json --netns "$NS_B" --pin-dir "$dir" | jq -c '.stale_namespaces')
		[ "$stale" != "[]" ] && break
		sleep 0.1
	done
	check_eq "stale: status lists the gone namespace" "[\"$dir/netns-$cookie\"]" "$stale"
	check_rc "stale: detach --stale" 0 ipsm detach --stale --netns "$NS_B" --pin-dir "$dir"
	check_eq "stale: its pins are gone" "absent" \
		"$([ -e "$dir/netns-$cookie" ] && echo present || echo absent)"
	check_rc "stale: status after" 0 ipsm status --json --netns "$NS_B" --pin-dir "$dir"
	check_json "stale: none left" "$LAST_OUT" '.stale_namespaces' '[]'
	check_json "stale: the live namespace's interface stays" "$LAST_OUT" \
		'[.interfaces[].name]' '["vb"]'
	check_rc "stale: detach --stale with interfaces is a usage error" 2 \
		ipsm detach vb --stale --netns "$NS_B" --pin-dir "$dir"
	check_rc "stale: detach the live one" 0 ipsm detach vb --netns "$NS_B" --pin-dir "$dir"
}

# An attach killed while it loaded leaves the interface's pin directory
# without its metadata (here: the directory alone); the next attach starts
# again instead of refusing it as another version's.
test_unfinished_attach() {
	local dir=/sys/fs/bpf/ipsm-unfinished-$$ ifindex
	IPSM_EXTRA_PIN_DIRS+=("$dir")
	ifindex=$(ip -n "$NS_B" -j link show dev vb | jq '.[0].ifindex')
	mkdir -p "$dir/netns-$NS_B_COOKIE/if-$ifindex"
	check_rc "unfinished: attach over the leftover" 0 \
		ipsm attach vb --netns "$NS_B" --pin-dir "$dir"
	check_eq "unfinished: attach said so" 1 \
		"$(grep -c 'vb: an earlier attach did not finish; starting again' "$LAST_OUT" || true)"
	check_rc "unfinished: status" 0 ipsm status --json --netns "$NS_B" --pin-dir "$dir"
	check_json "unfinished: hooks live" "$LAST_OUT" '.interfaces[0].hooks_live' \
		'["tc-ingress","tc-egress"]'
	check_rc "unfinished: detach" 0 ipsm detach vb --netns "$NS_B" --pin-dir "$dir"
	check_eq "unfinished: detach printed nothing" "" "$(cat "$LAST_OUT")"
}

# Re-attach with another --xdp-mode moves our program; a deleted interface
# detaches cleanly. Runs last: it deletes vb.
test_mode_switch_and_gone() {
	local s="$WORK/stats-mode"
	check_rc "mode: attach native" 0 ipsm attach vb --netns "$NS_B" --xdp-mode native
	check_rc "mode: re-attach skb" 0 ipsm attach vb --netns "$NS_B" --xdp-mode skb
	stats_json >"$s.json" || echo '{}' >"$s.json"
	check_json "mode: xdp_mode now skb" "$s.json" '.interfaces[0].xdp_mode' '"skb"'
	check_json "mode: hooks still live" "$s.json" '.interfaces[0].hooks_live' \
		'["xdp","tc-egress"]'
	check_eq "mode: ip link shows xdpgeneric" "xdpgeneric" \
		"$(ip -n "$NS_B" link show dev vb | grep -o -w -m1 xdpgeneric || true)"
	check_rc "mode: back to native" 0 ipsm attach vb --netns "$NS_B" --xdp-mode native
	check_eq "mode: ip link shows xdp" "xdp" \
		"$(ip -n "$NS_B" link show dev vb | grep -o -w -m1 'xdp' || true)"
	# Without --hooks an interface keeps the receive hook it has.
	check_rc "mode: re-attach with defaults" 0 ipsm attach vb --netns "$NS_B"
	stats_json >"$s-2.json" || echo '{}' >"$s-2.json"
	check_json "mode: defaults kept XDP native" "$s-2.json" \
		'.interfaces[0] | [.xdp_mode, .hooks_live]' '["native",["xdp","tc-egress"]]'

	ip -n "$NS_B" link del vb
	check_rc "gone: status exits 0" 0 ipsm status --json --netns "$NS_B"
	check_json "gone: status says not present" "$WORK/last.out" \
		'[.interfaces[] | {name, present, hooks_live}]' \
		'[{"name":"vb","present":false,"hooks_live":[]}]'
	check_rc "gone: detach by recorded name" 0 ipsm detach vb --netns "$NS_B"
	check_eq "gone: detach printed nothing" "" "$(cat "$WORK/last.out")"
	check_eq "gone: pin dir removed" "absent" \
		"$([ -d "$PIN_NS_DIR" ] && echo present || echo absent)"
}

main() {
	preflight
	trap cleanup_all EXIT
	ipsm_netns_create
	# ipsm_netns_create set its own EXIT trap; ours also removes $WORK.
	trap cleanup_all EXIT
	NS_B_COOKIE=$(netns_cookie "$NS_B")
	PIN_NS_DIR="$DEFAULT_PIN_DIR/netns-$NS_B_COOKIE"
	VB_IFINDEX=$(ip netns exec "$NS_B" cat /sys/class/net/vb/ifindex)

	test_errors_unattached
	test_default_lifecycle
	run_variant tc-hooks '["tc-ingress","tc-egress"]' null --hooks tc-ingress,tc-egress
	run_variant xdp-skb '["xdp","tc-egress"]' '"skb"' --xdp-mode skb
	run_variant xdp-only '["xdp"]' '"skb"' --hooks xdp
	run_variant xdp-native '["xdp","tc-egress"]' '"native"' --xdp-mode native
	test_hook_added_later
	test_foreign_clsact
	test_conflict
	test_failed_switch_and_races
	test_stale_namespace
	test_unfinished_attach
	test_mode_switch_and_gone
	finish
}

main "$@"
