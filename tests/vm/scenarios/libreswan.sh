#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Libreswan (pluto) IKEv2 PSK between gw1 and gw2, one pluto per namespace,
# run from the private root run.sh unpacks (Debian's libreswan conflicts
# with strongSwan, so it is not installed). The CHILD_SA carries ping, then
# `whack --rekey-ipsec` replaces it: ipsecmon's additions, deletions and
# rekeys must be exact, no bad SPI across the rekey, and each SA's packets
# on the wire equal to the kernel's count for it.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib/guest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/guest.sh"

N=6
LSW_ROOT=${IPSECMON_LIBRESWAN_ROOT:-/var/cache/ipsecmon-vm/libreswan-root}
LSW_DIR=/tmp/ipsecmon-lsw
LSW_LIB=$LSW_ROOT/usr/lib/x86_64-linux-gnu
LSW_EXEC=$LSW_ROOT/usr/libexec/ipsec

[[ -x $LSW_EXEC/pluto ]] ||
	bail preflight "libreswan unpacked in $LSW_ROOT (tests/vm/run.sh libreswan)" missing

# lsw PROGRAM ARGS...: a libreswan program from the private root.
lsw() { LD_LIBRARY_PATH=$LSW_LIB "$@"; }

# whack_ns NS ARGS...: whack against NS's pluto.
whack_ns() {
	local ns=$1
	shift
	nsx "$ns" env LD_LIBRARY_PATH="$LSW_LIB" "$LSW_EXEC/whack" \
		--ctlsocket "$LSW_DIR/$ns/run/pluto.ctl" "$@"
}

# pluto_start NS LOCAL REMOTE: pluto in NS with its own NSS database,
# config, secrets and run folder (all under /tmp: the control socket cannot
# live on the 9p share). No updown script: host-to-host, no routes to add.
pluto_start() {
	local ns=$1 me=$2 peer=$3 d=$LSW_DIR/$1
	mkdir -p "$d/nss" "$d/run"
	lsw "$LSW_ROOT/usr/bin/certutil" -N -d "sql:$d/nss" --empty-password
	# ipsec.conf wants its settings indented: no <<- (it strips the tabs).
	cat >"$d/ipsec.conf" <<EOF
config setup
	logfile=$d/pluto.log
	plutodebug=none
	dnssec-enable=no

conn gw
	ikev2=yes
	authby=secret
	left=$me
	right=$peer
	leftsubnet=$me/32
	rightsubnet=$peer/32
	type=tunnel
	ike=aes128-sha2_256-modp2048
	esp=aes128-sha2_256
	leftupdown=%disabled
	auto=add
EOF
	printf '%s %s : PSK "ipsecmon-vm-test-psk"\n' "$me" "$peer" >"$d/ipsec.secrets"
	chmod 0600 "$d/ipsec.secrets"
	# pluto runs its helpers (addconn, _updown) from the compiled-in
	# /usr/libexec/ipsec only: give it that folder in a mount namespace of
	# its own, pointing into the private root.
	# shellcheck disable=SC2016 # expanded by the inner bash
	bg ip netns exec "$ns" unshare -m bash -c '
		mount -t tmpfs tmpfs /usr/libexec
		ln -s "$1/usr/libexec/ipsec" /usr/libexec/ipsec
		export LD_LIBRARY_PATH=$1/usr/lib/x86_64-linux-gnu
		exec /usr/libexec/ipsec/pluto --nofork --config "$2/ipsec.conf" \
			--secretsfile "$2/ipsec.secrets" --ipsecdir "$2" --nssdir "$2/nss" \
			--rundir "$2/run" --logfile "$2/pluto.log"' _ "$LSW_ROOT" "$d"
	if ! wait_for 20 test -S "$d/run/pluto.ctl"; then
		sed "s/^/[$ns pluto] /" "$d/pluto.log" || true
		return 1
	fi
	nsx "$ns" env LD_LIBRARY_PATH="$LSW_LIB" "$LSW_EXEC/addconn" --config "$d/ipsec.conf" \
		--ctlsocket "$d/run/pluto.ctl" gw
	whack_ns "$ns" --listen >/dev/null
}

pluto_log() { sed "s/^/[$1 pluto] /" "$LSW_DIR/$1/pluto.log" 2>/dev/null || true; }

in_spi() { ip -n gw2 xfrm state list dst "$GW2_V4" proto esp | awk '$1 == "proto" { print $4 }'; }
out_spi() { ip -n gw2 xfrm state list src "$GW2_V4" proto esp | awk '$1 == "proto" { print $4 }'; }

setup_gateways
if have_ipsecmon; then
	ipsecmon_attach gw2 v2
	ip netns exec gw2 tcpdump -i v2 -Q in -n -U -w /tmp/ike.pcap 'udp port 500 or udp port 4500' \
		2>/dev/null &
	TCPDUMP_PID=$!
	wait_for 10 test -s /tmp/ike.pcap
	ipsecmon_monitor gw2 v2
fi
pluto_start gw1 "$GW1_V4" "$GW2_V4"
pluto_start gw2 "$GW2_V4" "$GW1_V4"

if ! whack_ns gw1 --name gw --initiate >/tmp/initiate.log 2>&1 ||
	[[ $(count_words "$(spis gw2 esp)") != 2 ]]; then
	cat /tmp/initiate.log
	pluto_log gw1
	pluto_log gw2
	check_eq "whack --initiate" ok failed
	exit 1
fi

old=$(spis gw2 esp)
check_eq "ESP SAs after IKE_AUTH (gw1 vs gw2)" "$old" "$(spis gw1 esp)"
check_eq "ESP SAs after IKE_AUTH" 2 "$(count_words "$old")"
note "SPIs before rekey: $old"

spi_in=$(in_spi)
spi_out=$(out_spi)
check_eq "echo replies before rekey" "$N" "$(ping_n gw1 "$GW2_V4" "$N")"
settle
check_eq "gw2 in SA $spi_in packets before rekey" "$N" "$(sa_stat gw2 esp "$spi_in" packets)"
if have_ipsecmon; then
	ipsecmon_monitor_sync
	check_eq "ipsecmon after IKE_AUTH [active SAs, tunnels, additions, deletions, rekeys]" \
		"[2,1,2,0,0]" "$(ipsecmon_q gw2 '.ipsecmon | [.active_sas, .active_tunnels,
			.key_additions, .key_deletions, .rekeys]')"
	check_eq "ipsecmon in SA $spi_in [known, mode, wire, kernel packets]" "[true,\"tunnel\",$N,$N]" \
		"$(ipsecmon_sa gw2 "$spi_in" rx '[.known, .mode, .packets, .kernel.packets]')"
	check_eq "ipsecmon out SA $spi_out [known, wire, kernel packets]" \
		"[true,$N,$(sa_stat gw2 esp "$spi_out" packets)]" \
		"$(ipsecmon_sa gw2 "$spi_out" tx '[.known, .packets, .kernel.packets]')"
fi

whack_ns gw1 --name gw --rekey-ipsec >/tmp/rekey.log 2>&1 || cat /tmp/rekey.log
if ! wait_for 30 both_have_two_new "$old"; then
	pluto_log gw1
	pluto_log gw2
fi
new=$(spis gw2 esp)
note "SPIs after rekey: $new"
check_eq "ESP SAs after rekey (gw1 vs gw2)" "$new" "$(spis gw1 esp)"
check_eq "ESP SAs after rekey" 2 "$(count_words "$new")"
for s in $old; do
	check_eq "old SPI $s gone from gw2" absent "$(sa_stat gw2 esp "$s" packets)"
done

spi_in=$(in_spi)
spi_out=$(out_spi)
check_eq "echo replies after rekey" "$N" "$(ping_n gw1 "$GW2_V4" "$N")"
settle
check_eq "gw2 new in SA $spi_in packets" "$N" "$(sa_stat gw2 esp "$spi_in" packets)"
check_eq "gw1 xfrm_stat errors" none "$(xfrm_errors gw1)"
check_eq "gw2 xfrm_stat errors" none "$(xfrm_errors gw2)"
if have_ipsecmon; then
	ipsecmon_monitor_sync
	check_eq "ipsecmon after rekey [active SAs, additions, deletions, rekeys, bad SPIs]" \
		"[2,4,2,2,0]" "$(ipsecmon_q gw2 '.ipsecmon | [.active_sas, .key_additions,
			.key_deletions, .rekeys, .bad_spi_packets]')"
	check_eq "ipsecmon new in SA $spi_in [known, wire, kernel packets]" \
		"[true,$N,$(sa_stat gw2 esp "$spi_in" packets)]" \
		"$(ipsecmon_sa gw2 "$spi_in" rx '[.known, .packets, .kernel.packets]')"
	check_eq "ipsecmon new out SA $spi_out [known, wire, kernel packets]" \
		"[true,$N,$(sa_stat gw2 esp "$spi_out" packets)]" \
		"$(ipsecmon_sa gw2 "$spi_out" tx '[.known, .packets, .kernel.packets]')"
	check_eq "ipsecmon datapath bad SPIs, bad_spis rows" "[0,0]" \
		"$(ipsecmon_q gw2 '[.datapath.bad_spi_packets, (.bad_spis | length)]')"
	check_eq "ipsecmon tunnel bytes received = wire ESP bytes" \
		"$(ipsecmon_q gw2 .traffic.rx.esp.bytes)" "$(ipsecmon_q gw2 .ipsecmon.tunnel_bytes_received)"
	check_eq "ipsecmon sa_rekeyed events" 2 \
		"$(jq -c 'select(.event == "sa_rekeyed")' "$IPSECMON_MON_OUT" | wc -l)"
	check_eq "ipsecmon totals never went down" 1 "$(ipsecmon_monotonic)"
	ipsecmon_monitor_stop
	check_eq "ipsecmon gw2 rx esp packets" "$((2 * N))" "$(ipsecmon_rx gw2 esp)"
	kill -INT "$TCPDUMP_PID"
	wait "$TCPDUMP_PID" || true
	wire_ike=$(tcpdump -r /tmp/ike.pcap -n 'udp port 500 or (udp port 4500 and udp[8:4] = 0)' \
		2>/dev/null | wc -l)
	note "$wire_ike IKE messages arrived on v2"
	check_eq "ipsecmon gw2 rx ike packets = IKE packets tcpdump saw" "$wire_ike" \
		"$(ipsecmon_rx gw2 ike)"
fi
