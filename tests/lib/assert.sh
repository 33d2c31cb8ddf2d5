#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Assertions for the shell test suites (sourced): one "ok NAME" or
# "FAIL NAME: expected X got Y" line per check, and finish() prints the
# "N passed, N failed" line tests/run.sh adds up.

PASS=0
FAIL=0

ok() {
	PASS=$((PASS + 1))
	echo "ok $1"
}

fail() {
	FAIL=$((FAIL + 1))
	echo "FAIL $1: expected $2 got $3"
}

check_eq() {
	if [ "$2" == "$3" ]; then ok "$1"; else fail "$1" "$2" "$3"; fi
}

finish() {
	echo "$PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
}
