#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dist/ipsecmon-bpf.bash-completion, called the way bash calls it: COMP_WORDS
# and COMP_CWORD set, then _ipsecmon_bpf; COMPREPLY compared exactly.
# Interfaces and namespaces come from fake directories, so the expected lists
# do not depend on the host. Needs no root.
#
# Output: "ok NAME" or "FAIL NAME: expected X got Y" per check, then
# "N passed, N failed". Exit 1 on any failure.
set -uo pipefail

TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
COMPLETION=$TEST_DIR/../../dist/ipsecmon-bpf.bash-completion
# shellcheck source=tests/lib/assert.sh
source "$TEST_DIR/../lib/assert.sh"

WORK=$(mktemp -d /tmp/ipsm-comp.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export LC_ALL=C

mkdir -p "$WORK/net/eth0" "$WORK/net/eth1" "$WORK/net/lo" "$WORK/net/veth-b" \
	"$WORK/netns" "$WORK/pins/ipsecmon" "$WORK/pins/other"
touch "$WORK/netns/gw1" "$WORK/netns/gw2" "$WORK/netns/lab" "$WORK/out.jsonl" "$WORK/out.log"

_ipsecmon_bpf_netdir=$WORK/net
_ipsecmon_bpf_nsdir=$WORK/netns
# shellcheck source=dist/ipsecmon-bpf.bash-completion
source "$COMPLETION"

# check NAME EXPECTED WORD...: complete the last WORD (the cursor's).
# With SORTED=1, COMPREPLY is sorted before the comparison.
check() {
	local name=$1 expected=$2 got
	shift 2
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE="${COMP_WORDS[*]}"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_ipsecmon_bpf
	got="${COMPREPLY[*]}"
	# File names come in directory order; bash sorts them for display.
	if [[ ${SORTED:-} ]]; then
		got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ')
		got=${got% }
	fi
	check_text "$name" "$expected" "$got"
}

if complete -p ipsecmon-bpf 2>/dev/null | grep -q -- '-F _ipsecmon_bpf ipsecmon-bpf$'; then
	ok registered
else
	fail registered "'complete -F _ipsecmon_bpf ipsecmon-bpf'" "'$(complete -p ipsecmon-bpf 2>&1)'"
fi

# Commands and top-level options.
check commands "attach detach status stats watch run check counters" ipsecmon-bpf ""
check commands-s "status stats" ipsecmon-bpf st
check commands-r "run" ipsecmon-bpf r
check top-options "--help --version" ipsecmon-bpf -
check unknown-command "" ipsecmon-bpf frobnicate ""

# Options per command (command's own, then the common ones).
COMMON="--netns --pin-dir --verbose --help --version"
check attach-options "--hooks --xdp-mode --force --max-sas $COMMON" ipsecmon-bpf attach -
check detach-options "--all --stale $COMMON" ipsecmon-bpf detach --
check status-options "--json --pretty $COMMON" ipsecmon-bpf status -
check stats-options "--json --pretty --half-open-after $COMMON" ipsecmon-bpf stats -
check watch-options "--json --interval --output --gap-threshold --seq-warn --one-way-after --sas --half-open-after $COMMON" ipsecmon-bpf watch -
check run-options "--interval --prometheus --output --gap-threshold --seq-warn --one-way-after --sas --half-open-after --learned-idle --hooks --xdp-mode --max-sas $COMMON" \
	ipsecmon-bpf run -
check check-options \
	"--bad-spi-rate --not-decrypted --not-authenticated --min-sas --max-idle --seq-exhaustion --interval $COMMON" \
	ipsecmon-bpf check -
check check-not "--not-decrypted --not-authenticated" ipsecmon-bpf check --not
check run-x "--xdp-mode" ipsecmon-bpf run eth0 --x
check status-no-args "--json --pretty $COMMON" ipsecmon-bpf status ""
check stats-p "--pretty --pin-dir" ipsecmon-bpf stats --json --p

# Interface names.
check attach-ifaces "eth0 eth1 lo veth-b" ipsecmon-bpf attach ""
check attach-eth "eth0 eth1" ipsecmon-bpf attach eth
check attach-not-twice "eth1 lo veth-b" ipsecmon-bpf attach eth0 ""
check run-ifaces "eth1" ipsecmon-bpf run eth0 --interval 5 eth
check stats-ifaces "veth-b" ipsecmon-bpf stats --json v
check watch-ifaces "lo" ipsecmon-bpf watch --json l
check check-ifaces "eth0 eth1" ipsecmon-bpf check --min-sas 2 e
check detach-ifaces "eth0 eth1 lo veth-b" ipsecmon-bpf detach ""
check detach-all-no-ifaces "" ipsecmon-bpf detach --all ""
check no-such-iface "" ipsecmon-bpf attach wlan

# Option arguments.
check netns "gw1 gw2 lab" ipsecmon-bpf attach --netns ""
check netns-gw "gw1 gw2" ipsecmon-bpf status --netns gw
check netns-eq "gw1 gw2 lab" ipsecmon-bpf stats --netns = ""
check netns-eq-prefix "lab" ipsecmon-bpf stats --netns = l
SORTED=1 check netns-path "$WORK/netns/gw1 $WORK/netns/gw2" ipsecmon-bpf run --netns "$WORK/netns/gw"
check xdp-mode "native skb auto" ipsecmon-bpf attach eth0 --xdp-mode ""
check xdp-mode-s "skb" ipsecmon-bpf run eth0 --xdp-mode s
check xdp-mode-eq "native" ipsecmon-bpf attach --xdp-mode = n
check hooks "xdp tc-ingress tc-egress" ipsecmon-bpf attach eth0 --hooks ""
check hooks-tc "tc-ingress tc-egress" ipsecmon-bpf attach eth0 --hooks tc
check hooks-after-xdp "xdp,tc-egress" ipsecmon-bpf attach eth0 --hooks xdp,
check hooks-after-tci "tc-ingress,tc-egress" ipsecmon-bpf run eth0 --hooks tc-ingress,
check hooks-after-tce "tc-egress,xdp tc-egress,tc-ingress" ipsecmon-bpf attach --hooks tc-egress,
check hooks-full "" ipsecmon-bpf attach --hooks xdp,tc-egress,
check hooks-eq "xdp,tc-egress" ipsecmon-bpf run --hooks = xdp,tc-e
SORTED=1 check pin-dir "$WORK/pins/ipsecmon $WORK/pins/other" ipsecmon-bpf status --pin-dir "$WORK/pins/"
SORTED=1 check output "$WORK/out.jsonl $WORK/out.log" ipsecmon-bpf watch --output "$WORK/out."
check interval "" ipsecmon-bpf watch --interval ""
check gap-threshold "" ipsecmon-bpf run eth0 --gap-threshold ""
check watch-g "--gap-threshold" ipsecmon-bpf watch --g
check max-sas "" ipsecmon-bpf attach eth0 --max-sas ""
check prometheus "" ipsecmon-bpf run eth0 --prometheus ""
check thresholds "" ipsecmon-bpf check --bad-spi-rate ""
check min-sas "" ipsecmon-bpf check --min-sas ""
check max-idle "" ipsecmon-bpf check --max-idle ""
check after-option-arg "eth0 eth1 lo veth-b" ipsecmon-bpf attach --xdp-mode skb ""

# Every option the binary's COMMAND --help lists is offered for COMMAND.
BIN=$TEST_DIR/../../build/ipsecmon-bpf
if [[ -x $BIN ]]; then
	for c in attach detach status stats watch run check counters; do
		h=$("$BIN" "$c" --help 2>/dev/null) || continue
		COMP_WORDS=(ipsecmon-bpf "$c" --)
		COMP_CWORD=2
		COMPREPLY=()
		_ipsecmon_bpf
		missing=
		while read -r o; do
			[[ " ${COMPREPLY[*]} " == *" $o "* ]] || missing+=" $o"
		done < <(grep -oE -- '--[a-z][a-z-]*' <<<"$h" | sort -u)
		check_text "help-options-$c" "" "${missing# }"
	done
else
	skip help-options "$BIN not built"
fi

finish
