#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The monitor SIGKILLed right after traffic, before any tick read the SAs'
# kernel counters again; gw2's inbound SA is deleted while no monitor runs;
# a new `run` folds it from its record. The deletion counts once, the
# SA's bytes stay, and no drop is made up: the fold used to compare the
# wire's count (N) with the record's older kernel count (0) and report N
# packets not decrypted.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib/guest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/guest.sh"

N=5
SPI12=0x1001
SPI21=0x2001
# ESP transport, AES-CBC + HMAC-SHA256-128 around a 64-byte ICMP message.
WIRE=140

if ! have_ipsecmon; then
	skip "ipsecmon restart scenario" "no ipsecmon-bpf binary"
	ok "nothing to do without ipsecmon-bpf"
	exit 0
fi

TOTALS='.ipsecmon | [.key_additions, .key_deletions, .confidential_bytes_received,
	.authenticated_bytes_received, .transport_bytes_received, .confidential_bytes_sent,
	.authenticated_bytes_sent, .transport_bytes_sent, .packets_not_decrypted,
	.packets_not_authenticated, .packets_replayed]'
B=$((N * WIRE))

setup_gateways
ipsec_pair cbc-sha256 "$SPI12" "$SPI21"
ipsecmon_attach gw2 v2
# A long interval: after its first tick this monitor never reads the kernel
# again, so its records hold the kernel counters of before the traffic.
IPSECMON_MON_INTERVAL=60 IPSECMON_MON_OUT=/tmp/run-killed.jsonl
ipsecmon_monitor gw2 v2

check_eq "echo replies" "$N" "$(ping_n gw1 "$GW2_V4" "$N")"
settle
check_eq "gw2 in SA $SPI12 packets" "$N" "$(sa_stat gw2 esp "$SPI12" packets)"
check_eq "ipsecmon totals right after the traffic" "[0,0,$B,$B,$B,$B,$B,$B,0,0,0]" \
	"$(ipsecmon_q gw2 "$TOTALS")"
ipsecmon_monitor_kill
check_eq "ipsecmon run: killed by SIGKILL" 137 "$IPSECMON_MON_RC"

sa_del gw2 "$GW1_V4" "$GW2_V4" esp "$SPI12"
check_eq "gw2 in SA $SPI12 deleted" absent "$(sa_stat gw2 esp "$SPI12" packets)"
check_eq "ipsecmon wire rows unchanged with no monitor [rx packets, bytes]" "[$N,$B]" \
	"$(ipsecmon_sa gw2 "$SPI12" rx '[.packets, .bytes]')"

IPSECMON_MON_INTERVAL=0.5 IPSECMON_MON_OUT=/tmp/run-new.jsonl
ipsecmon_monitor gw2 v2
check_eq "ipsecmon totals after the restart (deleted once, bytes kept, no drops made up)" \
	"[0,1,$B,$B,$B,$B,$B,$B,0,0,0]" "$(ipsecmon_q gw2 "$TOTALS")"
check_eq "ipsecmon [correlation, active SAs, SA $SPI12 row]" "[\"$IPSECMON_CORR\",1,\"absent\"]" \
	"$(ipsecmon_q gw2 '[.ipsecmon.correlation, .ipsecmon.active_sas]' |
		jq -c --arg r "$(ipsecmon_sa gw2 "$SPI12" rx .spi)" '. + [$r]')"
ipsecmon_monitor_sync
check_eq "ipsecmon totals a tick later" "[0,1,$B,$B,$B,$B,$B,$B,0,0,0]" \
	"$(ipsecmon_q gw2 "$TOTALS")"
check_eq "ipsecmon totals never went down, across both runs" 1 \
	"$(ipsecmon_monotonic /tmp/run-killed.jsonl /tmp/run-new.jsonl)"
ipsecmon_monitor_stop
check_eq "gw2 xfrm_stat errors" none "$(xfrm_errors gw2)"
teardown_gateways
