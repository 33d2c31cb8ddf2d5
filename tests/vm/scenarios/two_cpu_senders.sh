#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# One SA sent from two CPUs: two senders on gw2, pinned to CPU 0 and CPU 1,
# each send N/2 datagrams over SA 0x2001 at the same time, and none is
# lost. The datapath's sequence analysis is per CPU, so for the tx row it
# cannot be exact: it must say so (seq_exact false, no gaps reported)
# instead of the 36-38 false gaps it made up for 40 packets. SA 0x1001,
# sent by one CPU of gw1 and received on that CPU, stays exact: 0 gaps.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib/guest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/guest.sh"

N=40
SPI12=0x1001
SPI21=0x2001

check_eq "guest CPUs online (run.sh boots with -smp 2)" 2 "$(nproc)"

setup_gateways
ipsec_pair cbc-sha256 "$SPI12" "$SPI21"
udp_sink gw1 9000
udp_sink gw2 9000
if have_ipsecmon; then
	ipsecmon_attach gw2 v2
	ipsecmon_monitor gw2 v2
fi

# send_on NS DST CPU COUNT: COUNT one-byte datagrams from a process on CPU.
send_on() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	nsx "$1" taskset -c "$3" bash -c 'for ((i = 0; i < $3; i++)); do printf x >"/dev/udp/$1/$2"; done' \
		_ "$2" 9000 "$4"
}

# Both at once, so that the SA's packets interleave across the CPUs.
send_on gw2 "$GW1_V4" 0 $((N / 2)) &
p0=$!
send_on gw2 "$GW1_V4" 1 $((N / 2)) &
p1=$!
wait "$p0"
wait "$p1"
await_eq "$N" sa_stat gw1 esp "$SPI21" packets
check_eq "gw2 out SA $SPI21 packets (two CPUs)" "$N" "$(sa_stat gw2 esp "$SPI21" packets)"
check_eq "gw1 in SA $SPI21 packets: none lost" "$N" "$(sa_stat gw1 esp "$SPI21" packets)"

send_on gw1 "$GW2_V4" 0 "$N"
await_eq "$N" sa_stat gw2 esp "$SPI12" packets
check_eq "gw2 in SA $SPI12 packets (one CPU)" "$N" "$(sa_stat gw2 esp "$SPI12" packets)"
check_eq "gw1 xfrm_stat errors" none "$(xfrm_errors gw1)"
check_eq "gw2 xfrm_stat errors" none "$(xfrm_errors gw2)"

if have_ipsecmon; then
	ipsecmon_monitor_sync
	check_eq "ipsecmon tx SA $SPI21 [packets, seq_exact, seq_gaps]" "[$N,false,null]" \
		"$(ipsecmon_sa gw2 "$SPI21" tx '[.packets, .seq_exact, .seq_gaps]')"
	check_eq "ipsecmon rx SA $SPI12 [packets, seq_exact, seq_max, seq_gaps, seq_replays]" \
		"[$N,true,$N,0,0]" \
		"$(ipsecmon_sa gw2 "$SPI12" rx '[.packets, .seq_exact, .seq_max, .seq_gaps, .seq_replays]')"
	check_eq "ipsecmon rx/tx esp packets" "[$N,$N]" \
		"$(ipsecmon_q gw2 '[.traffic.rx.esp.packets, .traffic.tx.esp.packets]')"
	check_eq "ipsecmon seq_gap events" 0 "$(jq -c 'select(.event == "seq_gap")' "$IPSECMON_MON_OUT" | wc -l)"
	check_eq "ipsecmon totals never went down" 1 "$(ipsecmon_monotonic)"
	ipsecmon_monitor_stop
fi
teardown_gateways
