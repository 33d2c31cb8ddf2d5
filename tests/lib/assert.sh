#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Assertions for every shell test suite (sourced): one "ok NAME" or
# "FAIL NAME: expected X got Y" line per check, and finish() prints the
# "N passed, N failed" line tests/run.sh adds up. Only ok and fail touch the
# counters, so every check is counted exactly once whichever helper made it.
# The helpers never exit on a failed check (bail aside): the rest of a suite
# still runs and shows everything that is wrong.
#
# Checks must run in the suite's own shell, not in a pipeline or $(...):
# a subshell's counts are lost.

PASS=0
FAIL=0
# Where check_rc leaves a command's stdout and stderr; set it to a file in
# the suite's work directory to read them in later checks.
LAST_OUT=${LAST_OUT:-/dev/null}

# ok NAME: count a passed check.
ok() {
	PASS=$((PASS + 1))
	echo "ok $1"
}

# fail NAME EXPECTED GOT: count a failed check.
fail() {
	FAIL=$((FAIL + 1))
	echo "FAIL $1: expected $2 got $3"
}

# check_eq NAME EXPECTED GOT: the two strings are equal.
check_eq() {
	if [ "$2" == "$3" ]; then ok "$1"; else fail "$1" "$2" "$3"; fi
}

# check_text NAME EXPECTED GOT: check_eq quoting both values, so empty ones show.
check_text() {
	if [ "$2" == "$3" ]; then ok "$1"; else fail "$1" "'$2'" "'$3'"; fi
}

# check_rc NAME EXPECTED_RC COMMAND...: COMMAND exits EXPECTED_RC (output in $LAST_OUT).
check_rc() {
	local name=$1 want=$2 rc=0
	shift 2
	"$@" >"$LAST_OUT" 2>&1 || rc=$?
	if [ "$rc" == "$want" ]; then
		ok "$name"
	else
		fail "$name" "exit $want" "exit $rc ($(head -c 300 "$LAST_OUT" | tr '\n' ' '))"
	fi
}

# check_json NAME FILE FILTER EXPECTED: jq -c FILTER on FILE prints EXPECTED.
check_json() {
	local got
	got=$(jq -c "$3" "$2" 2>&1) || got="jq error: $got"
	check_eq "$1" "$4" "$got"
}

# check_lines NAME COUNT FILE GREP_ARGS...: grep -c GREP_ARGS FILE prints COUNT.
check_lines() {
	local name=$1 want=$2 file=$3
	shift 3
	check_eq "$name" "$want" "$(grep -c "$@" -- "$file" || true)"
}

# skip NAME WHY: a check that cannot run here; said, not counted.
skip() {
	echo "skip $1: $2"
}

# bail NAME EXPECTED GOT: fail, the count line, exit 1: for what all else needs.
bail() {
	fail "$1" "$2" "$3"
	finish
	exit 1
}

# need_root: bail ("preflight") unless running as root.
need_root() {
	[ "$(id -u)" == 0 ] || bail preflight "root" "uid $(id -u)"
}

# need_tools TOOL... [-- MISSING...]: bail ("preflight") on TOOLs not on PATH or any MISSING.
need_tools() {
	local lacking=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		if ! command -v "$1" >/dev/null; then
			lacking+=("$1")
		fi
		shift
	done
	if [ $# -gt 0 ]; then
		shift
		lacking+=("$@")
	fi
	if [ ${#lacking[@]} -gt 0 ]; then
		bail preflight "tools present" "missing ${lacking[*]}"
	fi
}

# finish: print "N passed, N failed"; false if any check failed.
finish() {
	echo "$PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
}
