#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Packets not authenticated: gw2's copy of SA gw1->gw2 has other keys than
# gw1's. Every ESP packet arriving at gw2 fails its integrity check, so the
# SA's integrity-failure counter and XfrmInStateProtoError must each rise by
# exactly the number sent, and the SA must accept nothing. Checked for
# AES-CBC+HMAC-SHA256 and for AES-GCM (AEAD tag failure).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib/guest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/guest.sh"

N=9
SPI12=0x1001
SPI21=0x2001

# check_suite SUITE
check_suite() {
	local suite=$1
	note "--- esp $suite"
	setup_gateways
	ipsec_pair "$suite" "$SPI12" "$SPI21" --gw2-in-key wrong-key
	if have_ipsecmon; then
		ipsecmon_attach gw2 v2
		ipsecmon_monitor gw2 v2
	fi

	# One-way UDP: dropped at gw2 after the failed check, nothing returns.
	udp_send gw1 "$GW2_V4" 9000 "$N"
	await_eq "$N" sa_stat gw2 esp "$SPI12" integrity_failed
	check_eq "$suite: gw1 out SA $SPI12 packets" "$N" "$(sa_stat gw1 esp "$SPI12" packets)"
	check_eq "$suite: gw2 in SA $SPI12 integrity failures" "$N" "$(sa_stat gw2 esp "$SPI12" integrity_failed)"
	check_eq "$suite: gw2 in SA $SPI12 packets accepted" 0 "$(sa_stat gw2 esp "$SPI12" packets)"
	check_eq "$suite: gw2 in SA $SPI12 replays" 0 "$(sa_stat gw2 esp "$SPI12" replay)"
	check_eq "$suite: gw2 XfrmInStateProtoError" "$N" "$(xfrm_stat gw2 XfrmInStateProtoError)"
	check_eq "$suite: gw2 xfrm_stat errors" "XfrmInStateProtoError=$N" "$(xfrm_errors gw2)"
	check_eq "$suite: gw1 xfrm_stat errors" none "$(xfrm_errors gw1)"
	if have_ipsecmon; then
		check_eq "$suite: ipsecmon gw2 rx esp packets" "$N" "$(ipsecmon_rx gw2 esp)"
		ipsecmon_monitor_sync
		# Linux checks the ICV first: a failed packet was neither
		# authenticated nor decrypted.
		check_eq "$suite: ipsecmon not decrypted/authenticated" "[$N,$N]" \
			"$(ipsecmon_q gw2 '[.ipsecmon.packets_not_decrypted, .ipsecmon.packets_not_authenticated]')"
		check_eq "$suite: ipsecmon SA $SPI12 kernel integrity_failed" "$N" \
			"$(ipsecmon_sa gw2 "$SPI12" rx .kernel.integrity_failed)"
		check_eq "$suite: ipsecmon SA $SPI12 kernel_dropped" "$N" \
			"$(ipsecmon_sa gw2 "$SPI12" rx .kernel_dropped)"
		check_eq "$suite: ipsecmon packets_replayed, bad SPIs" "[0,0]" \
			"$(ipsecmon_q gw2 '[.ipsecmon.packets_replayed, .ipsecmon.bad_spi_packets]')"
		ipsecmon_detach gw2 v2
	fi
}

check_suite cbc-sha256
check_suite gcm
teardown_gateways
