#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Throwaway test bed, sourced by the netns, faces and prom suites and by
# tests/demo_host.sh: two network namespaces joined by one veth pair.
#
#   NS_A (va, 02:77:00:00:00:01)  10.77.0.1/24  fd77::1/64
#   NS_B (vb, 02:77:00:00:00:02)  10.77.0.2/24  fd77::2/64
#
# A must stay silent unless a test sends something, so that what vb receives
# can be compared with exact numbers: fixed MACs and permanent neighbour
# entries (no ARP, no ND), no DAD, no router solicitations, no IPv6
# link-local address, and va is NOARP, which also keeps the kernel from
# joining solicited-node groups and sending MLD reports for them. The frames
# under test are crafted by send_mix.py on a packet socket and need none of
# A's own stack. B keeps ARP on: it behaves like a normal receiver, and what
# it sends (resets, ICMP errors, MLD) is only ever tx on vb.
#
# Usage:
#   source tests/lib/netns.sh
#   ipsm_netns_create          # sets NS_A, NS_B; installs the EXIT trap
#   ... ip netns exec "$NS_A" ...; "$IPSM_BIN" attach vb --netns "$NS_B"
#
# Set IPSM_EXTRA_PIN_DIRS=(dir...) for pin directories other than the
# default that cleanup must detach and remove too.

# shellcheck disable=SC2034 # the variables below are for the sourcing script
IPSM_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IPSM_REPO=$(cd "$IPSM_LIB_DIR/../.." && pwd)
IPSM_BIN=${IPSECMON_BPF:-$IPSM_REPO/build/ipsecmon-bpf}
# Debian's interpreter: it is the one with python3-scapy.
IPSM_PYTHON=${IPSM_PYTHON:-/usr/bin/python3}

NS_A="ipsm-a-$$"
NS_B="ipsm-b-$$"
MAC_A=02:77:00:00:00:01
MAC_B=02:77:00:00:00:02
IP4_A=10.77.0.1
IP4_B=10.77.0.2
IP6_A=fd77::1
IP6_B=fd77::2
IPSM_EXTRA_PIN_DIRS=()
IPSM_NETNS_CREATED=0

# ipsm_netns_preflight TOOL...: a suite's preflight (needs tests/lib/assert.sh):
# bail unless root, TOOL... on PATH, the binary built and scapy importable.
ipsm_netns_preflight() {
	local -a extra=()
	need_root
	[ -x "$IPSM_BIN" ] || extra+=("$IPSM_BIN (make)")
	"$IPSM_PYTHON" -c 'import scapy' 2>/dev/null || extra+=(python3-scapy)
	need_tools "$@" -- "${extra[@]}"
}

# Idempotent, never fails: it runs from the EXIT trap, also after an error
# half-way through setup.
ipsm_netns_cleanup() {
	local ns dir
	[ "$IPSM_NETNS_CREATED" = 1 ] || return 0
	for ns in "$NS_B" "$NS_A"; do
		[ -e "/run/netns/$ns" ] || continue
		# Pins outlive the namespace: detach while it can still be named.
		"$IPSM_BIN" detach --all --netns "$ns" >/dev/null 2>&1 || true
		for dir in "${IPSM_EXTRA_PIN_DIRS[@]}"; do
			"$IPSM_BIN" detach --all --netns "$ns" --pin-dir "$dir" \
				>/dev/null 2>&1 || true
		done
	done
	for ns in "$NS_B" "$NS_A"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	for dir in "${IPSM_EXTRA_PIN_DIRS[@]}"; do
		# Only if empty: anything left in it is worth looking at.
		rmdir "$dir" 2>/dev/null || true
	done
	IPSM_NETNS_CREATED=0
}

# sysctls that keep one end quiet; $1 namespace, $2 interface.
ipsm_netns_quiet() {
	local ns=$1 dev=$2
	ip netns exec "$ns" sysctl -qw \
		net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.all.router_solicitations=0 \
		net.ipv6.conf.default.router_solicitations=0 \
		"net.ipv6.conf.$dev.accept_dad=0" \
		"net.ipv6.conf.$dev.router_solicitations=0" \
		"net.ipv6.conf.$dev.accept_ra=0"
	# No link-local address: nothing for DAD, RS or MLD to start from.
	ip -n "$ns" link set dev "$dev" addrgenmode none
}

ipsm_netns_create() {
	trap ipsm_netns_cleanup EXIT
	# Ctrl-C and kill go through the EXIT trap too.
	trap 'exit 130' INT
	trap 'exit 143' TERM

	ip netns add "$NS_A"
	IPSM_NETNS_CREATED=1
	ip netns add "$NS_B"
	ip link add va netns "$NS_A" address "$MAC_A" type veth \
		peer name vb netns "$NS_B" address "$MAC_B"

	ipsm_netns_quiet "$NS_A" va
	# Before the neighbour entries: turning ARP off flushes them.
	ip -n "$NS_A" link set dev va arp off
	ipsm_netns_quiet "$NS_B" vb

	ip -n "$NS_A" addr add "$IP4_A/24" dev va
	ip -n "$NS_B" addr add "$IP4_B/24" dev vb
	ip -n "$NS_A" -6 addr add "$IP6_A/64" dev va nodad
	ip -n "$NS_B" -6 addr add "$IP6_B/64" dev vb nodad
	ip -n "$NS_A" neigh replace "$IP4_B" lladdr "$MAC_B" dev va nud permanent
	ip -n "$NS_A" neigh replace "$IP6_B" lladdr "$MAC_B" dev va nud permanent
	ip -n "$NS_B" neigh replace "$IP4_A" lladdr "$MAC_A" dev vb nud permanent
	ip -n "$NS_B" neigh replace "$IP6_A" lladdr "$MAC_A" dev vb nud permanent

	ip -n "$NS_A" link set lo up
	ip -n "$NS_B" link set lo up
	ip -n "$NS_A" link set va up
	ip -n "$NS_B" link set vb up
}

# Run the traffic generator in NS_A; arguments go to send_mix.py. Pinned to
# one CPU: the datapath keeps sequence state per CPU (veth hands a frame to
# the receiver on the sender's CPU), and a sender that migrated mid-run
# could split an SA's sequence over two CPUs and show gaps that are not.
ipsm_send_mix() {
	local affinity cpu
	# The first CPU we may run on (not necessarily 0 under a cpuset).
	affinity=$(taskset -pc $$)
	affinity=${affinity##*: }
	cpu=${affinity%%[,-]*}
	ip netns exec "$NS_A" taskset -c "$cpu" "$IPSM_PYTHON" "$IPSM_LIB_DIR/send_mix.py" \
		--iface va --src-mac "$MAC_A" --dst-mac "$MAC_B" \
		--src4 "$IP4_A" --dst4 "$IP4_B" --src6 "$IP6_A" --dst6 "$IP6_B" "$@"
}
