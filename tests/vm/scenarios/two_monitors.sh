#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# One monitor per namespace: with `run` up on gw2, a second `run` on the
# same interface and pins must exit 9 with a clear message and change
# nothing (the first keeps running, its totals and correlation stay), while
# the readers work beside the monitor: `stats --json`, `watch --json` (two
# lines) and `check`.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib/guest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/guest.sh"

N=5
SPI12=0x1001
SPI21=0x2001
WIRE=140

if ! have_ipsecmon; then
	skip "ipsecmon two-monitor scenario" "no ipsecmon-bpf binary"
	ok "nothing to do without ipsecmon-bpf"
	exit 0
fi

# What the first monitor counted, and what this kernel's correlation is.
STATE='[.ipsecmon | .correlation, .active_sas, .key_additions, .key_deletions,
	.bad_spi_packets, .confidential_bytes_received, .confidential_bytes_sent,
	.packets_not_decrypted], .traffic.rx.esp.packets, .traffic.tx.esp.packets'

setup_gateways
ipsec_pair cbc-sha256 "$SPI12" "$SPI21"
ipsecmon_attach gw2 v2
ipsecmon_monitor gw2 v2
check_eq "echo replies" "$N" "$(ping_n gw1 "$GW2_V4" "$N")"
settle
ipsecmon_monitor_sync
want="[[\"$IPSECMON_CORR\",2,0,0,0,$((N * WIRE)),$((N * WIRE)),0],$N,$N]"
check_eq "ipsecmon state with the first monitor" "$want" "$(ipsecmon_q gw2 "[$STATE]")"
hooks=$("$IPSECMON_BIN" status --json --netns gw2 --pin-dir "$_IPSECMON_PIN" | jq -c '[.interfaces[] | {name, hooks}]')

# shellcheck disable=SC2034 # where check_rc (tests/lib/assert.sh) leaves the output
LAST_OUT=/tmp/second.out
check_rc "second run in the same namespace: exit 9" 9 \
	timeout 30 "$IPSECMON_BIN" run v2 --netns gw2 --pin-dir "$_IPSECMON_PIN" --interval 0.5
note "second run said: $(tr '\n' ' ' </tmp/second.out)"
check_eq "second run: the message names the other monitor" 1 \
	"$(grep -c 'another monitor already runs in this network namespace' /tmp/second.out || true)"
check_eq "second run: no JSON line of its own" 0 "$(grep -c '"schema"' /tmp/second.out || true)"
check_eq "first monitor still running" 0 "$(kill -0 "$_IPSECMON_MON_PID" 2>/dev/null && echo 0 || echo 1)"
# The first one goes on writing snapshots, with the same totals.
ipsecmon_monitor_sync
check_eq "ipsecmon state after the second run" "$want" "$(ipsecmon_q gw2 "[$STATE]")"
check_eq "first monitor's last line after the second run" "$want" \
	"$(jq -sc "[.[] | select(.interfaces)] | last | [$STATE]" "$IPSECMON_MON_OUT")"
check_eq "hooks unchanged by the second run" "$hooks" \
	"$("$IPSECMON_BIN" status --json --netns gw2 --pin-dir "$_IPSECMON_PIN" | jq -c '[.interfaces[] | {name, hooks}]')"

# The readers beside the monitor.
check_rc "stats --json beside the monitor: exit 0" 0 \
	"$IPSECMON_BIN" stats --json --netns gw2 --pin-dir "$_IPSECMON_PIN"
check_eq "stats --json: schema and state" "[\"ipsecmon-bpf/1\",$want]" \
	"$(jq -c "[.schema, [$STATE]]" /tmp/second.out)"
rc=0
timeout 20 "$IPSECMON_BIN" watch --json --interval 0.5 --netns gw2 --pin-dir "$_IPSECMON_PIN" |
	head -n 2 >/tmp/watch.jsonl || rc=$?
note "watch pipeline status: $rc"
check_eq "watch --json: two snapshot lines with the monitor's state" "$want $want" \
	"$(jq -c "select(.interfaces) | [$STATE]" /tmp/watch.jsonl | tr '\n' ' ' | sed 's/ $//')"
check_eq "watch --json: the second line has its delta" 1 \
	"$(jq -s '.[1] | if .delta then 1 else 0 end' /tmp/watch.jsonl)"
check_rc "check beside the monitor: exit 0 (OK)" 0 \
	"$IPSECMON_BIN" check --interval 0.5 --netns gw2 --pin-dir "$_IPSECMON_PIN"
note "check said: $(head -c 300 /tmp/second.out)"
check_eq "check: IPSECMON OK" 1 "$(grep -c '^IPSECMON OK - 2 active SAs' /tmp/second.out || true)"
check_eq "first monitor still running after the readers" 0 \
	"$(kill -0 "$_IPSECMON_MON_PID" 2>/dev/null && echo 0 || echo 1)"
ipsecmon_monitor_sync
check_eq "ipsecmon state at the end" "$want" "$(ipsecmon_q gw2 "[$STATE]")"
check_eq "ipsecmon totals never went down" 1 "$(ipsecmon_monotonic)"
ipsecmon_monitor_stop
teardown_gateways
