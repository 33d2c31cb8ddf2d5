#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo, in the 6.12 guest: real IPsec for ipsecmon-bpf to watch.
#
#   gw1 (strongSwan) ==IKEv2 tunnel== gw2 (strongSwan, ipsecmon) ---- gw3
#       10.0.0.1                 10.0.0.2 v2 | w2 10.0.3.2      10.0.3.3
#
# gw2 is the gateway in the middle, watched by `run` on both interfaces.
# Three moments are shown as the IPSECMON window: the healthy tunnel,
# after a forced rekey, and after two faults from gw3, a peer whose SA on
# gw2 has the wrong key (its packets are not authenticated) and whose SA
# gw2 then deletes under its traffic (its packets become bad SPIs). Then
# the JSON-lines events and the Prometheus lines. Every number the demo
# talks about is also asserted (check_eq), so the demo is a test too.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib/guest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/guest.sh"

N=20 # pings through the tunnel, each time
N_BADKEY=5
N_BADSPI=4
G2W=10.0.3.2
G3=10.0.3.3
G2W_MAC=02:00:00:00:03:02
G3_MAC=02:00:00:00:03:03
SPI32=0x3001 # gw3 -> gw2: the wrong key on gw2, later deleted
SPI23=0x3002
PROM=127.0.0.1:9477

say() { printf '\n==> %s\n' "$*"; }

have_ipsecmon || {
	fail "demo" "build/ipsecmon-bpf" "missing"
	exit 1
}

# frame TITLE: the IPSECMON window as `watch` prints it without a terminal
# (its first frame), without the traffic and IKE tables.
frame() {
	say "$1"
	echo "+ ipsecmon-bpf watch --netns gw2"
	timeout 5 "$IPSECMON_BIN" watch --interval 10 --netns gw2 --pin-dir "$_IPSECMON_PIN" |
		awk '/^ipsecmon-bpf / && seen++ { exit }
			/^(TRAFFIC|IKE EXCHANGES)/ { skip = 1 }
			/^$/ { skip = 0 }
			skip { next }
			/^$/ { if (!blank) print; blank = 1; next }
			{ blank = 0; print }' || true
}

# counters: [SAs, additions, deletions, rekeys, bad SPIs, not decrypted, not authenticated]
counters() {
	ipsecmon_q gw2 '.ipsecmon | [.active_sas, .key_additions, .key_deletions, .rekeys,
		.bad_spi_packets, .packets_not_decrypted, .packets_not_authenticated]'
}

say "Booted Debian's $(uname -r); building gw1 -- gw2 -- gw3 in network namespaces"
setup_gateways
ip netns add gw3
ip -n gw3 link add v3 address "$G3_MAC" type veth peer name w2 netns gw2 address "$G2W_MAC"
ip -n gw3 -batch - <<-BATCH
	link set lo up
	addr add $G3/24 dev v3
	link set v3 up
	neigh replace $G2W lladdr $G2W_MAC dev v3 nud permanent
BATCH
ip -n gw2 -batch - <<-BATCH
	addr add $G2W/24 dev w2
	link set w2 up
	neigh replace $G3 lladdr $G3_MAC dev w2 nud permanent
BATCH

say "Attaching ipsecmon-bpf to gw2's v2 and w2, and starting the monitor"
# XDP, as on a gateway's NIC (a plain attach on a veth receives on TC
# ingress), so that the kernel's SA lookup is part of the show.
echo "+ ipsecmon-bpf run v2 w2 --netns gw2 --hooks xdp,tc-egress --interval 1 --prometheus $PROM"
ipsecmon_attach gw2 v2 w2
IPSECMON_MON_INTERVAL=1 ipsecmon_monitor gw2 v2 w2 --prometheus="$PROM"

say "strongSwan on gw1 and gw2: IKEv2 with a pre-shared key, one tunnel"
charon_start gw1 "$(swanctl_psk_conf gw1 "$GW1_V4" gw2 "$GW2_V4" "$GW1_V4/32" "$GW2_V4/32")"
charon_start gw2 "$(swanctl_psk_conf gw2 "$GW2_V4" gw1 "$GW1_V4" "$GW2_V4/32" "$GW1_V4/32")"
if ! swanctl_ns gw1 --initiate --child net --timeout 60 >/tmp/initiate.log 2>&1; then
	cat /tmp/initiate.log
	charon_log gw1
	fail "swanctl --initiate" ok failed
	exit 1
fi
echo "    tunnel up: SPIs $(spis gw2 esp)"
check_eq "$N pings through the tunnel" "$N" "$(ping_n gw1 "$GW2_V4" "$N")"
settle
ipsecmon_monitor_sync
check_eq "healthy: [SAs, additions, deletions, rekeys, bad SPIs, not decrypted, not authenticated]" \
	"[2,2,0,0,0,0,0]" "$(counters)"
frame "Moment 1: a healthy tunnel (2 SAs, one per direction; $N pings each way)"

say "Forcing a rekey of the CHILD_SA (swanctl --rekey)"
old=$(spis gw2 esp)
swanctl_ns gw1 --rekey --child net >/dev/null
wait_for 30 both_have_two_new "$old" || charon_log gw2
echo "    SPIs $old -> $(spis gw2 esp)"
check_eq "$N pings after the rekey" "$N" "$(ping_n gw1 "$GW2_V4" "$N")"
settle
ipsecmon_monitor_sync
check_eq "rekeyed: [SAs, additions, deletions, rekeys, bad SPIs, not decrypted, not authenticated]" \
	"[2,4,2,2,0,0,0]" "$(counters)"
frame "Moment 2: after the rekey (2 new SAs replaced 2: additions 4, deletions 2, rekeys 2)"

say "Faults from gw3: an SA whose key gw2 has wrong, then gw2 deletes it under traffic"
sa_add gw3 cbc-sha256 "$G3" "$G2W" "$SPI32"
sa_add gw3 cbc-sha256 "$G2W" "$G3" "$SPI23"
sa_add gw2 cbc-sha256 "$G3" "$G2W" "$SPI32" --key not-the-peers-key
sa_add gw2 cbc-sha256 "$G2W" "$G3" "$SPI23"
sp_add gw3 out "$G3" "$G2W" esp "$SPI32" transport
sp_add gw2 in "$G3" "$G2W" esp "$SPI32" transport
echo "    $N_BADKEY pings from gw3 on SA $SPI32 (the wrong key on gw2: its ICV check fails)"
check_eq "wrong key: no echo reply" 0 "$(ping_n gw3 "$G2W" "$N_BADKEY")"
ip -n gw2 xfrm state delete src "$G3" dst "$G2W" proto esp spi "$SPI32"
echo "    SA $SPI32 deleted on gw2; $N_BADSPI more pings from gw3 (no SA for their SPI: bad SPIs)"
check_eq "deleted SA: no echo reply" 0 "$(ping_n gw3 "$G2W" "$N_BADSPI")"
settle
ipsecmon_monitor_sync
check_eq "faults: [SAs, additions, deletions, rekeys, bad SPIs, not decrypted, not authenticated]" \
	"[3,6,3,2,$N_BADSPI,$N_BADKEY,$N_BADKEY]" "$(counters)"
check_eq "gw2's own counters: [XfrmInStateProtoError, XfrmInNoStates]" "[$N_BADKEY,$N_BADSPI]" \
	"[$(xfrm_stat gw2 XfrmInStateProtoError),$(xfrm_stat gw2 XfrmInNoStates)]"
frame "Moment 3: after the faults"

say "Which counter shows which fault"
cat <<-TEXT
	    Packets Not Authenticated $N_BADKEY, Packets Not Decrypted $N_BADKEY: gw3's packets on SA $SPI32
	        failed the integrity check (a wrong key), as the kernel counts per SA.
	    Bad SPI Packets $N_BADSPI: gw3 kept sending on SA $SPI32 after gw2 had deleted it.
	    Key Deletions 3: the two SAs the rekey replaced, and $SPI32.
TEXT

say "The same as JSON lines (events of run; a snapshot line per interval besides)"
jq -c 'select(.event) | {event, spi, dir, src, dst, old_spi, early_packets, old_spi_packets_after}
	| with_entries(select(.value != null))' "$IPSECMON_MON_OUT" | head -n 12
check_eq "events: [sa_added, sa_rekeyed, sa_deleted, bad_spi]" "[6,2,3,1]" \
	"$(jq -s -c '[("sa_added", "sa_rekeyed", "sa_deleted", "bad_spi") as $e |
		[.[] | select(.event == $e)] | length]' "$IPSECMON_MON_OUT")"

say "And for Prometheus (curl http://$PROM/metrics in gw2)"
metrics=$(nsx gw2 curl -fsS "http://$PROM/metrics")
grep -E '^ipsecmon_(active_sas|key_additions_total|key_deletions_total|rekeys_total|bad_spi_packets_total|packets_not_(decrypted|authenticated)_total) ' <<<"$metrics" || true
check_eq "metrics: [bad SPIs, not authenticated]" "[$N_BADSPI,$N_BADKEY]" \
	"$(awk '$1 == "ipsecmon_bad_spi_packets_total" { b = $2 }
		$1 == "ipsecmon_packets_not_authenticated_total" { a = $2 }
		END { printf "[%s,%s]\n", b, a }' <<<"$metrics")"
ipsecmon_monitor_stop
ip netns del gw3
teardown_gateways
