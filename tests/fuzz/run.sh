#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The fuzz suite: mutated frames through every BPF program (fuzz_datapath),
# then the libFuzzer harnesses of the XFRM netlink and xfrm_stat parsers,
# each replaying its checked-in corpus and then fuzzing for a bounded time.
# One "ok NAME" / "FAIL NAME: ..." line per program and per target, then
# "N passed, N failed" (tests/lib/assert.sh).
#
#   tests/fuzz/run.sh          bounded, what make test runs: 10^5 frames per
#                              program, 20 s per libFuzzer target
#   tests/fuzz/run.sh long     make fuzz: 10^7 frames, 600 s per target
#
# IPSM_FUZZ_SEED, IPSM_FUZZ_FRAMES and IPSM_FUZZ_TIME (seconds per target)
# override the defaults. libFuzzer's crash inputs land in build/fuzz/ as
# <target>-crash-<sha1>; reproduce one with build/fuzz/fuzz_<target> FILE.
set -uo pipefail

cd "$(dirname "$0")/../.." || exit 2
. tests/lib/assert.sh

mode=${1:-bounded}
case $mode in
bounded)
	frames=100000
	secs=20
	;;
long)
	frames=10000000
	secs=600
	;;
*)
	echo "usage: $0 [bounded|long]" >&2
	exit 2
	;;
esac
frames=${IPSM_FUZZ_FRAMES:-$frames}
secs=${IPSM_FUZZ_TIME:-$secs}

# As the Makefile's SAN_ENV sets them, for a direct run.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

out=build/fuzz
targets=(xfrm_nl xfrm_stat)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

need_root
need_tools -- $(for b in build/fuzz_datapath "${targets[@]/#/$out/fuzz_}"; do
	[ -x "$b" ] || echo "$b"
done)

# --- (a) mutated frames through the programs --------------------------------

log=$work/datapath.log
build/fuzz_datapath -n "$frames" >"$log" 2>&1
rc=$?
# Its ok/FAIL lines are shown as they are; its own count is added to ours.
grep -v '^[0-9]* passed, [0-9]* failed$' "$log"
read -r p f < <(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$log" | tail -1)
PASS=$((PASS + ${p:-0}))
FAIL=$((FAIL + ${f:-0}))
if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
	fail datapath/run "exit 0" "exit $rc"
fi

# --- (b) libFuzzer ---------------------------------------------------------

# Every checked-in input once, the regress-* inputs of fixed bugs included.
for t in "${targets[@]}"; do
	n=$(find tests/fuzz/corpus/"$t" -type f | wc -l)
	if "$out/fuzz_$t" tests/fuzz/corpus/"$t"/* >"$work/replay-$t.log" 2>&1; then
		ok "$t/corpus_replay_$n"
	else
		tail -30 "$work/replay-$t.log"
		fail "$t/corpus_replay_$n" "no crash" "$(grep -m1 'SUMMARY\|ERROR:\|runtime error' \
			"$work/replay-$t.log")"
	fi
done

# Both targets at once: one core each. New inputs collect in build/fuzz/,
# never in the checked-in corpus.
for t in "${targets[@]}"; do
	mkdir -p "$out/corpus-$t"
	"$out/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$out/$t-" \
		"$out/corpus-$t" tests/fuzz/corpus/"$t" >"$work/fuzz-$t.log" 2>&1 &
	echo $! >"$work/pid-$t"
done
for t in "${targets[@]}"; do
	wait "$(cat "$work/pid-$t")"
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz-$t.log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/fuzz-$t.log")
	if [ "$rc" -eq 0 ]; then
		ok "$t/libfuzzer_${secs}s"
		echo "# $t: ${execs:-?} execs in ${secs} s, ${rate:-?} execs/s"
	else
		tail -40 "$work/fuzz-$t.log"
		art=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$work/fuzz-$t.log" | tail -1)
		fail "$t/libfuzzer_${secs}s" "no crash" \
			"exit $rc, input ${art:-?} (replay: $out/fuzz_$t ${art:-FILE})"
	fi
done

finish
