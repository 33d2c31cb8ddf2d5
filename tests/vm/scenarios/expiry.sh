#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Lifetime expiry while the monitor runs: both SAs of a pair get `limit
# time-soft 3 time-hard 6`, carry N pings, then the kernel expires them by
# itself (soft, then hard: an EXPIRE message each, no DELSA). The monitor
# must report a sa_soft_expired then a sa_expired event per SA, count two
# deletions, and keep the expired SAs' bytes in the confidential,
# authenticated and transport counters: an EXPIRE has the SA's counters but
# no algorithms, and those bytes used to drop to 0 at the hard expiry.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib/guest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/guest.sh"

N=10
SOFT=3
# Everything up to the readings before expiry must happen before the hard
# expiry: 6 s was not enough on a loaded CI host under TCG.
HARD=15
SPI12=0x1001
SPI21=0x2001
# ESP transport, AES-CBC + HMAC-SHA256-128 around a 64-byte ICMP message:
# IPv4 20 + ESP 8 + IV 16 + (64 + 2 trailer, padded to 80) + ICV 16.
WIRE=140

BYTES='[.ipsecmon | .confidential_bytes_received, .authenticated_bytes_received,
	.transport_bytes_received, .confidential_bytes_sent, .authenticated_bytes_sent,
	.transport_bytes_sent]'

setup_gateways
# The first SA of a suite makes the kernel load ESP and the crypto modules
# (modprobe over 9p, seconds under a loaded TCG host) after it stamped the
# SA's add time: done here, the lifetimes below are not spent on it.
ipsec_pair cbc-sha256 0x1fff 0x2fff
ipsec_flush
if have_ipsecmon; then
	ipsecmon_attach gw2 v2
	# Up before the SAs exist: their additions and expiries come as events.
	ipsecmon_monitor gw2 v2
fi
ipsec_pair cbc-sha256 "$SPI12" "$SPI21" --limit "time-soft $SOFT time-hard $HARD"
added=$SECONDS
# The monitor has the SAs (and, with the map, their rows) before traffic.
have_ipsecmon && ipsecmon_monitor_sync
note "SAs $((SECONDS - added)) s old before the pings"

replies=$(ping_n gw1 "$GW2_V4" "$N")
check_eq "echo replies before the soft expiry" "$N" "$replies"
settle
if [[ $replies != "$N" ]]; then
	# What the kernels say of it (no key lines).
	note "ping: $(nsx gw1 ping -n -c 1 -W 1 "$GW2_V4" 2>&1 | tr '\n' ' ')"
	note "gw1 xfrm_stat: $(xfrm_errors gw1)"
	{ ip -n gw1 -s xfrm state | grep -Ev '^[[:space:]]+(enc|auth|aead)' || true; } | sed 's/^/#    gw1: /'
	ip -n gw1 xfrm policy | sed 's/^/#    gw1: /'
fi
# One reading of each side, at once: the hard expiry is a few seconds off.
if have_ipsecmon; then
	"$IPSECMON_BIN" stats --json --netns gw2 --pin-dir "$_IPSECMON_PIN" >/tmp/before.json
fi
pk=$(sa_stat gw1 esp "$SPI12" packets)/$(sa_stat gw2 esp "$SPI12" packets)/$(sa_stat gw2 esp "$SPI21" packets)
note "SAs $((SECONDS - added)) s old at the readings before expiry"
check_eq "SA packets before expiry: gw1 out $SPI12 / gw2 in $SPI12 / gw2 out $SPI21" "$N/$N/$N" "$pk"
if have_ipsecmon; then
	check_eq "ipsecmon before expiry [correlation, active SAs, additions, deletions]" \
		"[\"$IPSECMON_CORR\",2,2,0]" \
		"$(jq -c '[.ipsecmon | .correlation, .active_sas, .key_additions, .key_deletions]' /tmp/before.json)"
	check_eq "ipsecmon rx/tx esp wire bytes" "[$((N * WIRE)),$((N * WIRE))]" \
		"$(jq -c '[.traffic.rx.esp.bytes, .traffic.tx.esp.bytes]' /tmp/before.json)"
	before=$(jq -c "$BYTES" /tmp/before.json)
	check_eq "ipsecmon byte counters before expiry" \
		"[$((N * WIRE)),$((N * WIRE)),$((N * WIRE)),$((N * WIRE)),$((N * WIRE)),$((N * WIRE))]" \
		"$before"
fi

# Both hard expiries, with a margin for the kernel's 1 s timer under TCG.
_both_expired() {
	[[ $(spis gw2 esp) == "" ]] || return 1
	if have_ipsecmon; then
		(($(jq -c 'select(.event == "sa_expired")' "$IPSECMON_MON_OUT" | wc -l) >= 2)) || return 1
	fi
}
if ! wait_for $((HARD + 15)) _both_expired; then
	note "gw2 SAs left: $(spis gw2 esp); monitor events: $(jq -c 'select(.event) | [.event, .spi]' "$IPSECMON_MON_OUT" 2>/dev/null | tr '\n' ' ')"
	tail -n 5 "$IPSECMON_MON_OUT.err" 2>/dev/null | sed 's/^/#    monitor stderr: /'
fi
note "hard expiry seen $((SECONDS - added)) s after the SAs were added"
check_eq "gw2 in SA $SPI12 after the hard expiry" absent "$(sa_stat gw2 esp "$SPI12" packets)"
check_eq "gw2 out SA $SPI21 after the hard expiry" absent "$(sa_stat gw2 esp "$SPI21" packets)"
check_eq "gw2 xfrm_stat errors" none "$(xfrm_errors gw2)"

if have_ipsecmon; then
	ipsecmon_monitor_sync
	note "monitor events: $(jq -c 'select(.event) | [.event, .spi, .dir]' "$IPSECMON_MON_OUT" | tr '\n' ' ')"
	for s in 0x00001001:rx 0x00002001:tx; do
		check_eq "ipsecmon events of SA ${s%:*} (${s#*:})" \
			'["sa_added","sa_soft_expired","sa_expired"]' \
			"$(jq -sc --arg spi "${s%:*}" --arg dir "${s#*:}" \
				'[.[] | select(.event and .spi == $spi and .dir == $dir) | .event]' \
				"$IPSECMON_MON_OUT")"
	done
	check_eq "ipsecmon after expiry [active SAs, additions, deletions, rekeys]" "[0,2,2,0]" \
		"$(ipsecmon_q gw2 '[.ipsecmon | .active_sas, .key_additions, .key_deletions, .rekeys]')"
	check_eq "ipsecmon SA rows after expiry" 0 "$(ipsecmon_q gw2 '.sas | length')"
	# The expired SAs' bytes stay, with their kind.
	check_eq "ipsecmon byte counters after the hard expiry = before" "$before" \
		"$(ipsecmon_q gw2 "$BYTES")"
	check_eq "ipsecmon failures after expiry" "[0,0,0,0]" \
		"$(ipsecmon_q gw2 '[.ipsecmon | .packets_not_decrypted, .packets_not_authenticated,
			.packets_replayed, .bad_spi_packets]')"
	check_eq "ipsecmon byte counters in the last JSON line = before" "$before" \
		"$(jq -sc "[.[] | select(.interfaces)] | last | $BYTES" "$IPSECMON_MON_OUT")"
	check_eq "ipsecmon totals never went down" 1 "$(ipsecmon_monotonic)"
	ipsecmon_monitor_stop
fi
teardown_gateways
