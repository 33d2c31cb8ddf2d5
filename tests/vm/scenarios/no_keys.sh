#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# No key material leaves ipsecmon-bpf. gw2 holds SAs of every kind whose
# keys this script knows (AES-CBC + HMAC-SHA256, AES-GCM, null encryption +
# HMAC, AH); traffic flows, an SA is deleted and another added while the
# monitor runs with -vv (XFRM dumps and NEWSA/DELSA events carry the keys).
# Everything ipsecmon-bpf prints — readable and JSON stats, status, the
# monitor's JSON lines, verbose logs, errors — is captured, and no key may
# appear in it: not as hex in any case or with any separators, not as raw
# bytes.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib/guest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/guest.sh"

N=5
OUT=/tmp/ipsecmon-all-output
KEYS=/tmp/keys

have_ipsecmon || {
	check_eq "ipsecmon-bpf is built" yes no
	exit 1
}

setup_gateways
ipsec_pair cbc-sha256 0x1001 0x2001
# More SAs on gw2 only: their keys are in every dump.
sa_add gw2 gcm "$GW1_V4" "$GW2_V4" 0x3001
sa_add gw2 null-sha256 "$GW1_V4" "$GW2_V4" 0x4001
sa_add gw2 ah-sha256 "$GW1_V4" "$GW2_V4" 0x5001
{
	for spi in 0x1001 0x2001; do
		key_hex "k$spi-enc" 16 && echo
		key_hex "k$spi-auth" 32 && echo
	done
	key_hex k0x3001-aead 20 && echo
	key_hex k0x4001-auth 32 && echo
	key_hex k0x5001-auth 32 && echo
	key_hex k0x6001-enc 16 && echo
	key_hex k0x6001-auth 32 && echo
} >"$KEYS"
note "$(wc -l <"$KEYS") keys to look for"

ipsecmon_attach gw2 v2
: >"$OUT"
# The monitor, as verbose as it gets.
"$IPSECMON_BIN" run v2 --netns gw2 --pin-dir "$_IPSECMON_PIN" --interval 0.5 -v -v \
	>>"$OUT" 2>>"$OUT.err" &
mon=$!
_BG_PIDS+=("$mon")
wait_for 60 grep -q '"interfaces"' "$OUT"

check_eq "echo replies" "$N" "$(ping_n gw1 "$GW2_V4" "$N")"
# A DELSA and a NEWSA while the monitor listens: both carry keys.
sa_del gw2 "$GW1_V4" "$GW2_V4" esp 0x4001
sa_add gw2 cbc-sha256 "$GW1_V4" "$GW2_V4" 0x6001
sleep 2
kill -TERM "$mon"
wait "$mon" || true
cat "$OUT.err" >>"$OUT"

# Every other face, verbose where it has one.
for args in "stats" "stats --json" "stats --json --pretty" "status" "status --json" \
	"stats -v -v" "stats v1" "attach nosuch0" "detach nosuch0" "run"; do
	# shellcheck disable=SC2086 # word splitting of the argument lists is intended
	"$IPSECMON_BIN" $args --netns gw2 --pin-dir "$_IPSECMON_PIN" >>"$OUT" 2>&1 || true
done
ipsecmon_detach gw2 v2
"$IPSECMON_BIN" stats --netns gw2 --pin-dir "$_IPSECMON_PIN" >>"$OUT" 2>&1 || true

note "$(wc -c <"$OUT") bytes of output scanned"
check_eq "output mentions the SAs (the scan looks at real output)" 1 \
	"$(grep -c '"spi":"0x00003001"' "$OUT" | awk '{ print ($1 > 0) }')"
# Hex in any case and with any separators: compare against the output with
# everything but hex digits removed. And the keys as raw bytes.
leaks=$(/usr/bin/python3 -I -S -c '
import re, sys
out = open(sys.argv[1], "rb").read()
hexonly = re.sub(rb"[^0-9a-fA-F]", b"", out).lower()
found = []
for key in open(sys.argv[2]).read().split():
    k = key.lower().encode()
    if k in hexonly or bytes.fromhex(key) in out:
        found.append(key)
print(" ".join(found) if found else "none")' "$OUT" "$KEYS")
check_eq "keys found in ipsecmon-bpf's output" none "$leaks"
# The check itself must be able to fail: one key written out is found.
key_hex k0x1001-enc 16 | sed 's/../&:/g' >>"$OUT"
check_eq "a key planted with colons is detected" 1 \
	"$(/usr/bin/python3 -I -S -c '
import re, sys
out = open(sys.argv[1], "rb").read()
hexonly = re.sub(rb"[^0-9a-fA-F]", b"", out).lower()
print(int(open(sys.argv[2]).read().split()[0].lower().encode() in hexonly))' "$OUT" "$KEYS")"
teardown_gateways
