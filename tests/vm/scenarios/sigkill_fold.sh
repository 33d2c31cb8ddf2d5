#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The monitor SIGKILLed in the middle of a journaled change, by its test
# hook (IPSECMON_TEST_CRASH): between noting a fold in the SA's record and
# writing the totals (fold-noted), between writing the totals and removing
# the record (fold-committed), and between noting an addition and writing
# the totals (add-noted). Each time a plain `run` started afterwards must
# complete the change exactly once: the deletion or addition counted once,
# the SA's bytes and failures neither lost nor doubled, and no total in any
# JSON line of any of the runs lower than in the one before.
#
# gw2 holds a good IPv4 pair (N pings answered) and an IPv6 pair whose
# inbound SA has the wrong key (M pings, each an integrity failure), so
# the folds carry failures as well as bytes.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib/guest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/guest.sh"

N=5
M=4
V4_12=0x1001
V4_21=0x2001
V6_12=0x1002
V6_21=0x2002
NEW=0x1003
# ESP transport AES-CBC + HMAC-SHA256-128 around a 64-byte ICMP message:
# header + ESP 8 + IV 16 + (64 + 2 trailer, padded to 80) + ICV 16.
WIRE4=140
WIRE6=160

if ! have_ipsecmon; then
	skip "ipsecmon crash scenarios" "no ipsecmon-bpf binary"
	ok "nothing to do without ipsecmon-bpf"
	exit 0
fi

TOTALS='.ipsecmon | [.key_additions, .key_deletions, .rekeys, .confidential_bytes_received,
	.authenticated_bytes_received, .transport_bytes_received, .confidential_bytes_sent,
	.authenticated_bytes_sent, .transport_bytes_sent, .packets_not_decrypted,
	.packets_not_authenticated, .packets_replayed]'
# totals ADDS DELS: what TOTALS must print here once the traffic is in.
RX=$((N * WIRE4 + M * WIRE6))
TX=$((N * WIRE4))
totals() { echo "[$1,$2,0,$RX,$RX,$RX,$TX,$TX,$TX,$M,$M,0]"; }

RUNS=()
# start LABEL [NAME=VALUE...]: a monitor writing to its own file.
start() {
	local label=$1
	shift
	IPSECMON_MON_OUT=/tmp/run-$label.jsonl
	RUNS+=("$IPSECMON_MON_OUT")
	ipsecmon_monitor gw2 v2 "$@"
}

# crashed POINT: the armed monitor killed itself at POINT.
crashed() {
	ipsecmon_monitor_reap 20
	check_eq "$1: the monitor SIGKILLed itself there" 137 "$IPSECMON_MON_RC"
}

setup_gateways
ipsec_pair cbc-sha256 "$V4_12" "$V4_21"
ipsec_pair cbc-sha256 "$V6_12" "$V6_21" --v6 --gw2-in-key wrong
ipsecmon_attach gw2 v2
start first

check_eq "echo replies over IPv4" "$N" "$(ping_n gw1 "$GW2_V4" "$N")"
check_eq "echo replies over IPv6 (wrong key on gw2)" 0 "$(ping_n gw1 "$GW2_V6" "$M")"
await_eq "$M" sa_stat gw2 esp "$V6_12" integrity_failed
check_eq "gw2 in SA $V4_12 packets" "$N" "$(sa_stat gw2 esp "$V4_12" packets)"
check_eq "gw2 in SA $V6_12 integrity failures" "$M" "$(sa_stat gw2 esp "$V6_12" integrity_failed)"
ipsecmon_monitor_sync
check_eq "ipsecmon rx esp bytes" "$RX" "$(ipsecmon_q gw2 .traffic.rx.esp.bytes)"
check_eq "ipsecmon totals before any crash" "$(totals 0 0)" "$(ipsecmon_q gw2 "$TOTALS")"
ipsecmon_monitor_stop

# --- fold-noted: the wrong-key SA deleted, the monitor killed after noting
# its fold, before the totals have it.
start fold-noted IPSECMON_TEST_CRASH=fold-noted
sa_del gw2 "$GW1_V6" "$GW2_V6" esp "$V6_12"
crashed fold-noted
# A reader in between: the record's fold counts, once.
check_eq "fold-noted: reader's bytes and failures with the monitor dead" \
	"$(totals 0 0 | jq -c '.[3:]')" "$(ipsecmon_q gw2 "$TOTALS" | jq -c '.[3:]')"
start after-fold-noted
check_eq "fold-noted: totals after the restart (deleted once, failures once)" \
	"$(totals 0 1)" "$(ipsecmon_q gw2 "$TOTALS")"
check_eq "fold-noted: SA $V6_12 row" absent "$(ipsecmon_sa gw2 "$V6_12" rx .spi)"
ipsecmon_monitor_sync
check_eq "fold-noted: totals a tick later" "$(totals 0 1)" "$(ipsecmon_q gw2 "$TOTALS")"
ipsecmon_monitor_stop

# --- fold-committed: the good inbound SA deleted, the monitor killed after
# the totals have its fold, before its row and record are gone.
start fold-committed IPSECMON_TEST_CRASH=fold-committed
sa_del gw2 "$GW1_V4" "$GW2_V4" esp "$V4_12"
crashed fold-committed
check_eq "fold-committed: reader's totals with the monitor dead" \
	"$(totals 0 2)" "$(ipsecmon_q gw2 "$TOTALS")"
start after-fold-committed
check_eq "fold-committed: totals after the restart (not folded twice)" \
	"$(totals 0 2)" "$(ipsecmon_q gw2 "$TOTALS")"
check_eq "fold-committed: SA $V4_12 row" absent "$(ipsecmon_sa gw2 "$V4_12" rx .spi)"
ipsecmon_monitor_sync
check_eq "fold-committed: totals a tick later" "$(totals 0 2)" "$(ipsecmon_q gw2 "$TOTALS")"
ipsecmon_monitor_stop

# --- add-noted: an SA added, the monitor killed after noting the addition
# in its record, before the totals count it.
start add-noted IPSECMON_TEST_CRASH=add-noted
sa_add gw2 cbc-sha256 "$GW1_V4" "$GW2_V4" "$NEW"
crashed add-noted
start after-add-noted
check_eq "add-noted: totals after the restart (added once)" "$(totals 1 2)" \
	"$(ipsecmon_q gw2 "$TOTALS")"
check_eq "add-noted: [active SAs, SA $NEW known]" "[3,true]" \
	"$(ipsecmon_q gw2 "[.ipsecmon.active_sas, ([.sas[] | select(.spi == \"0x00001003\")][0].known)]")"
ipsecmon_monitor_stop
start again
check_eq "add-noted: totals after one more restart" "$(totals 1 2)" "$(ipsecmon_q gw2 "$TOTALS")"
ipsecmon_monitor_stop

check_eq "ipsecmon totals never went down, across all ${#RUNS[@]} runs" 1 \
	"$(ipsecmon_monotonic "${RUNS[@]}")"
check_eq "gw2 xfrm_stat errors" "XfrmInStateProtoError=$M" "$(xfrm_errors gw2)"
teardown_gateways
