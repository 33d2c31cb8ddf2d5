#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The datapath fuzzer (tests/fuzz/fuzz_datapath.c) on this guest's kernel:
# mutated frames of every shape through every program the kernel loads
# (the XDP SA-lookup one only where its BTF has bpf_xdp_get_xfrm_state).
# Each program must pass every frame unchanged and count it exactly once,
# and verify within a quarter of the verifier's 1M-instruction limit.
# The host runs the same fuzzer; a guest's verifier and helpers are what
# differ.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib/guest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/guest.sh"

FUZZ=$REPO/build/fuzz_datapath
FRAMES=${IPSECMON_VM_FUZZ_FRAMES:-100000}

if [[ ! -x $FUZZ ]]; then
	fail "fuzz_datapath built" "$FUZZ" "missing (make build/fuzz_datapath)"
	exit 1
fi
out=$("$FUZZ" -n "$FRAMES" 2>&1) || true
printf '%s\n' "$out" | sed 's/^/    /'
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' <<<"$out" | tail -1)
check_eq "fuzzer ran to its end" "yes" "$([[ -n $line ]] && echo yes || echo no)"
check_eq "fuzzer failures" 0 "$(awk '{ print $3 }' <<<"${line:-x x 1}")"
progs=$(grep -c '^ok [a-z_]*/mutated_frames$' <<<"$out" || true)
# No process substitution: the guest's /dev has no /dev/fd.
# grep -c reads to the end, so bpftool never sees a closed pipe.
kfunc=$(bpftool btf dump file /sys/kernel/btf/vmlinux 2>/dev/null |
	grep -c bpf_xdp_get_xfrm_state || true)
if [[ ${kfunc:-0} -gt 0 ]]; then
	check_eq "programs fuzzed (xdp, tc_in, tc_eg, xdp_kfunc)" 4 "$progs"
else
	check_eq "programs fuzzed (xdp, tc_in, tc_eg)" 3 "$progs"
fi
