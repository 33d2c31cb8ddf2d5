#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The monitor's faces against real consumers (make test-faces): watch's live
# window driven in tmux (send-keys, capture-pane), watch's plain text and
# JSON lines through pipes and jq, run's JSON lines with deltas, --output
# reopened on SIGHUP, a closed pipe, and check's monitoring-plugin exit
# codes and perfdata. Crafted traffic in throwaway namespaces; on this host
# the XDP SA lookup finds no SA, so every ESP/AH packet is a bad SPI.
set -euo pipefail

TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/netns.sh
source "$TEST_DIR/../lib/netns.sh"
# shellcheck source=tests/lib/assert.sh
source "$TEST_DIR/../lib/assert.sh"

WORK=$(mktemp -d /tmp/ipsm-faces.XXXXXX)
TMUX_SOCK="ipsm-faces-$$"
MIX=(--count 4 --plain 1)

ipsm() { "$IPSM_BIN" "$@"; }
tm() { tmux -L "$TMUX_SOCK" "$@"; }

cleanup() {
	tm kill-server 2>/dev/null || true
	ipsm_netns_cleanup
	rm -rf "$WORK"
}

# screen_has NAME PATTERN: the tmux pane shows a line matching PATTERN (ERE).
screen_has() {
	for _ in $(seq 30); do
		tm capture-pane -p -t faces >"$WORK/screen" 2>/dev/null || true
		grep -qE "$2" "$WORK/screen" && break
		sleep 0.2
	done
	check_lines "$1" 1 "$WORK/screen" -E "$2"
	grep -qE "$2" "$WORK/screen" || sed 's/^/#    screen: /' "$WORK/screen"
}

test_watch_tty() {
	local esp bad ike
	esp=$(ipsm stats --json --netns "$NS_B" | jq .traffic.rx.esp.packets)
	bad=$(ipsm stats --json --netns "$NS_B" | jq .ipsecmon.bad_spi_packets)
	ike=$(ipsm stats --json --netns "$NS_B" | jq .traffic.rx.ike.packets)
	tm new-session -d -s faces -x 80 -y 24 \
		"$IPSM_BIN watch --netns $NS_B --interval 1; echo EXITED \$?; sleep 30"
	screen_has "watch: title and interval" '^IP Security Monitor vb .* every 1\.0s$'
	screen_has "watch: bad SPI packets row" "^ Bad SPI Packets +$bad +Tunnel Bytes Sent"
	screen_has "watch: esp received" "^ esp +$esp +[0-9.]+ +0 +[0-9.]+"
	screen_has "watch: correlation shown" 'corr: (kernel|monitor)'
	screen_has "watch: bad SPI summary" '^ Bad SPIs: [0-9]+, most: 0x0000'
	screen_has "watch: sequence and key line" '^ Seq out: no SA running out +\[q\]uit .* \[t\]unnels \[p\]eers$'
	check_eq "watch: fits 24 lines" 24 "$(wc -l <"$WORK/screen")"
	check_eq "watch: fits 80 columns" 1 "$(awk 'length > 80 { n++ } END { print n ? 0 : 1 }' "$WORK/screen")"
	tm send-keys -t faces t
	screen_has "watch: t shows the tunnels pane" '^ TUNNELS 0: up 0, idle 0, one way 0, down 0$'
	screen_has "watch: tunnels pane header" '^ LOCAL > REMOTE +STATE +SAS +RX PKT/S +TX PKT/S$'
	# No monitor has run in this namespace: the rekey counts are unknown.
	screen_has "watch: rekey line" '^ REKEYS -: early packets - \(new SPI before its SA\), late - \(old SPI\)$'
	check_eq "watch: tunnels pane fits 24 lines" 24 "$(wc -l <"$WORK/screen")"
	check_eq "watch: tunnels pane fits 80 columns" 1 "$(awk 'length > 80 { n++ } END { print n ? 0 : 1 }' "$WORK/screen")"
	tm send-keys -t faces t
	screen_has "watch: t again shows the traffic" '^ TRAFFIC +RX PACKETS'
	# The crafted mix's source: its bad SPIs and its IKE messages (2 requests in, none out).
	tm send-keys -t faces p
	screen_has "watch: p shows the peers pane" '^ PEERS [0-9]+'
	screen_has "watch: peers pane header" '^ PEER +SAS +RX BYTES +TX BYTES +BAD SPI +IKE RX/TX +LAST SEEN$'
	# IKE is counted per peer address too: its own (not 0.0.0.0's), all of it,
	# unless the sources' addresses met in one slot (the hash is seeded at
	# random per namespace, 1 in 256 here): the second then took it over.
	if [[ $(ipsm stats --json --netns "$NS_B" | jq .datapath.ike_peer_evicted) == 0 ]]; then
		screen_has "watch: the crafted traffic's source as a peer" \
			'^ 10\.77\.0\.1 +0 +0 B +0 B +[0-9]+ +[1-9][0-9]*/0 +[0-9:]+Z$'
		check_eq "peers: IKE messages over all peers = the IKE class's packets" "$ike" \
			"$(ipsm stats --json --netns "$NS_B" | jq '[.peers[].ike_messages.rx] | add')"
	else
		echo "#    IKE peer slot taken over (seeded hash collision): per-peer IKE counts restarted"
		check_eq "peers: IKE messages over all peers at most the IKE class's packets" true \
			"$(ipsm stats --json --netns "$NS_B" | jq --argjson n "$ike" '[.peers[].ike_messages.rx] | add <= $n')"
	fi
	check_eq "watch: peers pane fits 24 lines" 24 "$(wc -l <"$WORK/screen")"
	check_eq "watch: peers pane fits 80 columns" 1 "$(awk 'length > 80 { n++ } END { print n ? 0 : 1 }' "$WORK/screen")"
	tm send-keys -t faces p
	screen_has "watch: p again shows the traffic" '^ TRAFFIC +RX PACKETS'
	tm send-keys -t faces +
	screen_has "watch: + doubles the interval" 'every 2\.0s$'
	tm send-keys -t faces - -
	screen_has "watch: - halves it" 'every 0\.5s$'
	tm send-keys -t faces q
	screen_has "watch: q quits with status 0" '^EXITED 0$'
	tm kill-server 2>/dev/null || true
}

test_watch_pipes() {
	local rc=0
	# Background jobs of a script ignore SIGINT: SIGTERM is what stops them.
	"$IPSM_BIN" watch --netns "$NS_B" --interval 0.2 >"$WORK/text" 2>&1 &
	sleep 1.2
	kill -TERM $! && wait $! || rc=$?
	check_eq "watch text: SIGTERM ends it with 0" 0 "$rc"
	check_lines "watch text: plain snapshots, no escapes" 0 "$WORK/text" $'\033'
	check_eq "watch text: several snapshots" 1 \
		"$(grep -c '^TRAFFIC' "$WORK/text" | awk '{ print ($1 >= 3) }')"

	timeout 20 "$IPSM_BIN" watch --netns "$NS_B" --interval 0.3 | head -n 2 >/dev/null
	check_eq "watch text: a closed pipe ends it with 0" 0 "${PIPESTATUS[0]}"

	timeout 20 "$IPSM_BIN" watch --json --netns "$NS_B" --interval 0.3 | head -n 8 >"$WORK/w.jsonl"
	check_eq "watch --json: a closed pipe ends it with 0" 0 "${PIPESTATUS[0]}"
	check_eq "watch --json: every line is one JSON object" 8 \
		"$(jq -c 'select(type == "object")' "$WORK/w.jsonl" | wc -l)"
	check_eq "watch --json: first snapshot has no delta" null \
		"$(jq -sc '[.[] | select(.interfaces)][0].delta' "$WORK/w.jsonl")"
	check_eq "watch --json: later snapshots have delta, rate and interval" '["object","object","number"]' \
		"$(jq -sc '[.[] | select(.interfaces)][1] | [(.delta | type), (.rate | type),
			(.interval_seconds | type)]' "$WORK/w.jsonl")"
	check_eq "watch --json: first bad SPI from the peer is an event" 1 \
		"$(jq -c 'select(.event == "bad_spi" and .src == "10.77.0.1")' "$WORK/w.jsonl" | head -n 1 | wc -l)"
}

# Snapshot lines in a JSON-lines file, 0 while it does not exist.
snapshots() {
	if [ -f "$1" ]; then grep -c '"interfaces"' "$1" || true; else echo 0; fi
}

test_run_stream() {
	local out=$WORK/run.jsonl pid rc=0 want
	"$IPSM_BIN" run vb --netns "$NS_B" --interval 0.5 --output "$out" 2>"$WORK/run.err" &
	pid=$!
	for _ in $(seq 50); do
		[ "$(snapshots "$out")" -ge 2 ] && break
		sleep 0.1
	done
	# Rotation: move the file away, SIGHUP, and the monitor writes anew.
	mv "$out" "$out.1"
	kill -HUP "$pid"
	ipsm_send_mix --expect "$WORK/exp.json" "${MIX[@]}" >/dev/null
	for _ in $(seq 50); do
		[ "$(snapshots "$out")" -ge 3 ] && break
		sleep 0.1
	done
	sleep 0.6
	kill -TERM "$pid" && wait "$pid" || rc=$?
	check_eq "run: SIGTERM ends it with 0" 0 "$rc"
	check_eq "run: the rotated file kept its lines" 1 \
		"$(jq -sc 'map(select(.interfaces)) | length >= 2' "$out.1" | sed 's/true/1/')"
	check_eq "run: SIGHUP reopened --output" 1 \
		"$(jq -sc 'map(select(.interfaces)) | length >= 3' "$out" | sed 's/true/1/')"
	# The deltas of the new file's lines add up to the mix.
	want=$(jq '.traffic.rx.esp.packets' "$WORK/exp.json")
	check_eq "run: deltas of rx esp add up to what was sent" "$want" \
		"$(jq -s '[.[] | select(.delta) | .delta.traffic.rx.esp.packets] | add' "$out")"
	check_eq "run: rates are per second" 1 \
		"$(jq -s '[.[] | select(.rate)][-1] | (.rate.traffic.rx.esp.packets * .interval_seconds
			- .delta.traffic.rx.esp.packets | fabs < 0.01)' "$out" | sed 's/true/1/')"

	timeout 20 "$IPSM_BIN" run vb --netns "$NS_B" --interval 0.3 | head -n 1 >/dev/null
	check_eq "run: a closed pipe ends it with 0" 0 "${PIPESTATUS[0]}"
}

# The shipped logrotate file, with a SIGHUP to our monitor: three forced
# rotations while traffic flows, and afterwards every line of every file is
# whole JSON and the deltas of all lines add up to all that was sent.
test_logrotate() {
	local dir=$WORK/lr conf=$WORK/lr.conf pid i rc=0 want=0 n f
	mkdir -p "$dir"
	"$IPSM_BIN" run vb --netns "$NS_B" --interval 0.2 --output "$dir/ipsecmon.jsonl" \
		2>"$WORK/lr.err" &
	pid=$!
	for _ in $(seq 50); do
		[ "$(snapshots "$dir/ipsecmon.jsonl")" -ge 2 ] && break
		sleep 0.1
	done
	sed -e "s|^/var/log/ipsecmon-bpf/\\*.jsonl|$dir/*.jsonl|" \
		-e "s|^\\([[:space:]]*\\)systemctl kill .*|\\1kill -HUP $pid|" \
		"$TEST_DIR/../../dist/logrotate/ipsecmon-bpf" >"$conf"
	for i in 1 2 3; do
		ipsm_send_mix --expect "$WORK/lr-exp$i.json" "${MIX[@]}" >/dev/null
		want=$((want + $(jq '.traffic.rx.esp.packets' "$WORK/lr-exp$i.json")))
		logrotate -f -s "$WORK/lr.state" "$conf" 2>>"$WORK/lr.err" || rc=$?
		sleep 0.5
	done
	check_eq "logrotate: three forced rotations" 0 "$rc"
	sleep 0.6
	rc=0
	kill -TERM "$pid" && wait "$pid" || rc=$?
	check_eq "logrotate: the monitor ran through them" 0 "$rc"
	check_eq "logrotate: rotated files kept" 3 "$(compgen -G "$dir/ipsecmon.jsonl.*" | wc -l)"
	check_eq "logrotate: SIGHUP made it write a new file" 1 \
		"$([ -s "$dir/ipsecmon.jsonl" ] && echo 1 || echo 0)"
	n=0
	for f in "$dir"/*; do
		n=$((n + $(zcat -f "$f" | wc -l)))
	done
	check_eq "logrotate: every line whole JSON" "$n" \
		"$(zcat -f "$dir"/* | jq -c . 2>/dev/null | wc -l)"
	check_eq "logrotate: no line lost (deltas add up to all that was sent)" "$want" \
		"$(zcat -f "$dir"/* | jq -s '[.[] | select(.delta) | .delta.traffic.rx.esp.packets] | add')"
}

# Sequence gaps need SA rows: without the XDP SA lookup (TC ingress) and
# without a monitor, every SPI gets one. SA 0x0000abcd skips number 3.
test_seq_gap() {
	local out=$WORK/gap.jsonl pid
	ipsm detach vb --netns "$NS_B"
	ipsm attach vb --netns "$NS_B" --hooks tc-ingress,tc-egress
	"$IPSM_BIN" watch --json --gap-threshold 0 --netns "$NS_B" --interval 0.5 >"$out" &
	pid=$!
	for _ in $(seq 50); do
		[ "$(snapshots "$out")" -ge 1 ] && break
		sleep 0.1
	done
	ipsm_send_mix --count 10 --skip 3 >/dev/null
	for _ in $(seq 50); do
		grep -q '"seq_gap"' "$out" && break
		sleep 0.1
	done
	kill -TERM "$pid"
	wait "$pid" || true
	check_eq "watch --json: seq_gap event above the threshold" \
		'[{"spi":"0x0000abcd","dir":"rx","src":"10.77.0.1","gaps":1,"seq_gaps":1,"seq_max":10}]' \
		"$(jq -sc '[.[] | select(.event == "seq_gap") | {spi, dir, src, gaps, seq_gaps, seq_max}]' "$out")"
	check_eq "watch --json: no seq_gap for SAs without gaps" 0 \
		"$(jq -c 'select(.event == "seq_gap" and .spi != "0x0000abcd")' "$out" | wc -l)"
}

# check_plugin NAME WANT_RC PATTERN ARGS...: exit code and status line.
check_plugin() {
	local name=$1 want=$2 pattern=$3 rc=0
	shift 3
	ipsm check --netns "$NS_B" --interval 0.5 "$@" >"$WORK/check.out" 2>/dev/null || rc=$?
	check_eq "check $name: exit code" "$want" "$rc"
	check_lines "check $name: status line" 1 "$WORK/check.out" -E "$pattern"
}

test_check() {
	local pid
	check_plugin "quiet" 0 '^IPSECMON OK - 0 active SAs, bad SPI packets 0\.000/s \|active_sas=0;;;0 bad_spi_rate=0\.000;1;5;0 ' \
		--bad-spi-rate 1,5
	check_plugin "min SAs" 2 '^IPSECMON CRITICAL - 0 active SAs < 1 \|active_sas=0;;1:;0' --min-sas 1
	# Bad SPIs while check samples: 2 x 20 ESP/AH packets in half a second.
	(sleep 0.1 && ipsm_send_mix --count 20 >/dev/null) &
	pid=$!
	check_plugin "bad SPI rate" 2 '^IPSECMON CRITICAL - bad SPI packets [0-9.]+/s >= 5 \|' \
		--bad-spi-rate 1,5 --interval 2
	wait "$pid" || true
	check_plugin "bad option" 3 '^IPSECMON UNKNOWN - bad option' --nonsense
	check_plugin "bad threshold" 3 '^IPSECMON UNKNOWN - bad value' --bad-spi-rate 5
	check_plugin "nothing attached" 3 '^IPSECMON UNKNOWN - cannot read the counters' \
		--pin-dir /sys/fs/bpf/ipsm-faces-none-$$
}

main() {
	need_tools tmux jq
	trap cleanup EXIT
	ipsm_netns_create
	trap cleanup EXIT
	# XDP, not the veth default (TC ingress): without a monitor only the
	# kernel's SA lookup in XDP finds the bad SPIs watch and check show.
	ipsm attach vb --netns "$NS_B" --hooks xdp,tc-egress
	ipsm_send_mix "${MIX[@]}" >/dev/null
	sleep 0.3
	test_watch_tty
	test_watch_pipes
	test_run_stream
	test_logrotate
	test_check
	test_seq_gap
	finish
}

main "$@"
