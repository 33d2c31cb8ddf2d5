#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make install / make uninstall into a throwaway DESTDIR: the exact file list
# and modes, the unit's ExecStart pointing at SBINDIR (PREFIX=/usr and
# PREFIX=/usr/local), systemd-analyze verify on the unit, the man page
# rendering without warnings (groff -wall, man --warnings) and documenting
# every command and option the binary's --help lists, /etc/default never
# overwritten, and uninstall removing everything but /etc/default.
# Needs the binary built (make test-dist builds it); no root.
#
# Output: "ok NAME" or "FAIL NAME: expected X got Y" per check, then
# "N passed, N failed". Exit 1 on any failure.

# The expected unit lines contain $IPSECMON_... literally.
# shellcheck disable=SC2016
set -uo pipefail

TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$TEST_DIR/../.." && pwd)
MAKE=${MAKE:-make}
BIN=$REPO/build/ipsecmon-bpf
# shellcheck source=tests/lib/assert.sh
source "$TEST_DIR/../lib/assert.sh"

WORK=$(mktemp -d /tmp/ipsm-install.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export LC_ALL=C

# Files (and symlinks) under a DESTDIR with their modes, one per line.
tree() {
	(cd "$1" && find . ! -type d -printf '%m %P\n' | sort)
}

install_into() {
	local dest=$1
	shift
	"$MAKE" -s -C "$REPO" install DESTDIR="$dest" "$@" >"$WORK/make.log" 2>&1
}

# --- PREFIX=/usr -------------------------------------------------------------

D=$WORK/usr
if install_into "$D" PREFIX=/usr; then
	ok install-usr
else
	fail install-usr "exit 0" "exit $?: $(tail -3 "$WORK/make.log")"
fi

check_text files-usr "644 etc/default/ipsecmon-bpf
644 usr/lib/systemd/system/ipsecmon-bpf.service
644 usr/share/bash-completion/completions/ipsecmon-bpf
644 usr/share/man/man8/ipsecmon-bpf.8.gz
755 usr/sbin/ipsecmon-bpf" "$(tree "$D")"

UNIT=$D/usr/lib/systemd/system/ipsecmon-bpf.service
check_text unit-execstart \
	'ExecStart=/usr/sbin/ipsecmon-bpf run $IPSECMON_INTERFACES $IPSECMON_OPTS' \
	"$(grep '^ExecStart=' "$UNIT" 2>/dev/null)"
check_text unit-no-placeholder "0" "$(grep -c '@[A-Z]*@' "$UNIT" 2>/dev/null)"
check_text unit-stoppost-commented '#ExecStopPost=/usr/sbin/ipsecmon-bpf detach --all' \
	"$(grep '^#ExecStopPost=' "$UNIT" 2>/dev/null)"
check_text unit-envfile 'EnvironmentFile=-/etc/default/ipsecmon-bpf' \
	"$(grep '^EnvironmentFile=' "$UNIT" 2>/dev/null)"
for kv in Type=simple Restart=on-failure After=network-online.target \
	ProtectSystem=strict ReadWritePaths=/sys/fs/bpf; do
	check_text "unit-${kv%%=*}" "$kv" "$(grep "^${kv%%=*}=" "$UNIT" 2>/dev/null)"
done
for cap in CAP_BPF CAP_NET_ADMIN CAP_SYS_ADMIN CAP_PERFMON; do
	if grep -q "^CapabilityBoundingSet=.*\b$cap\b" "$UNIT" &&
		grep -q "^AmbientCapabilities=.*\b$cap\b" "$UNIT"; then
		ok "unit-$cap"
	else
		fail "unit-$cap" "$cap in CapabilityBoundingSet and AmbientCapabilities" "missing"
	fi
done
check_text unit-no-privatenetwork "0" "$(grep -c '^PrivateNetwork=' "$UNIT")"

# systemd-analyze checks ExecStart's binary and the man page exist: point
# both at the DESTDIR (the installed unit names /usr/sbin, not yet there).
if command -v systemd-analyze >/dev/null; then
	mkdir -p "$WORK/verify"
	sed "s|/usr/sbin/ipsecmon-bpf|$D/usr/sbin/ipsecmon-bpf|g" "$UNIT" \
		>"$WORK/verify/ipsecmon-bpf.service"
	if out=$(MANPATH=$D/usr/share/man systemd-analyze verify \
		"$WORK/verify/ipsecmon-bpf.service" 2>&1) && [[ -z $out ]]; then
		ok unit-verify
	else
		fail unit-verify "no output, exit 0" "'$out'"
	fi
else
	fail unit-verify "systemd-analyze" "not installed"
fi

# The man page: renders without a warning, documents every command and every
# option of the binary's --help texts.
MAN=$D/usr/share/man/man8/ipsecmon-bpf.8.gz
check_text man-groff-wall "" "$(zcat "$MAN" | groff -man -Tutf8 -wall 2>&1 >/dev/null)"
if command -v man >/dev/null; then
	check_text man-warnings "" \
		"$(MANPATH=$D/usr/share/man man --warnings ipsecmon-bpf 2>&1 >/dev/null)"
else
	fail man-warnings "man (man-db)" "not installed"
fi
TEXT=$(zcat "$MAN" | groff -man -Tutf8 -P-c -rLL=200n 2>/dev/null | sed 's/.\x08//g')
for s in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS OUTPUT "IPSECMON COUNTERS" \
	"EXIT STATUS" FILES ENVIRONMENT EXAMPLES "SEE ALSO"; do
	if grep -q "^$s\$" <<<"$TEXT"; then ok "man-section-$s"; else fail "man-section-$s" "a section" "none"; fi
done
missing=
for c in attach detach status stats watch run check counters; do
	grep -qE "^ +$c( |$)" <<<"$TEXT" || missing+=" $c"
done
check_text man-commands "" "${missing# }"
missing=
if [[ -x $BIN ]]; then
	opts=$("$BIN" --help | grep -oE -- '--[a-z][a-z-]*' | sort -u)
	for c in attach detach status stats watch run check counters; do
		h=$("$BIN" "$c" --help 2>/dev/null) || continue
		opts+=$'\n'$(grep -oE -- '--[a-z][a-z-]*' <<<"$h")
	done
	while read -r o; do
		grep -qF -- "$o" <<<"$TEXT" || missing+=" $o"
	done < <(sort -u <<<"$opts")
	check_text man-options-of-help "" "${missing# }"
else
	fail man-options-of-help "$BIN" "not built"
fi
missing=
# The counters as the binary's table names them (ipsecmon-bpf counters).
for k in $("$BIN" counters --json | jq -r '.counters[].json'); do
	grep -qE "(^|[ ,])$k(,|\$)" <<<"$TEXT" || missing+=" $k"
done
check_text man-counters "" "${missing# }"

check_text default-file "$(cat "$REPO/dist/ipsecmon-bpf.default")" \
	"$(cat "$D/etc/default/ipsecmon-bpf" 2>/dev/null)"
# systemd reads it as VAR=value lines: only comments, blank lines, assignments.
check_text default-syntax "" "$(grep -vE '^(#.*|[A-Z_]+=".*"|)$' "$D/etc/default/ipsecmon-bpf")"

# A second install keeps local settings.
echo 'IPSECMON_INTERFACES="eth9"' >"$D/etc/default/ipsecmon-bpf"
install_into "$D" PREFIX=/usr
check_text default-kept 'IPSECMON_INTERFACES="eth9"' "$(cat "$D/etc/default/ipsecmon-bpf")"

"$MAKE" -s -C "$REPO" uninstall DESTDIR="$D" PREFIX=/usr >"$WORK/make.log" 2>&1
check_text uninstall "644 etc/default/ipsecmon-bpf" "$(tree "$D")"

# --- PREFIX=/usr/local (the Makefile's default) ------------------------------

D=$WORK/local
install_into "$D"
check_text files-local "644 etc/default/ipsecmon-bpf
644 usr/local/lib/systemd/system/ipsecmon-bpf.service
644 usr/local/share/bash-completion/completions/ipsecmon-bpf
644 usr/local/share/man/man8/ipsecmon-bpf.8.gz
755 usr/local/sbin/ipsecmon-bpf" "$(tree "$D")"
check_text unit-execstart-local \
	'ExecStart=/usr/local/sbin/ipsecmon-bpf run $IPSECMON_INTERFACES $IPSECMON_OPTS' \
	"$(grep '^ExecStart=' "$D/usr/local/lib/systemd/system/ipsecmon-bpf.service" 2>/dev/null)"

# SBINDIR on its own.
D=$WORK/sbindir
install_into "$D" PREFIX=/usr SBINDIR=/opt/ipsm/bin
check_text unit-execstart-sbindir \
	'ExecStart=/opt/ipsm/bin/ipsecmon-bpf run $IPSECMON_INTERFACES $IPSECMON_OPTS' \
	"$(grep '^ExecStart=' "$D/usr/lib/systemd/system/ipsecmon-bpf.service" 2>/dev/null)"
check_text binary-sbindir "755" "$(stat -c %a "$D/opt/ipsm/bin/ipsecmon-bpf" 2>/dev/null)"

finish
