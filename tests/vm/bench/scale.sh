#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench-scale, in the guest: the monitor at 1k, 10k and 100k SAs
# (IPSECMON_BENCH_SIZES), each size in fresh namespaces, SAs installed
# with one `ip -batch`. For each size: the kernel's own dump (`ip xfrm
# state list`, best of 3), one `stats --json` (best of 2), the monitor's
# tick (`run -vv` logs each; the median of the ticks after the first), its
# RSS over the same monitor with an empty SAD, the delay between `ip xfrm
# state add` and the SA's row in the pinned map while SA additions and
# deletions churn the SAD (50 + 50 per batch, every 0.1 s or as fast as ip
# goes; bpftool polls the map, its own lookup time taken off), and the
# longest JSON line of the stream. Ratios are to the kernel's dump in the
# same run; the churn delay is also given in ticks (a tick is the interval,
# or the tick's own time where that is longer). A benchmark: it reports, it asserts nothing but that it ran.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../lib/guest.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/guest.sh"

SIZES=${IPSECMON_BENCH_SIZES:-1000 10000 100000}
INTERVAL=1
FIRST=0x100000
PROBE=0x300000

have_ipsecmon || { fail "bench-scale needs build/ipsecmon-bpf"; exit 1; }
ENC=0x$(key_hex bulk-enc 16)
AUTH=0x$(key_hex bulk-auth 32)

now_ms() { date +%s%3N; }

# batch VERB FIRST COUNT: ip -batch lines (awk: bash loops are slow under TCG).
batch() {
	awk -v verb="$1" -v first="$(($2))" -v n="$3" -v dst="$GW2_V4" -v enc="$ENC" -v auth="$AUTH" 'BEGIN {
		for (i = 0; i < n; i++) {
			spi = first + i
			if (verb == "add")
				printf "xfrm state add src 10.%d.%d.%d dst %s proto esp spi %d reqid %d mode transport enc cbc(aes) %s auth-trunc hmac(sha256) %s 128\n",
					64 + int(i / 62500), int(i / 250) % 250, i % 250 + 1, dst, spi, spi, enc, auth
			else
				printf "xfrm state delete dst %s proto esp spi %d\n", dst, spi
		}
	}'
}

# best_ms N CMD...: the fastest of N runs of CMD, in ms.
best_ms() {
	local n=$1 i t0 t best=""
	shift
	for ((i = 0; i < n; i++)); do
		t0=$(now_ms)
		"$@" >/dev/null
		t=$(($(now_ms) - t0))
		[[ -z $best || $t -lt $best ]] && best=$t
	done
	echo "$best"
}

# ticks_ms: the monitor's tick times so far (ms), the first (initial) one left out.
ticks_ms() { sed -n 's/.*tick: \([0-9]*\) ms.*/\1/p' "$IPSECMON_MON_OUT.err" | tail -n +2; }
median() { sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "-" }'; }
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$_IPSECMON_MON_PID/status"; }
wait_ticks() {
	local want=$1 i
	for ((i = 0; i < 600; i++)); do
		(($(ticks_ms | wc -l) >= want)) && return 0
		sleep 0.5
	done
	return 1
}

# spi_key SPI: the sa_stats key (rx, ESP, IPv4, SPI in network order, gw2) as bpftool hex.
spi_key() {
	printf '00 32 00 00 %02x %02x %02x %02x' $(($1 >> 24 & 255)) $(($1 >> 16 & 255)) \
		$(($1 >> 8 & 255)) $(($1 & 255))
	# shellcheck disable=SC2086 # the octets as separate words
	printf ' %02x' ${GW2_V4//./ } 0 0 0 0 0 0 0 0 0 0 0 0
}

# churn SECONDS NEXT: every 0.1 s, 50 deletions of the oldest bulk SAs and 50
# additions from NEXT on: 1,000 SAD changes per second (as far as ip keeps up).
churn() {
	local end=$(($(now_ms) + $1 * 1000)) del=$FIRST add=$2
	while (($(now_ms) < end)); do
		{ batch delete "$del" 50; batch add "$add" 50; } | ip -n gw2 -batch - 2>/dev/null || true
		del=$((del + 50)) add=$((add + 50))
		sleep 0.1
	done
	echo $(((add - $2) * 2))
}

# probe_ms I: add probe SA I, and the ms until its row is in the map.
probe_ms() {
	local spi=$((PROBE + $1)) t0 map
	map=$(echo "$_IPSECMON_PIN"/netns-*/sa_stats)
	t0=$(now_ms)
	ip -n gw2 xfrm state add src 10.200.0.1 dst "$GW2_V4" proto esp spi "$spi" reqid "$spi" \
		mode transport enc 'cbc(aes)' "$ENC" auth-trunc 'hmac(sha256)' "$AUTH" 128
	# shellcheck disable=SC2046 # the key's octets as separate words
	until bpftool map lookup pinned "$map" key hex $(spi_key "$spi") >/dev/null 2>&1; do
		(($(now_ms) - t0 > 60000)) && { echo timeout; return; }
	done
	echo $(($(now_ms) - t0))
}

monitor_start() {
	IPSECMON_MON_INTERVAL=$INTERVAL ipsecmon_monitor gw2 v2 -vv
}

ROWS=()
rss0=""
for size in 0 $SIZES; do
	setup_gateways
	max=8192
	while ((max < 2 * size)); do max=$((max * 2)); done
	t0=$(now_ms)
	((size)) && batch add "$FIRST" "$size" | ip -n gw2 -batch -
	add_ms=$(($(now_ms) - t0))
	ipsecmon_attach gw2 v2 --max-sas "$max" >/dev/null
	dump=$(best_ms 3 ip -n gw2 xfrm state list)
	IPSECMON_MON_OUT=/tmp/bench-run-$size.jsonl
	monitor_start
	wait_ticks 4 || note "size $size: fewer than 4 ticks in 300 s"
	tick=$(ticks_ms | median)
	rss=$(rss_kib)
	if ((size == 0)); then
		rss0=$rss
		note "empty SAD: monitor RSS $rss KiB, tick $tick ms, dump $dump ms"
		ipsecmon_monitor_stop >/dev/null
		ipsecmon_detach gw2 v2
		continue
	fi
	stats=$(best_ms 2 "$IPSECMON_BIN" stats --json --netns gw2 --pin-dir "$_IPSECMON_PIN")
	# Churn in the background, probes in the foreground.
	churn 6 $((FIRST + 0x80000)) >/tmp/churn.n &
	churn_pid=$!
	delays=()
	for i in 1 2 3 4 5; do
		sleep 0.5
		delays+=("$(probe_ms "$i")")
	done
	wait "$churn_pid" || true
	# What bpftool itself takes to find a row: not part of the delay.
	# shellcheck disable=SC2046 # the key's octets as separate words
	tool=$(best_ms 3 bpftool map lookup pinned "$(echo "$_IPSECMON_PIN"/netns-*/sa_stats)" \
		key hex $(spi_key $((PROBE + 1))))
	ops=$(cat /tmp/churn.n)
	delay=$(printf '%s\n' "${delays[@]}" | sort -n | tail -n 1)
	[[ $delay == timeout ]] || delay=$((delay > tool ? delay - tool : 0))
	longest=$(awk '{ if (length($0) > n) n = length($0) } END { print n + 0 }' "$IPSECMON_MON_OUT")
	per_sa=$(((rss - rss0) * 1024 / size))
	ROWS+=("$(printf '%7d | %9d | %7d | %7d %6s | %7d %6s | %7d KiB | %5d B | %6s ms = %s ticks (%d SAD ops in 6 s) | %6d B' \
		"$size" "$add_ms" "$dump" \
		"$stats" "$(awk -v a="$stats" -v b="$dump" 'BEGIN { printf "%.2fx", a / b }')" \
		"$tick" "$(awk -v a="$tick" -v b="$dump" 'BEGIN { printf "%.2fx", a / b }')" \
		"$rss" "$per_sa" "$delay" \
		"$(awk -v a="$delay" -v i="$INTERVAL" -v t="$tick" 'BEGIN { p = i * 1000; if (t > p) p = t; printf "%.1f", a / p }')" \
		"$ops" "$longest")")
	note "size $size done: tick $tick ms, dump $dump ms, stats $stats ms, rss $rss KiB, churn delays ${delays[*]} ms (bpftool alone $tool ms)"
	ipsecmon_monitor_stop >/dev/null
	ipsecmon_detach gw2 v2
done

echo "#      SAs | ip -batch | dump ms | stats --json ms | tick ms        | monitor RSS | RSS/SA  | churn delay, max of 5 | longest line"
for r in "${ROWS[@]}"; do echo "#  $r"; done
ok "bench-scale ran on $(uname -r)"
teardown_gateways
