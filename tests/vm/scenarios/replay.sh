#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Replayed ESP: gw1 sends N datagrams over SA gw1->gw2 (replay window 32)
# and a copy of some of its ESP packets is put on the wire again, unchanged.
# gw2 must accept each original once and reject every copy:
#  - copies of the last 5 packets are inside the window and already seen:
#    the SA's "replay" counter rises by 5;
#  - copies of the first 3 are older than the window (N - 1 >= 32): the SA's
#    "replay-window" counter rises by 3;
#  - XfrmInStateSeqError counts both, 8; nothing else moves.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib/guest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/guest.sh"

N=40
IN_WINDOW=5
TOO_OLD=3
SPI12=0x1001
SPI21=0x2001

setup_gateways
ipsec_pair cbc-sha256 "$SPI12" "$SPI21" --replay-window 32
udp_sink gw2 9000
if have_ipsecmon; then
	ipsecmon_attach gw2 v2
	ipsecmon_monitor gw2 v2
fi

# One CPU sends (and, on veth, receives): the datapath's sequence analysis is
# per CPU, as RSS would keep one SA on one CPU of a real NIC.
note "$(nsx gw1 taskset -c 0 /usr/bin/python3 -I -S "$GUEST_LIB_DIR/esp_replay.py" v1 "$GW2_V4" 9000 "$N" \
	"$((N - IN_WINDOW + 1))-$N,1-$TOO_OLD")"
await_eq "$((IN_WINDOW + TOO_OLD))" xfrm_stat gw2 XfrmInStateSeqError
check_eq "gw1 out SA $SPI12 packets" "$N" "$(sa_stat gw1 esp "$SPI12" packets)"
check_eq "gw2 in SA $SPI12 packets accepted" "$N" "$(sa_stat gw2 esp "$SPI12" packets)"
check_eq "gw2 in SA $SPI12 replay" "$IN_WINDOW" "$(sa_stat gw2 esp "$SPI12" replay)"
check_eq "gw2 in SA $SPI12 replay-window" "$TOO_OLD" "$(sa_stat gw2 esp "$SPI12" replay_window)"
check_eq "gw2 in SA $SPI12 integrity failures" 0 "$(sa_stat gw2 esp "$SPI12" integrity_failed)"
check_eq "gw2 XfrmInStateSeqError" "$((IN_WINDOW + TOO_OLD))" "$(xfrm_stat gw2 XfrmInStateSeqError)"
check_eq "gw2 xfrm_stat errors" "XfrmInStateSeqError=$((IN_WINDOW + TOO_OLD))" "$(xfrm_errors gw2)"
check_eq "gw1 xfrm_stat errors" none "$(xfrm_errors gw1)"
if have_ipsecmon; then
	check_eq "ipsecmon gw2 rx esp packets" "$((N + IN_WINDOW + TOO_OLD))" "$(ipsecmon_rx gw2 esp)"
	ipsecmon_monitor_sync
	# The kernel's two replay counters, both "replayed".
	check_eq "ipsecmon packets_replayed" "$((IN_WINDOW + TOO_OLD))" \
		"$(ipsecmon_q gw2 .ipsecmon.packets_replayed)"
	check_eq "ipsecmon SA $SPI12 kernel replay/replay_window" "[$IN_WINDOW,$TOO_OLD]" \
		"$(ipsecmon_sa gw2 "$SPI12" rx '.kernel | [.replay, .replay_window]')"
	# On the wire all eight are duplicates of recent sequence numbers (the
	# datapath's window is 64), none is a gap.
	check_eq "ipsecmon SA $SPI12 wire seq [max, gaps, replays]" "[$N,0,$((IN_WINDOW + TOO_OLD))]" \
		"$(ipsecmon_sa gw2 "$SPI12" rx '[.seq_max, .seq_gaps, .seq_replays]')"
	check_eq "ipsecmon not decrypted/authenticated" "[0,0]" \
		"$(ipsecmon_q gw2 '[.ipsecmon.packets_not_decrypted, .ipsecmon.packets_not_authenticated]')"
	check_eq "ipsecmon SA $SPI12 kernel_dropped (wire - accepted)" "$((IN_WINDOW + TOO_OLD))" \
		"$(ipsecmon_sa gw2 "$SPI12" rx .kernel_dropped)"
	ipsecmon_monitor_stop
fi
teardown_gateways
