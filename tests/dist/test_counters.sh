#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The counter table (user/counters.c, as `ipsecmon-bpf counters --json`
# prints it) against the docs: the README's and the man page's tables of
# IPSECMON counters name exactly its counters, the README's list of gauges
# is exactly its gauges, and the text listing has one line per counter.
# Needs the binary built and jq; no root.
#
# Output: "ok NAME" or "FAIL NAME: expected X got Y" per check, then
# "N passed, N failed".
set -uo pipefail

TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$TEST_DIR/../.." && pwd)
BIN=$REPO/build/ipsecmon-bpf
# shellcheck source=tests/lib/assert.sh
source "$TEST_DIR/../lib/assert.sh"
export LC_ALL=C

need_tools jq || exit 1
[[ -x $BIN ]] || bail "$BIN not built"

TABLE=$("$BIN" counters --json) || bail "counters --json failed"
names=$(jq -r '.counters[].json' <<<"$TABLE" | sort | tr '\n' ' ')
gauges=$(jq -r '.counters[] | select(.type == "gauge") | .json' <<<"$TABLE" | sort | tr '\n' ' ')

check_eq table-schema '"ipsecmon-bpf/1"' "$(jq -c .schema <<<"$TABLE")"
check_eq text-lines "$(($(jq '.counters | length' <<<"$TABLE") + 1))" "$("$BIN" counters | wc -l)"
check_eq json-names-unique "$(jq -r '.counters[].json' <<<"$TABLE" | sort -u | wc -l)" \
	"$(jq -r '.counters[].json' <<<"$TABLE" | wc -l)"
check_eq no-privileges 0 "$(setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$BIN" counters >/dev/null 2>&1; echo $?)"

# README: the first column of the table under "## IPSECMON counters".
readme=$(sed -n '/^## IPSECMON counters$/,/^## /p' "$REPO/README.md" |
	grep -E '^\| `' | cut -d'|' -f2 | grep -oE '`[a-z_]+`' | tr -d '`' | sort | tr '\n' ' ')
check_eq readme-counters "$names" "$readme"
readme_gauges=$(sed -n '/^## IPSECMON counters$/,/^## /p' "$REPO/README.md" | tr '\n' ' ' |
	grep -oE 'except the gauges \([^)]*\)' | grep -oE '`[a-z_]+`' | tr -d '`' | sort |
	tr '\n' ' ')
check_eq readme-gauges "$gauges" "$readme_gauges"

# The man page: the bold tags (.TP, then .B/.BR names) of IPSECMON COUNTERS.
man=$(sed -n '/^\.SH IPSECMON COUNTERS$/,/^\.SH /p' "$REPO/dist/ipsecmon-bpf.8" |
	sed -e ':a' -e '/\\$/N; s/\\\n//; ta' |
	awk 'tag && /^\.BR? / { sub(/^\.BR? /, ""); gsub(/"[^"]*"/, " "); print } { tag = /^\.TP/ }' |
	tr ' ' '\n' | grep -E '^[a-z_]+$' | sort -u | tr '\n' ' ')
check_eq man-counters "$names" "$man"

finish
