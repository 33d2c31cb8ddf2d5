#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Offload (README "Offload"): a netdevsim port (IPsec crypto offload; the
# module is built by run.sh, Debian's kernels lack it) in namespace off,
# with an outbound and an inbound ESP SA offloaded to it and an outbound SA
# that is not. 5 pings go out on the offloaded SA: netdevsim counts them
# as offloaded transmits, the kernel's SA their bytes. ipsecmon: offload
# crypto or none and the device per SA, offloaded_sas 2,
# offloaded_bytes_sent = the kernel's bytes, received 0; the SA deleted
# under the monitor: offloaded_sas 1 and the bytes stay (folded); the same
# in Prometheus and watch's tunnels pane.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib/guest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/guest.sh"

NS=off
ID=$((100 + RANDOM % 100))
LOCAL=192.0.2.1
PEER=192.0.2.2
OTHER=192.0.2.3
N=5
PROM=127.0.0.1:9479
IPSECMON_MON_INTERVAL=0.5
AEAD="rfc4106(gcm(aes))"

# The SAs, the namespace and the device go, then netdevsim and the ESP
# offload modules the offloaded SAs loaded: with esp4_offload in the kernel
# every later SA of this guest takes the ESP GSO path, where TC egress sees
# outbound ESP before its trailer and ICV (README "Limits"), and the
# scenarios after this one count other bytes.
# Also on an abort, before guest.sh's own exit handler.
teardown_offload() {
	ip -n "$NS" xfrm state flush 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	echo "$ID" >/sys/bus/netdevsim/del_device 2>/dev/null || true
	wait_for 30 modprobe -r netdevsim esp4_offload || true
}
# shellcheck disable=SC2154 # _rc is set in the trap itself
trap '_rc=$?; teardown_offload; (exit "$_rc"); _guest_on_exit' EXIT
cleanup() {
	teardown_offload
	check_eq "netdevsim and esp4_offload unloaded after the scenario" "" \
		"$(grep -oE '^(netdevsim|esp4_offload) ' /proc/modules | tr -d ' ' | tr '\n' ' ')"
}
# nsim_ipsec: "SAs transmits" from the port's debugfs (SA count=N tx=N).
nsim_ipsec() {
	sed -n 's/^SA count=\([0-9]*\) tx=\([0-9]*\).*/\1 \2/p' \
		"/sys/kernel/debug/netdevsim/netdevsim$ID/ports/0/ipsec"
}

if ! modprobe netdevsim; then
	check_eq "modprobe netdevsim (run.sh builds it)" 0 1
	exit 1
fi
mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug
echo "$ID 1" >/sys/bus/netdevsim/new_device
wait_for 10 test -d "/sys/bus/netdevsim/devices/netdevsim$ID/net" || true
dev=$(ls "/sys/bus/netdevsim/devices/netdevsim$ID/net")
note "netdevsim$ID port: $dev"
ip netns del "$NS" 2>/dev/null || true
ip netns add "$NS"
ip link set "$dev" netns "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" link set "$dev" up
ip -n "$NS" addr add "$LOCAL/24" dev "$dev"
ip -n "$NS" neigh replace "$PEER" lladdr 02:00:00:00:00:02 dev "$dev" nud permanent
ip -n "$NS" neigh replace "$OTHER" lladdr 02:00:00:00:00:03 dev "$dev" nud permanent
KEY=0x$(key_hex offload 20)
ip -n "$NS" xfrm state add src "$LOCAL" dst "$PEER" proto esp spi 0x5001 reqid 1 \
	mode transport aead "$AEAD" "$KEY" 128 offload dev "$dev" dir out
ip -n "$NS" xfrm state add src "$PEER" dst "$LOCAL" proto esp spi 0x5002 reqid 1 \
	mode transport aead "$AEAD" "$KEY" 128 offload dev "$dev" dir in
ip -n "$NS" xfrm state add src "$LOCAL" dst "$OTHER" proto esp spi 0x5003 reqid 3 \
	mode transport aead "$AEAD" "$KEY" 128
ip -n "$NS" xfrm policy add src "$LOCAL" dst "$PEER" dir out \
	tmpl src "$LOCAL" dst "$PEER" proto esp reqid 1 mode transport
check_eq "netdevsim: [SAs, offloaded transmits] before traffic" "2 0" "$(nsim_ipsec)"
if ! have_ipsecmon; then
	cleanup
	exit 0
fi
ipsecmon_attach "$NS" "$dev"
ipsecmon_monitor "$NS" "$dev" --prometheus "$PROM"

nsx "$NS" ping -n -q -c "$N" -i 0.2 -W 1 "$PEER" >/dev/null 2>&1 || true
settle
ipsecmon_monitor_sync
bytes=$(sa_stat "$NS" esp 0x5001 bytes)
note "kernel: SA 0x5001 $(sa_stat "$NS" esp 0x5001 packets) packets, $bytes bytes"
check_eq "netdevsim: [SAs, offloaded transmits]" "2 $N" "$(nsim_ipsec)"
check_eq "kernel SA 0x5001 packets" "$N" "$(sa_stat "$NS" esp 0x5001 packets)"
check_eq "0x5001 out [known, offload, device, wire packets]" "[true,\"crypto\",\"$dev\",$N]" \
	"$(ipsecmon_sa "$NS" 0x5001 tx '[.known, .offload, .offload_dev, .packets]')"
check_eq "0x5002 in [known, offload, device]" "[true,\"crypto\",\"$dev\"]" \
	"$(ipsecmon_sa "$NS" 0x5002 rx '[.known, .offload, .offload_dev]')"
check_eq "0x5003 out, not offloaded [offload, device, ifindex]" '["none",null,null]' \
	"$(ipsecmon_sa "$NS" 0x5003 tx '[.offload, .offload_dev, .offload_ifindex]')"
check_eq "[offloaded_sas, bytes sent, bytes received] = [2, the kernel's, 0]" \
	"[2,$bytes,0]" "$(ipsecmon_q "$NS" '.ipsecmon | [.offloaded_sas,
		.offloaded_bytes_sent, .offloaded_bytes_received]')"
note "wire bytes of 0x5001 (IP bytes of the ESP packets): $(ipsecmon_sa "$NS" 0x5001 tx .bytes)"
note "sample: $(ipsecmon_q "$NS" '[.sas[] | {spi, dir, offload, offload_dev, offload_ifindex, packets, bytes, kernel_bytes: .kernel.bytes}]')"
note "sample: $(ipsecmon_q "$NS" '.ipsecmon | {offloaded_sas, offloaded_bytes_sent, offloaded_bytes_received}')"

metrics=$(ipsecmon_metrics "$NS" "$PROM")
check_eq "Prometheus: offloaded SAs, bytes tx, rx" "2 $bytes 0" \
	"$(awk '$1 == "ipsecmon_offloaded_sas" { n = $2 }
		$1 == "ipsecmon_offloaded_bytes_total{direction=\"tx\"}" { t = $2 }
		$1 == "ipsecmon_offloaded_bytes_total{direction=\"rx\"}" { r = $2 }
		END { print n, t, r }' <<<"$metrics")"

watch_start "$NS" --interval 0.5
watch_wait 'Seq out'
watch_keys t
watch_wait '^ OFFLOADED'
check_lines "watch, tunnels pane: the offload line" 1 /tmp/pane \
	-E "^ OFFLOADED SAs 2: bytes sent [0-9.]+ (B|KiB), received 0 B \(kernel's count\)$"
grep '^ OFFLOADED' /tmp/pane | sed 's/^/#    watch: /' || true
watch_stop

# The offloaded SA goes: its kernel bytes stay in the totals.
ip -n "$NS" xfrm state delete src "$LOCAL" dst "$PEER" proto esp spi 0x5001
ipsecmon_monitor_sync
ipsecmon_monitor_sync
check_eq "after deleting 0x5001 [offloaded_sas, bytes sent, key deletions]" "[1,$bytes,1]" \
	"$(ipsecmon_q "$NS" '.ipsecmon | [.offloaded_sas, .offloaded_bytes_sent, .key_deletions]')"
check_eq "netdevsim: SAs after the deletion" 1 "$(nsim_ipsec | cut -d' ' -f1)"
ipsecmon_monitor_stop
cleanup
