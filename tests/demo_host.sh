#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The host demo (make demo where no guest can boot): two throwaway network namespaces joined by
# a veth pair, ipsecmon-bpf on the receiving end, a crafted mix of IPsec
# traffic from the other end, the counters, then everything removed again
# (also on Ctrl-C). Needs root; touches nothing outside the two namespaces
# and their pins. The host kernel needs no IPsec support: the ESP and AH
# packets are crafted, not encrypted.
set -euo pipefail

DEMO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/netns.sh
source "$DEMO_DIR/lib/netns.sh"

say() {
	printf '\n==> %s\n' "$*"
}

demo_cleanup() {
	# Runs once, from the EXIT trap, however the demo ended.
	trap - EXIT
	if [ "$IPSM_NETNS_CREATED" = 1 ]; then
		say "Cleaning up: detach ipsecmon-bpf, delete $NS_A and $NS_B"
		"$IPSM_BIN" detach --all --netns "$NS_B" 2>/dev/null || true
		ipsm_netns_cleanup
	fi
	rm -f "${EXPECT:-}"
}

if [ "$(id -u)" != 0 ]; then
	echo "demo: needs root (network namespaces, BPF)" >&2
	exit 1
fi
if [ ! -x "$IPSM_BIN" ]; then
	echo "demo: $IPSM_BIN missing; run make first" >&2
	exit 1
fi

say "Creating namespaces $NS_A (va, 10.77.0.1, fd77::1) and $NS_B (vb, 10.77.0.2, fd77::2)"
ipsm_netns_create
# After ipsm_netns_create, whose trap this replaces: ours narrates.
trap demo_cleanup EXIT
EXPECT=$(mktemp /tmp/ipsm-demo.XXXXXX)

say "Attaching ipsecmon-bpf to vb in $NS_B (XDP counts rx, TC egress counts tx)"
echo "    (XDP asked for: a plain attach on a veth receives on TC ingress, which"
echo "    has no kernel SA lookup, and without a monitor no bad SPIs are found)"
echo "+ ipsecmon-bpf attach vb --netns $NS_B --hooks xdp,tc-egress"
"$IPSM_BIN" attach vb --netns "$NS_B" --hooks xdp,tc-egress
echo "+ ipsecmon-bpf status --netns $NS_B"
"$IPSM_BIN" status --netns "$NS_B"

say "Sending from $NS_A: ESP over IPv4 and IPv6, AH, ESP-in-UDP, IKEv2, NAT keepalives, plain UDP/TCP"
echo "    (SA 0x0000abcd skips sequence number 3 and replays 2: one gap, one replay)"
ipsm_send_mix --count 5 --skip 3 --replay 2 --expect "$EXPECT"
echo "    sent $(jq .frames "$EXPECT") frames"
# The datapath counts in softirq; give the last frames a moment to land.
sleep 0.5

say "What ipsecmon-bpf counted on vb"
echo "+ ipsecmon-bpf stats --netns $NS_B"
"$IPSM_BIN" stats --netns "$NS_B"

say "The same as JSON (first lines)"
echo "+ ipsecmon-bpf stats --json --pretty --netns $NS_B | head -n 30"
# Captured first: head closing the pipe early would fail the command.
json=$("$IPSM_BIN" stats --json --pretty --netns "$NS_B")
head -n 30 <<<"$json"
echo "    ... ($(wc -l <<<"$json") lines in all)"
