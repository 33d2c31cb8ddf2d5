#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# SAs with marks. The kernel only finds an SA installed with `mark V mask M`
# for a packet whose mark matches, so a datapath that asked the kernel
# without the mark would call every packet of such an SA a bad SPI.
#
# 1. gw2's inbound ESP SA (and its policy) carry mark 0x5; an nft rule in
#    gw2's prerouting marks ESP from gw1 before XFRM sees it. The kernel
#    accepts every packet (XfrmInNoStates 0) and ipsecmon must agree: no bad
#    SPI, the packets on the SA's row, with attach alone (where the XDP SA
#    lookup needs no monitor) and with `run` up.
# 2. The same through a VTI (ikey/okey 5): the tunnel device sets the mark
#    the SA lookup uses, no nft rule.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib/guest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/guest.sh"

N=5
MARK=0x5
SPI12=0x1001
SPI21=0x2001
VSPI12=0x1005
VSPI21=0x2005

setup_gateways
# gw1 sends unmarked; only gw2's inbound SA and policy are marked.
sa_add gw1 cbc-sha256 "$GW1_V4" "$GW2_V4" "$SPI12"
sa_add gw1 cbc-sha256 "$GW2_V4" "$GW1_V4" "$SPI21"
sa_add gw2 cbc-sha256 "$GW1_V4" "$GW2_V4" "$SPI12" --mark "$MARK"
sa_add gw2 cbc-sha256 "$GW2_V4" "$GW1_V4" "$SPI21"
sp_add gw1 out "$GW1_V4" "$GW2_V4" esp "$SPI12" transport
sp_add gw1 in "$GW2_V4" "$GW1_V4" esp "$SPI21" transport
sp_add gw2 out "$GW2_V4" "$GW1_V4" esp "$SPI21" transport
sp_add gw2 in "$GW1_V4" "$GW2_V4" esp "$SPI12" transport mark "$MARK" mask 0xffffffff
nsx gw2 nft -f - <<EOF
table ip ipsecmon_mark {
	chain pre {
		type filter hook prerouting priority mangle; policy accept;
		ip saddr $GW1_V4 ip protocol 50 meta mark set $MARK
	}
}
EOF

# The kernel's view, after every round of pings: all accepted on the marked SA.
kernel_checks() {
	local label=$1 spi=$2 want=$3
	check_eq "$label: gw2 in SA $spi packets" "$want" "$(sa_stat gw2 esp "$spi" packets)"
	check_eq "$label: gw2 xfrm_stat errors (no XfrmInNoStates)" none "$(xfrm_errors gw2)"
	check_eq "$label: gw1 xfrm_stat errors" none "$(xfrm_errors gw1)"
}

# ipsecmon_checks LABEL SPI_IN SPI_OUT WANT RX_ESP BAD_SPI: what gw2's
# ipsecmon must say of the marked pair.
ipsecmon_checks() {
	local label=$1 si=$2 so=$3 want=$4 rx=$5 bad=$6
	check_eq "$label: ipsecmon gw2 rx esp packets" "$rx" "$(ipsecmon_rx gw2 esp)"
	check_eq "$label: ipsecmon bad SPIs [ipsecmon, datapath, rows]" "[$bad,0,0]" \
		"$(ipsecmon_q gw2 '[.ipsecmon.bad_spi_packets, .datapath.bad_spi_packets, (.bad_spis | length)]')"
	check_eq "$label: ipsecmon in SA $si [known, wire, kernel packets]" "[true,$want,$want]" \
		"$(ipsecmon_sa gw2 "$si" rx '[.known, .packets, .kernel.packets]')"
	check_eq "$label: ipsecmon out SA $so [known, wire, kernel packets]" "[true,$want,$want]" \
		"$(ipsecmon_sa gw2 "$so" tx '[.known, .packets, .kernel.packets]')"
}

if have_ipsecmon; then
	# After the SAs: attach learns the marks the namespace's SAs use.
	ipsecmon_attach gw2 v2
fi

note "--- marked SA, attach only"
check_eq "marked, attach only: echo replies" "$N" "$(ping_n gw1 "$GW2_V4" "$N")"
settle
kernel_checks "marked, attach only" "$SPI12" "$N"
if have_ipsecmon; then
	# Without a monitor only the kernel's SA lookup decides bad SPIs; the
	# map cannot, and the count is unknown (null), never a guess.
	want_bad=null
	[[ $IPSECMON_BAD_SPI_IDLE == active ]] && want_bad=0
	ipsecmon_checks "marked, attach only" "$SPI12" "$SPI21" "$N" "$N" "$want_bad"
	ipsecmon_monitor gw2 v2
fi

note "--- marked SA, run up"
check_eq "marked, run: echo replies" "$N" "$(ping_n gw1 "$GW2_V4" "$N")"
settle
kernel_checks "marked, run" "$SPI12" "$((2 * N))"
if have_ipsecmon; then
	ipsecmon_monitor_sync
	check_eq "marked, run: ipsecmon correlation, active SAs" "[\"$IPSECMON_CORR\",2]" \
		"$(ipsecmon_q gw2 '[.ipsecmon.correlation, .ipsecmon.active_sas]')"
	ipsecmon_checks "marked, run" "$SPI12" "$SPI21" "$((2 * N))" "$((2 * N))" 0
fi

# --- VTI: the tunnel's ikey is the inbound SA lookup's mark, its okey the
# outbound policy's. Tunnel-mode SAs and catch-all policies, all marked.
note "--- VTI (ikey/okey 5)"
nsx gw2 nft delete table ip ipsecmon_mark
ipsec_flush
vti_setup() {
	local ns=$1 local=$2 remote=$3 inner=$4 peer_inner=$5 out=$6 in=$7
	ip -n "$ns" link add vti5 type vti local "$local" remote "$remote" ikey 5 okey 5
	nsx "$ns" sysctl -qw net.ipv4.conf.vti5.disable_policy=1
	ip -n "$ns" -batch - <<-EOF
		link set dev vti5 up
		route replace $peer_inner/32 dev vti5 src $inner
		xfrm policy add src 0.0.0.0/0 dst 0.0.0.0/0 dir out mark 5 mask 0xffffffff tmpl src $local dst $remote proto esp reqid $((out)) mode tunnel
		xfrm policy add src 0.0.0.0/0 dst 0.0.0.0/0 dir in mark 5 mask 0xffffffff tmpl src $remote dst $local proto esp reqid $((in)) mode tunnel
	EOF
	sa_add "$ns" cbc-sha256 "$local" "$remote" "$out" --mode tunnel --mark 5
	sa_add "$ns" cbc-sha256 "$remote" "$local" "$in" --mode tunnel --mark 5
}
vti_setup gw1 "$GW1_V4" "$GW2_V4" "$GW1_NET" "$GW2_NET" "$VSPI12" "$VSPI21"
vti_setup gw2 "$GW2_V4" "$GW1_V4" "$GW2_NET" "$GW1_NET" "$VSPI21" "$VSPI12"
if have_ipsecmon; then
	# The monitor saw the flush and the new SAs; let it pass them on.
	ipsecmon_monitor_sync
	ipsecmon_monitor_sync
fi
check_eq "vti, run: echo replies" "$N" "$(ping_n gw1 "$GW2_NET" "$N" -I "$GW1_NET")"
settle
kernel_checks "vti, run" "$VSPI12" "$N"
check_eq "vti, run: gw1 in SA $VSPI21 packets" "$N" "$(sa_stat gw1 esp "$VSPI21" packets)"
if have_ipsecmon; then
	ipsecmon_monitor_sync
	ipsecmon_checks "vti, run" "$VSPI12" "$VSPI21" "$N" "$((3 * N))" 0
	check_eq "vti, run: ipsecmon in SA $VSPI12 mode" tunnel "$(ipsecmon_sa gw2 "$VSPI12" rx .mode)"
	ipsecmon_monitor_stop
	check_eq "vti: ipsecmon bad-SPI detection after the monitor stopped" \
		"$IPSECMON_BAD_SPI_IDLE" "$(ipsecmon_q gw2 .ipsecmon.bad_spi_detection)"
fi

# Once more with no monitor: the marks attach learned at the start are
# still 5 (the VTI's SAs use the same mark), so the kernel's lookup finds them.
check_eq "vti, attach only: echo replies" "$N" "$(ping_n gw1 "$GW2_NET" "$N" -I "$GW1_NET")"
settle
kernel_checks "vti, attach only" "$VSPI12" "$((2 * N))"
if have_ipsecmon; then
	want_bad=null
	[[ $IPSECMON_BAD_SPI_IDLE == active ]] && want_bad=0
	ipsecmon_checks "vti, attach only" "$VSPI12" "$VSPI21" "$((2 * N))" "$((4 * N))" "$want_bad"
fi

# --- A mark first seen while the monitor runs: its SA must be found from
# its first packet, not only after the monitor's next dump. The interval is
# long so that no dump comes in between; the SAs go one by one (a flush
# would make the monitor dump at once).
note "--- a new mark (0x7) while run is up, interval 600 s"
MARK2=0x7
SPI12B=0x1007
SPI21B=0x2007
if have_ipsecmon; then
	IPSECMON_MON_INTERVAL=600 ipsecmon_monitor gw2 v2
fi
for ns in gw1 gw2; do
	ip -n "$ns" link del vti5
	ip -n "$ns" xfrm policy flush
done
sa_del gw1 "$GW1_V4" "$GW2_V4" esp "$VSPI12" mark 5 mask 0xffffffff
sa_del gw1 "$GW2_V4" "$GW1_V4" esp "$VSPI21" mark 5 mask 0xffffffff
sa_del gw2 "$GW1_V4" "$GW2_V4" esp "$VSPI12" mark 5 mask 0xffffffff
sa_del gw2 "$GW2_V4" "$GW1_V4" esp "$VSPI21" mark 5 mask 0xffffffff
snapshots0=0
if have_ipsecmon; then
	sleep 1
	snapshots0=$(_ipsecmon_snapshots)
fi
sa_add gw1 cbc-sha256 "$GW1_V4" "$GW2_V4" "$SPI12B"
sa_add gw1 cbc-sha256 "$GW2_V4" "$GW1_V4" "$SPI21B"
sa_add gw2 cbc-sha256 "$GW1_V4" "$GW2_V4" "$SPI12B" --mark "$MARK2"
sa_add gw2 cbc-sha256 "$GW2_V4" "$GW1_V4" "$SPI21B"
sp_add gw1 out "$GW1_V4" "$GW2_V4" esp "$SPI12B" transport
sp_add gw1 in "$GW2_V4" "$GW1_V4" esp "$SPI21B" transport
sp_add gw2 out "$GW2_V4" "$GW1_V4" esp "$SPI21B" transport
sp_add gw2 in "$GW1_V4" "$GW2_V4" esp "$SPI12B" transport mark "$MARK2" mask 0xffffffff
nsx gw2 nft -f - <<EOF
table ip ipsecmon_mark {
	chain pre {
		type filter hook prerouting priority mangle; policy accept;
		ip saddr $GW1_V4 ip protocol 50 meta mark set $MARK2
	}
}
EOF
# _sa_added SPI: the monitor has written its sa_added event (so it has
# handled the NEWSA and made the row). No jq -e: under pipefail its status
# follows the last line's (empty) result, not whether anything matched.
_sa_added() {
	jq --arg s "$(printf '0x%08x' "$1")" 'select(.event == "sa_added" and .spi == $s)' \
		"$IPSECMON_MON_OUT" | grep -q .
}
if have_ipsecmon; then
	if ! wait_for 20 _sa_added "$SPI12B" || ! wait_for 20 _sa_added "$SPI21B"; then
		note "monitor events: $(jq -c 'select(.event) | [.event, .spi, .dir]' "$IPSECMON_MON_OUT" |
			tr '\n' ' ')"
		sed 's/^/# run stderr: /' "$IPSECMON_MON_OUT.err"
	fi
fi
check_eq "new mark, run: echo replies" "$N" "$(ping_n gw1 "$GW2_V4" "$N")"
settle
kernel_checks "new mark, run" "$SPI12B" "$N"
if have_ipsecmon; then
	ipsecmon_checks "new mark, run" "$SPI12B" "$SPI21B" "$N" "$((5 * N))" 0
	# No dump came between the SAs' addition and now: only the NEWSA
	# events can have told the datapath of the new mark.
	check_eq "new mark, run: no snapshot (dump) since the SAs were added" "$snapshots0" \
		"$(_ipsecmon_snapshots)"
	note "snapshot times: $(jq -r 'select(.interfaces) | .time' "$IPSECMON_MON_OUT" | tr '\n' ' ')"
	ipsecmon_monitor_stop
fi
teardown_gateways
