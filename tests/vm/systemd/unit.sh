#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vm-init: systemd
#
# The systemd unit, really started: the guest boots with systemd as PID 1
# (tests/vm/lib/boot.sh, exec_systemd), `make install` puts the binary, the
# unit and /etc/default/ipsecmon-bpf in place, and the unit runs the monitor
# on gw2's v2 as an operator would: `systemctl start`, JSON lines in the
# journal, then to --output, reopened by `systemctl reload` after the file
# was moved away, exact counts for pings through an SA pair, `systemctl
# stop` with exit status 0 that leaves the programs attached, and the
# unit's exposure score from `systemd-analyze security`.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib/guest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/guest.sh"

N=5
SPI12=0x1001
SPI21=0x2001
LOG=/var/log/ipsecmon-bpf/ipsecmon.jsonl
UNIT=ipsecmon-bpf.service

check_eq "PID 1" systemd "$(cat /proc/1/comm)"
setup_gateways
ipsec_pair cbc-sha256 "$SPI12" "$SPI21"

# make install from the checkout: the build is the host's (the share is
# read-only, so make must find everything up to date).
rc=0
make -s -C "$IPSECMON_VM_REPO" install >/tmp/install.log 2>&1 || rc=$?
((rc == 0)) || cat /tmp/install.log
check_eq "make install: exit status" 0 "$rc"
BIN=/usr/local/sbin/ipsecmon-bpf
check_eq "installed: binary, unit, defaults" "yes yes yes" \
	"$([[ -x /usr/local/sbin/ipsecmon-bpf ]] && echo yes) $([[ -f /usr/local/lib/systemd/system/$UNIT || -f /etc/systemd/system/$UNIT || -f /lib/systemd/system/$UNIT ]] && echo yes) $([[ -f /etc/default/ipsecmon-bpf ]] && echo yes)"
# The host's root is the guest's: no waiting for its networks to come up.
systemctl mask --quiet ifupdown-wait-online.service systemd-networkd-wait-online.service \
	NetworkManager-wait-online.service 2>/dev/null || true

# lines_at_least FILE N: FILE holds N snapshot lines or more.
lines_at_least() {
	local n
	n=$(grep -c '"interfaces"' "$1" 2>/dev/null) || true
	((${n:-0} >= $2))
}
journal() { journalctl -u "$UNIT" --no-pager -o cat 2>/dev/null; }
journal_lines_at_least() {
	local n
	n=$(journal | grep -c '"interfaces"') || true
	((${n:-0} >= $1))
}

# First as installed, to the journal: what `journalctl -u ... | jq` reads.
cp /etc/default/ipsecmon-bpf /tmp/default.orig
cat >>/etc/default/ipsecmon-bpf <<-CONF
	IPSECMON_INTERFACES="v2"
	IPSECMON_OPTS="--netns gw2 --interval 1"
CONF
systemctl daemon-reload
check_eq "systemctl start (JSON lines to the journal)" 0 "$(systemctl start "$UNIT" && echo 0 || echo 1)"
wait_for 60 journal_lines_at_least 2 || journal | tail -n 20
check_eq "journal: JSON snapshot lines, active SAs in the last" "[true,2]" \
	"[$(journal_lines_at_least 2 && echo true || echo false),$(journal | grep '^{' | jq -c 'select(.interfaces) | .ipsecmon.active_sas' | tail -n 1)]"
check_eq "journal: every line the monitor wrote is JSON" 0 \
	"$(journal | grep '^{' | jq -c . >/dev/null 2>&1 && echo 0 || echo 1)"
check_eq "systemctl stop" 0 "$(systemctl stop "$UNIT" && echo 0 || echo 1)"

# Then to a file, for log rotation.
cp /tmp/default.orig /etc/default/ipsecmon-bpf
cat >>/etc/default/ipsecmon-bpf <<-CONF
	IPSECMON_INTERFACES="v2"
	IPSECMON_OPTS="--netns gw2 --interval 1 --output $LOG"
CONF
check_eq "systemctl start (--output $LOG)" 0 "$(systemctl start "$UNIT" && echo 0 || echo 1)"
if ! wait_for 60 lines_at_least "$LOG" 2; then
	systemctl status "$UNIT" --no-pager || true
	journalctl -u "$UNIT" --no-pager | tail -n 20 || true
fi
check_eq "unit active" active "$(systemctl is-active "$UNIT" || true)"
note "bpffs: $(findmnt -n -o FSTYPE,OPTIONS /sys/fs/bpf || echo none)"
check_eq "echo replies" "$N" "$(ping_n gw1 "$GW2_V4" "$N")"
settle
"$BIN" stats --json --netns gw2 >/tmp/stats.json
check_eq "SA $SPI12 [known, wire, kernel packets], bad SPIs" "[true,$N,$N,0]" \
	"$(jq -c '[([.sas[] | select(.spi == "0x00001001" and .dir == "rx")][0] | .known, .packets,
		.kernel.packets), .ipsecmon.bad_spi_packets]' /tmp/stats.json)"
# The unit attaches with the default hooks; v2 is a veth, so TC ingress
# receives (native XDP would cost veth its GRO) and no kernel SA lookup is
# attached: the live monitor correlates, on every kernel.
check_eq "v2's hooks with the unit's default attach" "tc-ingress,tc-egress" \
	"$(jq -r '.interfaces[] | select(.name == "v2") | .hooks | join(",")' /tmp/stats.json)"
check_eq "correlation, active SAs (the unit's monitor is live)" '["monitor",2]' \
	"$(jq -c '[.ipsecmon.correlation, .ipsecmon.active_sas]' /tmp/stats.json)"

# Log rotation as logrotate does it: move the file away, then reload.
mv "$LOG" "$LOG.1"
check_eq "systemctl reload" 0 "$(systemctl reload "$UNIT" && echo 0 || echo 1)"
wait_for 30 lines_at_least "$LOG" 1 || true
check_eq "after reload: lines in the new file" 1 "$(lines_at_least "$LOG" 1 && echo 1 || echo 0)"
check_eq "every line of both files is JSON" 0 \
	"$(cat "$LOG.1" "$LOG" | jq -c . >/dev/null 2>&1 && echo 0 || echo 1)"
check_eq "the unit's monitor saw the pings: rx esp packets in its last line" "$N" \
	"$(jq -c 'select(.interfaces) | .traffic.rx.esp.packets' "$LOG" | tail -n 1)"

check_eq "systemctl stop" 0 "$(systemctl stop "$UNIT" && echo 0 || echo 1)"
check_eq "after stop: [result, exit status]" "[success,0]" \
	"[$(systemctl show -p Result --value "$UNIT"),$(systemctl show -p ExecMainStatus --value "$UNIT")]"
check_eq "after stop: v2's hooks still attached" "tc-ingress,tc-egress" \
	"$("$BIN" status --json --netns gw2 | jq -r '.interfaces[] | select(.name == "v2") | .hooks | join(",")')"

exposure() { sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) \([A-Z]*\).*/\1 \2/p'; }
score=$(systemd-analyze security "$UNIT" 2>/dev/null | exposure)
how="of the loaded unit"
if [[ -z $score ]]; then
	# No system bus: the same analysis from the unit file.
	score=$(systemd-analyze security --offline=yes /usr/local/lib/systemd/system/$UNIT 2>/dev/null | exposure)
	how="of the unit file (--offline)"
fi
note "systemd-analyze security $UNIT ($how): ${score:-not available}"
check_eq "exposure rating" OK "${score##* }"
"$BIN" detach --all --netns gw2
teardown_gateways
