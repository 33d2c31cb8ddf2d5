#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The whole test suite: unit, the unit tests again under ASan/UBSan
# (sanitize), datapath (BPF_PROG_TEST_RUN), fuzzing (bounded), netns
# integration and the real-kernel VM scenarios. Each suite ends with its own count; this
# script adds them up and ends with "N passed, N failed".
#
#   tests/run.sh              everything
#   tests/run.sh unit bpf     only those suites (unit, sanitize, bpf, fuzz, netns, faces,
#                             prom, dist, vm)
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(unit sanitize bpf fuzz netns faces prom dist vm)

total_pass=0
total_fail=0
failed_suites=()

# Pull the pass/fail counts out of a suite's closing lines.
count() {
	local log=$1 p f
	if grep -q '^\[==========\]' "$log"; then
		# cmocka: one block per test program
		p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\./\1/p' "$log" | awk '{ s += $1 } END { print s + 0 }')
		f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s).*/\1/p' "$log" | awk '{ s += $1 } END { print s + 0 }')
	else
		p=$(sed -n 's/^\([0-9]*\) passed, [0-9]* failed.*/\1/p' "$log" | tail -1)
		f=$(sed -n 's/^[0-9]* passed, \([0-9]*\) failed.*/\1/p' "$log" | tail -1)
	fi
	echo "${p:-0} ${f:-0}"
}

for s in "${suites[@]}"; do
	case $s in
	unit | sanitize | bpf | fuzz | netns | faces | prom | dist | vm) ;;
	*)
		echo "unknown suite '$s' (unit, sanitize, bpf, fuzz, netns, faces, prom, dist, vm)" >&2
		exit 2
		;;
	esac
	echo "=== $s"
	log=$(mktemp)
	make --no-print-directory "test-$s" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	read -r p f < <(count "$log")
	rm -f "$log"
	# A suite that died before counting still counts as one failure.
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	[ "$rc" -eq 0 ] || failed_suites+=("$s")
done

echo
if [ ${#failed_suites[@]} -gt 0 ]; then
	echo "failed suites: ${failed_suites[*]}"
fi
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ] && [ ${#failed_suites[@]} -eq 0 ]
