#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# SPI and destination reused while no monitor runs: the monitor saw SA
# 0x1001 (gw1 -> gw2) carry N1 pings and stopped; the SA is then deleted
# on both gateways and a new one with the same SPI and destination but
# other keys added, and carries N2 pings. The next `run` must fold the old
# SA (one deletion, its bytes kept) and count the new one as an addition,
# and the new SA's own row must hold its own packets only, as the kernel
# counts them, not the old SA's as well.
#
# The datapath keys a row by direction, protocol, SPI and destination, so
# with no monitor the new SA's packets land in the old SA's row. The
# restarted monitor splits that row: the new SA keeps what the kernel
# counted on it, the old one is folded with the rest.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib/guest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/guest.sh"

N1=5
N2=3
N3=2
SPI12=0x1001
SPI21=0x2001
# ESP transport, AES-CBC + HMAC-SHA256-128 around a 64-byte ICMP message.
WIRE=140

if ! have_ipsecmon; then
	skip "ipsecmon SPI reuse scenario" "no ipsecmon-bpf binary"
	ok "nothing to do without ipsecmon-bpf"
	exit 0
fi

TOTALS='.ipsecmon | [.key_additions, .key_deletions, .rekeys, .confidential_bytes_received,
	.confidential_bytes_sent, .packets_not_decrypted, .packets_not_authenticated,
	.packets_replayed]'

setup_gateways
ipsec_pair cbc-sha256 "$SPI12" "$SPI21"
ipsecmon_attach gw2 v2
IPSECMON_MON_OUT=/tmp/run-old.jsonl
ipsecmon_monitor gw2 v2
check_eq "echo replies on the old SA" "$N1" "$(ping_n gw1 "$GW2_V4" "$N1")"
settle
ipsecmon_monitor_sync
check_eq "ipsecmon old SA $SPI12 [wire, kernel packets]" "[$N1,$N1]" \
	"$(ipsecmon_sa gw2 "$SPI12" rx '[.packets, .kernel.packets]')"
ipsecmon_monitor_stop

# The same SPI and destination, other keys (and a later add time).
for ns in gw1 gw2; do
	sa_del "$ns" "$GW1_V4" "$GW2_V4" esp "$SPI12"
	sa_add "$ns" cbc-sha256 "$GW1_V4" "$GW2_V4" "$SPI12" --key reused
done
check_eq "echo replies on the new SA" "$N2" "$(ping_n gw1 "$GW2_V4" "$N2")"
settle
check_eq "gw2 new in SA $SPI12 packets" "$N2" "$(sa_stat gw2 esp "$SPI12" packets)"

IPSECMON_MON_OUT=/tmp/run-new.jsonl
ipsecmon_monitor gw2 v2
check_eq "ipsecmon after the restart [additions, deletions, rekeys, rx, tx bytes, failures]" \
	"[1,1,0,$(((N1 + N2) * WIRE)),$(((N1 + N2) * WIRE)),0,0,0]" "$(ipsecmon_q gw2 "$TOTALS")"
check_eq "ipsecmon new SA $SPI12 [known, wire packets, wire bytes, kernel packets]" \
	"[true,$N2,$((N2 * WIRE)),$N2]" \
	"$(ipsecmon_sa gw2 "$SPI12" rx '[.known, .packets, .bytes, .kernel.packets]')"
check_eq "ipsecmon sa_added event for the new SA" 1 \
	"$(jq -c 'select(.event == "sa_added" and .spi == "0x00001001")' "$IPSECMON_MON_OUT" | wc -l)"

# More traffic on the new SA, with the monitor up: its row goes on from N2.
check_eq "echo replies with the monitor up" "$N3" "$(ping_n gw1 "$GW2_V4" "$N3")"
settle
ipsecmon_monitor_sync
check_eq "ipsecmon new SA $SPI12 [wire, kernel packets, kernel_dropped]" \
	"[$((N2 + N3)),$((N2 + N3)),0]" \
	"$(ipsecmon_sa gw2 "$SPI12" rx '[.packets, .kernel.packets, .kernel_dropped]')"
check_eq "ipsecmon totals at the end" \
	"[1,1,0,$(((N1 + N2 + N3) * WIRE)),$(((N1 + N2 + N3) * WIRE)),0,0,0]" \
	"$(ipsecmon_q gw2 "$TOTALS")"
check_eq "ipsecmon rx esp packets" "$((N1 + N2 + N3))" "$(ipsecmon_rx gw2 esp)"
check_eq "ipsecmon totals never went down, across both runs" 1 \
	"$(ipsecmon_monotonic /tmp/run-old.jsonl /tmp/run-new.jsonl)"
ipsecmon_monitor_stop
check_eq "gw2 xfrm_stat errors" none "$(xfrm_errors gw2)"
check_eq "gw1 xfrm_stat errors" none "$(xfrm_errors gw1)"
teardown_gateways
