#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench-wire: what watching costs the traffic, on a veth pair between
# two namespaces made here (A sends, B receives and runs the hook). Not a
# test: it prints medians and ratios, never fails on them.
#
# Per frame: trafgen (pinned to one CPU) sends COUNT frames from A; on veth
# the sender's CPU also runs B's receive path, so the time per frame is the
# whole path's, and a hook's cost is its time per frame minus that with
# nothing attached. Cases: ESP to a known SA, ESP with a random SPI per
# frame, TCP (iperf3, throughput). Every trial runs every variant in turn
# (none, bare XDP native and generic, bare TC, nft's counter, libpcap,
# ipsecmon on each receive hook), so the host's drift hits all alike.
#
# Targets (issue #11): ipsecmon's added cost <= 1.1 x the bare program's of
# the same hook + 30 ns; TCP through the default attach >= 0.97 x none.
# A last pass per hook reads the kernel's BPF statistics: the program's own
# ns per run on this path (cold caches included), apart from the hook's.
# The "known" SPI has no kernel SA here (the host has no ESP): on a kernel
# with the XDP SA lookup it is a bad SPI, decided once per 10 ms per CPU.
#
#   tests/bench/wire.sh [TRIALS] [COUNT]      default 5 trials, 500000 frames
set -uo pipefail

TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$TEST_DIR/../.." && pwd)
BIN=$REPO/build/ipsecmon-bpf
BARE_OBJ=$REPO/build/bench_pass.bpf.o
TRIALS=${1:-5}
COUNT=${2:-500000}
NS_A=ipsm-wa-$$
NS_B=ipsm-wb-$$
# Not under /sys: ip netns exec mounts a fresh sysfs, without /sys/fs/bpf.
# bpftool's loadall mounts bpffs on its directory's parent unless that is
# bpffs already: the programs go one level below our own mount.
BPFFS=/run/ipsm-wire-bpffs-$$
PIN=$BPFFS/progs
IPSM_PIN=/sys/fs/bpf/ipsm-wire-mon-$$
WORK=$(mktemp -d /tmp/ipsm-wire.XXXXXX)
CPU=${IPSM_WIRE_CPU:-1}

VARIANTS=(none xdp_bare_native xdp_bare_generic tc_bare nft_counter libpcap
	ipsecmon_xdp_native ipsecmon_xdp_generic ipsecmon_tc ipsecmon_default)

die() {
	echo "bench-wire: $*" >&2
	exit 1
}

cleanup() {
	[ -n "${PCAP_PID:-}" ] && kill "$PCAP_PID" 2>/dev/null
	ip netns exec "$NS_B" pkill -x iperf3 2>/dev/null
	"$BIN" detach --all --netns "$NS_B" --pin-dir "$IPSM_PIN" >/dev/null 2>&1
	ip netns del "$NS_A" 2>/dev/null
	ip netns del "$NS_B" 2>/dev/null
	rm -rf "$PIN"
	umount "$BPFFS" 2>/dev/null
	rmdir "$BPFFS" 2>/dev/null
	rm -rf "$IPSM_PIN" "$WORK"
}
trap cleanup EXIT

in_a() { ip netns exec "$NS_A" "$@"; }
in_b() { ip netns exec "$NS_B" "$@"; }

setup() {
	local t
	for t in trafgen iperf3 nft tcpdump bpftool tc jq; do
		command -v "$t" >/dev/null || die "missing $t (make deps)"
	done
	if [ ! -x "$BIN" ] || [ ! -f "$BARE_OBJ" ]; then
		die "build first: make all build/bench_pass.bpf.o"
	fi
	if ! ip netns add "$NS_A" || ! ip netns add "$NS_B"; then
		die "cannot make namespaces"
	fi
	ip link add va netns "$NS_A" type veth peer name vb netns "$NS_B" || die "no veth"
	in_a ip addr add 10.88.0.1/24 dev va
	in_b ip addr add 10.88.0.2/24 dev vb
	in_a ip link set dev va up
	in_b ip link set dev vb up
	in_a ip link set dev lo up
	in_b ip link set dev lo up
	mount | grep -q ' /sys/fs/bpf ' || mount -t bpf bpf /sys/fs/bpf
	if ! mkdir -p "$BPFFS" || ! mount -t bpf bpf "$BPFFS"; then
		die "cannot mount bpffs on $BPFFS"
	fi
	bpftool prog loadall "$BARE_OBJ" "$PIN" >/dev/null || die "cannot load $BARE_OBJ"
	MAC_A=$(in_a cat /sys/class/net/va/address)
	MAC_B=$(in_b cat /sys/class/net/vb/address)
	in_b iperf3 -s -D -p 5201 >/dev/null 2>&1
	trafgen_conf known "0x00, 0x00, 0x10, 0x01,"
	trafgen_conf random "drnd(4),"
}

# An ESP frame from A to B; spi is trafgen syntax for its 4 bytes.
trafgen_conf() {
	cat >"$WORK/$1.cfg" <<-EOF
		{
		  eth(da=$MAC_B, sa=$MAC_A, type=0x0800),
		  ipv4(da=10.88.0.2, sa=10.88.0.1, proto=50, ttl=64),
		  $2
		  0x00, 0x00, 0x00, 0x01,
		  fill(0x00, 64)
		}
	EOF
}

attach() {
	case $1 in
	none) ;;
	xdp_bare_native) in_b bpftool net attach xdpdrv pinned "$PIN/bench_pass" dev vb ;;
	# The least a known SA can cost: Ethernet + IPv4 + ESP, one per-CPU slot.
	xdp_ref_slot) in_b bpftool net attach xdpdrv pinned "$PIN/bench_ref_slot" dev vb ;;
	xdp_bare_generic) in_b bpftool net attach xdpgeneric pinned "$PIN/bench_pass" dev vb ;;
	tc_bare)
		in_b tc qdisc add dev vb clsact
		in_b tc filter add dev vb ingress bpf da pinned "$PIN/bench_pass_tc"
		;;
	nft_counter)
		in_b nft add table netdev ipsmw
		in_b nft add chain netdev ipsmw in "{ type filter hook ingress device vb priority 0; }"
		in_b nft add rule netdev ipsmw in meta l4proto esp counter
		;;
	libpcap)
		in_b tcpdump -i vb -n -w /dev/null esp >/dev/null 2>&1 &
		PCAP_PID=$!
		sleep 0.5
		;;
	# Each hook alone, against the bare program of that hook; the default
	# (the hooks attach picks for a veth) is measured whole, against nothing.
	ipsecmon_xdp_native) mon_attach --hooks xdp --xdp-mode native ;;
	ipsecmon_xdp_generic) mon_attach --hooks xdp --xdp-mode skb ;;
	ipsecmon_tc) mon_attach --hooks tc-ingress ;;
	ipsecmon_default)
		mon_attach
		"$BIN" status --json --netns "$NS_B" --pin-dir "$IPSM_PIN" |
			jq -r '.interfaces[0].hooks | join(" + ")' >"$WORK/default.hooks"
		;;
	esac
}

mon_attach() {
	if ! "$BIN" attach vb --netns "$NS_B" --pin-dir "$IPSM_PIN" "$@" >"$WORK/attach.log" 2>&1; then
		cat "$WORK/attach.log" >&2
		die "ipsecmon-bpf attach $* failed"
	fi
}

detach() {
	case $1 in
	xdp_bare_native | xdp_bare_generic | xdp_ref_slot) in_b ip link set dev vb xdp off 2>/dev/null
		in_b ip link set dev vb xdpgeneric off 2>/dev/null ;;
	tc_bare) in_b tc qdisc del dev vb clsact ;;
	nft_counter) in_b nft delete table netdev ipsmw ;;
	libpcap) kill "$PCAP_PID"; wait "$PCAP_PID" 2>/dev/null; PCAP_PID= ;;
	ipsecmon_*) "$BIN" detach vb --netns "$NS_B" --pin-dir "$IPSM_PIN" >/dev/null 2>&1 ;;
	esac
}

# ns per frame of COUNT frames of a trafgen config, from A on one CPU.
per_frame() {
	local t0 t1
	t0=$(date +%s%N)
	local r0 r1
	r0=$(in_b cat /sys/class/net/vb/statistics/rx_packets)
	in_a taskset -c "$CPU" trafgen -o va -i "$WORK/$1.cfg" -n "$COUNT" -P 1 -C >/dev/null 2>&1
	t1=$(date +%s%N)
	r1=$(in_b cat /sys/class/net/vb/statistics/rx_packets)
	# Per frame that arrived (a drop would otherwise look cheap).
	echo $(((t1 - t0) / (r1 > r0 ? r1 - r0 : 1)))
}

# TCP throughput A -> B, Gbit/s, past the first second (slow start).
tcp_gbps() {
	in_a iperf3 -c 10.88.0.2 -p 5201 -t 3 -O 1 -J 2>/dev/null |
		jq '.end.sum_received.bits_per_second / 1e9 * 100 | round / 100'
}

# The id, run count and run time (ns) of every BPF program, one per line.
prog_stats() {
	bpftool -j prog show | jq -r '.[] | "\(.id) \(.run_cnt // 0) \(.run_time_ns // 0)"'
}

# ns per run of the program that ran most during COUNT frames of a config,
# from the kernel's BPF statistics (on only for this pass: they cost time).
# Further arguments go to trafgen.
run_ns() {
	local before after cfg=$1
	shift
	before=$(prog_stats)
	sysctl -qw kernel.bpf_stats_enabled=1
	in_a taskset -c "$CPU" trafgen -o va -i "$WORK/$cfg.cfg" -n "$COUNT" -P 1 -C "$@" \
		>/dev/null 2>&1
	sysctl -qw kernel.bpf_stats_enabled=0
	after=$(prog_stats)
	awk 'NR == FNR { c[$1] = $2; t[$1] = $3; next }
		{ dc = $2 - c[$1]; if (dc > best) { best = dc; dt = $3 - t[$1] } }
		END { printf "%d\n", best ? dt / best : 0 }' <(echo "$before") <(echo "$after")
}

# Median of numbers on stdin; FMT %d for the shell's arithmetic.
median() {
	sort -n | awk -v fmt="${1:-%d}" '{ v[NR] = $1 }
		END { printf fmt "\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

setup
echo "# bench-wire: kernel $(uname -r), veth, $TRIALS trials x $COUNT frames, trafgen + iperf3"
for ((t = 1; t <= TRIALS; t++)); do
	for v in "${VARIANTS[@]}"; do
		attach "$v"
		# One line per trial, even when a measurement printed nothing.
		printf '%s\n' "$(per_frame known)" >>"$WORK/$v.known"
		printf '%s\n' "$(per_frame random)" >>"$WORK/$v.random"
		printf '%s\n' "$(tcp_gbps)" >>"$WORK/$v.tcp"
		detach "$v"
	done
	echo "  trial $t done" >&2
done

declare -A known random tcp
for v in "${VARIANTS[@]}"; do
	known[$v]=$(median <"$WORK/$v.known")
	random[$v]=$(median <"$WORK/$v.random")
	tcp[$v]=$(median %.2f <"$WORK/$v.tcp")
done

printf '\n%-22s %12s %12s %12s %12s %10s %9s\n' variant "esp ns/frame" "+ns" \
	"rnd-spi ns" "+ns" "tcp Gb/s" "x none"
for v in "${VARIANTS[@]}"; do
	printf '%-22s %12s %12s %12s %12s %10s %9s\n' "$v" "${known[$v]}" \
		"$((known[$v] - known[none]))" "${random[$v]}" "$((random[$v] - random[none]))" \
		"${tcp[$v]}" "$(awk -v a="${tcp[$v]}" -v b="${tcp[none]}" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')"
done

# Each ipsecmon hook against the bare program of the same hook.
echo
target() {
	local mon=$1 bare=$2 case=$3 m b limit
	declare -n arr=$case
	# Associative arrays: the keys are the values of $mon and $bare, not the words.
	# shellcheck disable=SC2004
	m=$((arr[$mon] - arr[none])) b=$((arr[$bare] - arr[none]))
	limit=$(awk -v b="$b" 'BEGIN { printf "%d", 1.1 * (b > 0 ? b : 0) + 30 }')
	printf '%-22s %-8s +%-6s <= 1.1 x %-6s + 30 = %-6s %s\n' "$mon" "$case" "$m" "$b" "$limit" \
		"$([ "$m" -le "$limit" ] && echo met || echo 'not met')"
}
for c in known random; do
	target ipsecmon_xdp_native xdp_bare_native "$c"
	target ipsecmon_xdp_generic xdp_bare_generic "$c"
	target ipsecmon_tc tc_bare "$c"
done
ratio=$(awk -v a="${tcp[ipsecmon_default]}" -v b="${tcp[none]}" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')
printf 'default attach (veth: %s): TCP %s x none, target >= 0.97: %s\n' \
	"$(cat "$WORK/default.hooks")" "$ratio" "$(awk -v r="$ratio" 'BEGIN { print (r >= 0.97) ? "met" : "not met" }')"
# What of a hook's cost is its program's own time: one more pass per hook.
echo
printf '%-22s %14s %14s\n' "program run time" "esp ns/run" "rnd-spi ns/run"
stats_was=$(sysctl -n kernel.bpf_stats_enabled)
for v in xdp_bare_native xdp_ref_slot xdp_bare_generic tc_bare ipsecmon_xdp_native \
	ipsecmon_xdp_generic ipsecmon_tc; do
	attach "$v"
	printf '%-22s %14s %14s\n' "$v" "$(run_ns known)" "$(run_ns random)"
	detach "$v"
done
# trafgen's ring sends skbs whose linear part is the Ethernet header alone,
# so TC must pull every frame; sendto() (a gap) sends linear ones, as a
# NIC's driver delivers them with the headers in place.
for v in tc_bare ipsecmon_tc; do
	attach "$v"
	printf '%-22s %14s %14s\n' "$v, linear skb" "$(run_ns known -t 1ns)" \
		"$(run_ns random -t 1ns)"
	detach "$v"
done
sysctl -qw kernel.bpf_stats_enabled="$stats_was"
