#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A plain `attach` on a veth receives on TC ingress (XDP there would slow
# the traffic; it says so), then `run` on the same interface: run must keep the hooks it finds (it
# used to exit 2, "xdp and tc-ingress would both count"), count as usual
# (N pings: N ESP packets in, N out, on their SAs), leave the hooks in
# place when it stops, and `status --json` must show the TC hooks and no
# XDP program. TC ingress has no kernel SA lookup, so on every kernel the
# monitor is what correlates.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib/guest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/guest.sh"

N=10
SPI12=0x1001
SPI21=0x2001
WIRE=140

if ! have_ipsecmon; then
	skip "ipsecmon TC hooks scenario" "no ipsecmon-bpf binary"
	ok "nothing to do without ipsecmon-bpf"
	exit 0
fi

# hooks: the v2 entry of status --json, as [hooks, hooks_live, xdp_mode].
hooks() {
	"$IPSECMON_BIN" status --json --netns gw2 --pin-dir "$_IPSECMON_PIN" |
		jq -c '[.interfaces[] | select(.name == "v2") | [.hooks, .hooks_live, .xdp_mode]][0]'
}
TC='[["tc-ingress","tc-egress"],["tc-ingress","tc-egress"],null]'

setup_gateways
ipsec_pair cbc-sha256 "$SPI12" "$SPI21"
_IPSECMON_PIN=/sys/fs/bpf/ipsecmon-vm-tc-$RANDOM$RANDOM
# shellcheck disable=SC2034 # where check_rc (tests/lib/assert.sh) leaves the output
LAST_OUT=/tmp/attach.out
check_rc "attach -v v2 (a veth, no --hooks): exit 0" 0 \
	"$IPSECMON_BIN" attach v2 --netns gw2 --pin-dir "$_IPSECMON_PIN" -v
check_eq "attach said why it chose TC ingress" 1 \
	"$(grep -c '^ipsecmon-bpf: v2: receiving on TC ingress (driver veth: XDP would slow its traffic; --hooks xdp,tc-egress to have it)$' "$LAST_OUT" || true)"
check_eq "status --json after attach: TC hooks, no XDP" "$TC" "$(hooks)"
check_eq "no XDP program on v2" 0 "$(ip -n gw2 link show dev v2 | grep -c 'xdp' || true)"
check_eq "correlation, bad-SPI detection without run" '["inactive","inactive"]' \
	"$(ipsecmon_q gw2 '[.ipsecmon.correlation, .ipsecmon.bad_spi_detection]')"

# run on the same interface, without --hooks: it keeps what it found.
ipsecmon_monitor gw2 v2
sleep 1
check_eq "run keeps running beside the TC hooks" 0 \
	"$(kill -0 "$_IPSECMON_MON_PID" 2>/dev/null && echo 0 || echo 1)"
note "run's stderr: $(head -c 300 "$IPSECMON_MON_OUT.err" | tr '\n' ' ')"
check_eq "status --json with run: the same TC hooks" "$TC" "$(hooks)"
check_eq "run's first line: hooks of v2" '["tc-ingress","tc-egress"]' \
	"$(jq -sc '[.[] | select(.interfaces)][0].interfaces[] | select(.name == "v2") | .hooks' "$IPSECMON_MON_OUT")"

check_eq "echo replies" "$N" "$(ping_n gw1 "$GW2_V4" "$N")"
settle
check_eq "gw2 in SA $SPI12 packets" "$N" "$(sa_stat gw2 esp "$SPI12" packets)"
check_eq "gw2 out SA $SPI21 packets" "$N" "$(sa_stat gw2 esp "$SPI21" packets)"
ipsecmon_monitor_sync
check_eq "ipsecmon rx/tx esp [packets, bytes]" "[$N,$((N * WIRE)),$N,$((N * WIRE))]" \
	"$(ipsecmon_q gw2 '[.traffic.rx.esp.packets, .traffic.rx.esp.bytes, .traffic.tx.esp.packets,
		.traffic.tx.esp.bytes]')"
check_eq "ipsecmon [correlation, bad-SPI detection, active SAs, bad SPIs]" \
	'["monitor","active",2,0]' \
	"$(ipsecmon_q gw2 '[.ipsecmon | .correlation, .bad_spi_detection, .active_sas, .bad_spi_packets]')"
check_eq "ipsecmon in SA $SPI12 [known, wire, kernel packets]" "[true,$N,$N]" \
	"$(ipsecmon_sa gw2 "$SPI12" rx '[.known, .packets, .kernel.packets]')"
check_eq "ipsecmon out SA $SPI21 [known, wire, kernel packets]" "[true,$N,$N]" \
	"$(ipsecmon_sa gw2 "$SPI21" tx '[.known, .packets, .kernel.packets]')"
check_eq "ipsecmon byte counters [confidential rx, tx; failures]" \
	"[$((N * WIRE)),$((N * WIRE)),0,0,0]" \
	"$(ipsecmon_q gw2 '[.ipsecmon | .confidential_bytes_received, .confidential_bytes_sent,
		.packets_not_decrypted, .packets_not_authenticated, .packets_replayed]')"
check_eq "ipsecmon totals never went down" 1 "$(ipsecmon_monotonic)"
ipsecmon_monitor_stop
check_eq "status --json after run stopped: the TC hooks stay" "$TC" "$(hooks)"
check_eq "ipsecmon rx/tx esp packets after run stopped" "[$N,$N]" \
	"$(ipsecmon_q gw2 '[.traffic.rx.esp.packets, .traffic.tx.esp.packets]')"
teardown_gateways
