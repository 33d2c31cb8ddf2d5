#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: real IPsec in a qemu guest running Debian 12's 6.12 kernel
# (tests/vm/demo/real_ipsec.sh: strongSwan gateways, a rekey, a wrong key,
# a deleted SA, ipsecmon-bpf watching), downloaded into the VM cache on
# first use. Where no guest can boot (no qemu, or TCG fails), the host demo
# (tests/demo_host.sh, crafted packets on a veth) runs instead, and says why.
set -euo pipefail

DEMO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [ "$(id -u)" != 0 ]; then
	echo "demo: needs root (network namespaces, BPF, the guest's cache)" >&2
	exit 1
fi

fallback() {
	printf '\n==> No guest for the real-IPsec demo: %s\n' "$1"
	printf '    (the host kernel has no ESP; the host demo crafts its packets instead)\n'
	exec "$DEMO_DIR/demo_host.sh"
}

command -v qemu-system-x86_64 >/dev/null || fallback "qemu-system-x86_64 is not installed"
if [ "${IPSECMON_DEMO_HOST:-0}" = 1 ]; then
	fallback "the host demo was asked for (IPSECMON_DEMO_HOST=1)"
fi
# TCG (software emulation) is all it needs: no /dev/kvm.
qemu-system-x86_64 -accel help 2>/dev/null | grep -qx tcg || fallback "this qemu has no TCG"

rc=0
IPSECMON_VM_SUITE=demo IPSECMON_VM_KERNEL=${IPSECMON_VM_KERNEL:-6.12} \
	"$DEMO_DIR/vm/run.sh" real_ipsec || rc=$?
case $rc in
0) ;;
2) fallback "the guest could not be prepared (see the ipsecmon-vm lines above)" ;;
*)
	# The guest ran and something in it failed: that is a real failure.
	echo "demo: the real-IPsec demo failed (exit $rc)" >&2
	exit "$rc"
	;;
esac
