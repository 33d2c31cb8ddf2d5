#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make test-vm: every scenario on both kernels, then on 6.12 the demo (make
# demo's guest part, whose key numbers are assertions) and the systemd unit
# under a real systemd, and one closing "N passed, N failed" over all for
# tests/run.sh.
set -uo pipefail

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pass=0 fail=0 rc=0

# run LOG [ENV...]: one run.sh, its output shown and kept in LOG.
run() {
	local log=$1 p f r
	shift
	env "$@" "$VM_DIR/run.sh" 2>&1 | tee "$log"
	r=${PIPESTATUS[0]}
	p=$(sed -n 's/^\([0-9]*\) passed, [0-9]* failed$/\1/p' "$log" | tail -1)
	f=$(sed -n 's/^[0-9]* passed, \([0-9]*\) failed$/\1/p' "$log" | tail -1)
	# A run that ended without its count is one failure.
	[[ -n $f ]] || f=1
	((r == 0 || f > 0)) || f=1
	pass=$((pass + ${p:-0})) fail=$((fail + f))
	((r == 0)) || rc=1
}

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
run "$logs/scenarios"
run "$logs/demo" IPSECMON_VM_SUITE=demo IPSECMON_VM_KERNEL=6.12
run "$logs/systemd" IPSECMON_VM_SUITE=systemd IPSECMON_VM_KERNEL=6.12
echo "$pass passed, $fail failed"
exit "$rc"
