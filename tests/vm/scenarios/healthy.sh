#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Healthy IPsec: for each SA flavour, N pings gw1 -> gw2 through manual SAs
# both ways. Every SA must have carried exactly N packets on both ends (N
# requests on SA 1->2, N replies on SA 2->1) and the expected bytes, and no
# /proc/net/xfrm_stat counter may move in either namespace. Flavours: ESP
# transport AES-CBC+HMAC-SHA256 (IPv4 and IPv6), ESP tunnel, ESP AES-GCM,
# ESP with null encryption, AH, and ESP-in-UDP (NAT-T encapsulation).
#
# The gateways (and the datapath monitor, if built) are set up once; each
# flavour flushes the SAs, installs its own and compares counter deltas.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib/guest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/guest.sh"

N=10
SPI12=0x1001
SPI21=0x2001

setup_gateways
# ESP-in-UDP needs a UDP_ENCAP socket on port 4500 at both ends.
espinudp_socket gw1
espinudp_socket gw2
if have_ipsecmon; then
	ipsecmon_attach gw2 v2
	ipsecmon_monitor gw2 v2
fi

# The IPSECMON byte counters of gw2, as one JSON array.
BYTES='[.ipsecmon | .confidential_bytes_received, .authenticated_bytes_received,
	.transport_bytes_received, .tunnel_bytes_received, .confidential_bytes_sent,
	.authenticated_bytes_sent, .transport_bytes_sent, .tunnel_bytes_sent]'

# ipsecmon_check LABEL CONF AUTH TUNNEL BYTES0: what the monitor must say of
# this flavour's two SAs on gw2 (0x1001 inbound, 0x2001 outbound), and how
# each byte counter must have moved since BYTES0: by the SAs' wire bytes
# where the SA is of that kind, not at all where it is not.
ipsecmon_check() {
	local label=$1 conf=$2 auth=$3 tunnel=$4 b0=$5 mode=transport rxb txb want
	((tunnel)) && mode=tunnel
	ipsecmon_monitor_sync
	# Correlation as this kernel offers it (kernel or monitor, both with run
	# up); no false bad SPI either way.
	check_eq "$label: ipsecmon correlation, active SAs, bad SPIs, SADINFO count" "[\"$IPSECMON_CORR\",2,0,2]" \
		"$(ipsecmon_q gw2 '[.ipsecmon.correlation, .ipsecmon.active_sas, .ipsecmon.bad_spi_packets,
			.kernel.sad.sa_count]')"
	check_eq "$label: ipsecmon in SA $SPI12 [known, mode, wire, kernel packets]" \
		"[true,\"$mode\",$N,$N]" \
		"$(ipsecmon_sa gw2 "$SPI12" rx '[.known, .mode, .packets, .kernel.packets]')"
	check_eq "$label: ipsecmon out SA $SPI21 [known, wire, kernel packets]" "[true,$N,$N]" \
		"$(ipsecmon_sa gw2 "$SPI21" tx '[.known, .packets, .kernel.packets]')"
	check_eq "$label: ipsecmon in SA $SPI12 [confidential, authenticated]" \
		"[$( ((conf)) && echo true || echo false),$( ((auth)) && echo true || echo false)]" \
		"$(ipsecmon_sa gw2 "$SPI12" rx '[.kernel.confidential, .kernel.authenticated]')"
	rxb=$(ipsecmon_sa gw2 "$SPI12" rx .bytes)
	txb=$(ipsecmon_sa gw2 "$SPI21" tx .bytes)
	want="[$((conf * rxb)),$((auth * rxb)),$(((1 - tunnel) * rxb)),$((tunnel * rxb)),$((conf * txb)),$((auth * txb)),$(((1 - tunnel) * txb)),$((tunnel * txb))]"
	check_eq "$label: ipsecmon byte counters moved by the SAs' wire bytes" "$want" \
		"$(ipsecmon_q gw2 "$BYTES" | jq -c --argjson b0 "$b0" '[range(length) as $i | .[$i] - $b0[$i]]')"
	check_eq "$label: ipsecmon failures" "[0,0,0]" \
		"$(ipsecmon_q gw2 '[.ipsecmon.packets_not_decrypted, .ipsecmon.packets_not_authenticated, .ipsecmon.packets_replayed]')"
}

# check_flavour LABEL SUITE CONF AUTH [ipsec_pair options]: CONF/AUTH say
# whether the suite encrypts and authenticates (for the IPSECMON counters).
check_flavour() {
	local label=$1 suite=$2 conf=$3 auth=$4 tunnel=0 b0=""
	shift 4
	# An SA's byte counter counts what it protects: the ICMP message (64
	# bytes) in transport mode, the whole inner IPv4 packet (84) in tunnel.
	local proto=esp class=esp dst=$GW2_V4 src=() size=64 p
	[[ $suite == ah-* ]] && proto=ah class=ah
	for p in "$@"; do
		case $p in
		--v6) dst=$GW2_V6 ;;
		--encap) class=esp_in_udp ;;
		tunnel) dst=$GW2_NET src=(-I "$GW1_NET") size=84 tunnel=1 ;;
		esac
	done

	note "--- $label"
	ipsec_flush
	ipsec_pair "$suite" "$SPI12" "$SPI21" "$@"
	xfrm_stat_save gw1 /tmp/xs1
	xfrm_stat_save gw2 /tmp/xs2
	local rx0=0
	if have_ipsecmon; then
		rx0=$(ipsecmon_rx gw2 "$class")
		b0=$(ipsecmon_q gw2 "$BYTES")
	fi

	check_eq "$label: echo replies" "$N" "$(ping_n gw1 "$dst" "$N" "${src[@]}")"
	settle
	check_eq "$label: gw1 out SA $SPI12 packets" "$N" "$(sa_stat gw1 "$proto" "$SPI12" packets)"
	check_eq "$label: gw2 in SA $SPI12 packets" "$N" "$(sa_stat gw2 "$proto" "$SPI12" packets)"
	check_eq "$label: gw2 out SA $SPI21 packets" "$N" "$(sa_stat gw2 "$proto" "$SPI21" packets)"
	check_eq "$label: gw1 in SA $SPI21 packets" "$N" "$(sa_stat gw1 "$proto" "$SPI21" packets)"
	check_eq "$label: gw1 out SA $SPI12 bytes" "$((N * size))" "$(sa_stat gw1 "$proto" "$SPI12" bytes)"
	check_eq "$label: gw2 in SA $SPI12 bytes" "$((N * size))" "$(sa_stat gw2 "$proto" "$SPI12" bytes)"
	check_eq "$label: gw2 in SA $SPI12 integrity failures" 0 "$(sa_stat gw2 "$proto" "$SPI12" integrity_failed)"
	check_eq "$label: gw2 in SA $SPI12 replays" 0 "$(sa_stat gw2 "$proto" "$SPI12" replay)"
	check_eq "$label: gw1 xfrm_stat errors" none "$(xfrm_errors gw1 /tmp/xs1)"
	check_eq "$label: gw2 xfrm_stat errors" none "$(xfrm_errors gw2 /tmp/xs2)"
	if have_ipsecmon; then
		# gw2's hook sees only what arrives on v2: the N requests.
		check_eq "$label: ipsecmon gw2 rx $class packets" "$N" "$(($(ipsecmon_rx gw2 "$class") - rx0))"
		ipsecmon_check "$label" "$conf" "$auth" "$tunnel" "$b0"
	fi
}

check_flavour "esp cbc transport v4" cbc-sha256 1 1
check_flavour "esp cbc transport v6" cbc-sha256 1 1 --v6
check_flavour "esp cbc tunnel v4" cbc-sha256 1 1 --mode tunnel
check_flavour "esp gcm transport v4" gcm 1 1
check_flavour "esp null transport v4" null-sha256 0 1
check_flavour "ah transport v4" ah-sha256 0 1
check_flavour "esp-in-udp cbc transport v4" cbc-sha256 1 1 --encap
# Nothing may have gone wrong at any point, in either namespace.
check_eq "gw1 xfrm_stat errors overall" none "$(xfrm_errors gw1)"
check_eq "gw2 xfrm_stat errors overall" none "$(xfrm_errors gw2)"
if have_ipsecmon; then
	# 7 flavours of 2 SAs each; the 6 flushes between them removed 2 each.
	ipsecmon_monitor_sync
	check_eq "ipsecmon key additions, deletions, rekeys" "[14,12,0]" \
		"$(ipsecmon_q gw2 '[.ipsecmon.key_additions, .ipsecmon.key_deletions, .ipsecmon.rekeys]')"
	check_eq "ipsecmon totals never went down" 1 "$(ipsecmon_monotonic)"
	ipsecmon_monitor_stop
fi
teardown_gateways
