#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The packaging suites (completion, install, counters vs docs), with one
# closing "N passed, N failed" line over all of them for tests/run.sh.
set -uo pipefail

TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pass=0
fail=0
rc=0
for t in test_completion.sh test_install.sh test_counters.sh; do
	out=$("$TEST_DIR/$t" 2>&1) || rc=1
	printf '%s\n' "$out"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' <<<"$out" | tail -1)
	if [[ -z $line ]]; then
		fail=$((fail + 1))
		echo "FAIL $t: expected a closing count got none"
		continue
	fi
	read -r p _ f _ <<<"$line"
	pass=$((pass + p))
	fail=$((fail + f))
done
echo "$pass passed, $fail failed"
[[ $rc -eq 0 && $fail -eq 0 ]]
