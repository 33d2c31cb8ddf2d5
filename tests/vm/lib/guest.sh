#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers sourced by tests/vm/scenarios/*.sh inside the guest (root, one of
# the Debian kernels of kernel.conf, the host's userspace read-only). They
# build two IPsec gateways as network namespaces joined by a veth pair,
# install SAs by hand with `ip xfrm` or run strongSwan, send an exact number
# of packets, read the kernel's own counters and compare them with what is
# expected.
#
#   gw1  v1  10.0.0.1  fd00::1   02:00:00:00:00:01
#   gw2  v2  10.0.0.2  fd00::2   02:00:00:00:00:02
#
# Tunnel-mode scenarios add inner networks 192.168.1.1/32 on gw1's lo and
# 192.168.2.1/32 on gw2's lo. gw2 is the side the datapath monitor (if
# built) watches on v2: it sees inbound packets only.
#
# All traffic stays between namespaces created here; nothing leaves the guest
# (the VM has no network card).

# Deliberately no `set -e` here: the scenario sets its own shell options.

GUEST_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=${IPSECMON_VM_REPO:-$(cd "$GUEST_LIB_DIR/../../.." && pwd)}
IPSECMON_BIN=${IPSECMON_BIN:-$REPO/build/ipsecmon-bpf}

GW1_V4=10.0.0.1
GW2_V4=10.0.0.2
GW1_V6=fd00::1
GW2_V6=fd00::2
GW1_MAC=02:00:00:00:00:01
GW2_MAC=02:00:00:00:00:02
GW1_NET=192.168.1.1
GW2_NET=192.168.2.1

# ---------------------------------------------------------------------------
# Assertions and scenario lifecycle

# ok, fail, check_eq NAME EXPECTED ACTUAL and finish: the shared assertions
# of all shell suites. A failure makes the scenario exit 1 at the end (the
# rest still runs, to show everything wrong).
# shellcheck source=tests/lib/assert.sh
. "$GUEST_LIB_DIR/../../lib/assert.sh"

_BG_PIDS=()

# note TEXT: an informational line that is not an assertion.
note() { printf '#    %s\n' "$*"; }

# On exit: stop the helpers, count an abort or a scenario without a single
# assertion as a failure, and end with finish's "N passed, N failed" line,
# which tests/vm/run.sh adds up.
_guest_on_exit() {
	local rc=$?
	local pid
	for pid in "${_BG_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	if ((rc != 0)); then
		fail "scenario ran to its end (see the error above)" "exit status 0" "exit status $rc"
	elif ((PASS + FAIL == 0)); then
		fail "scenario made assertions" "at least one" none
	fi
	finish && exit 0
	exit 1
}
trap _guest_on_exit EXIT
# Name the command that stopped a `set -e` scenario, to make aborts readable.
trap 'printf "error: line %s: %s (status %s)\n" "$LINENO" "$BASH_COMMAND" "$?" >&2' ERR

# bg CMD...: start a background helper that is killed when the scenario ends.
# CMD must be a program, not a shell function, so that $! is the helper
# itself (`ip netns exec` and `unshare` exec in place) and the kill reaches it.
bg() {
	"$@" &
	_BG_PIDS+=("$!")
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
# The bound is wall-clock too: on a loaded TCG host one check (a few
# processes) can take most of a second, and a count of checks alone let a
# 30 s wait run for minutes, past the scenario's timeout (CI, stop 17).
wait_for() {
	local limit=$1 i deadline
	shift
	deadline=$((SECONDS + 2 * limit + 1))
	for ((i = 0; i < limit * 10 && SECONDS < deadline; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "error: timed out after ${limit}s waiting for: $*" >&2
	return 1
}

# nsx NS CMD...: run CMD inside namespace NS.
nsx() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# ---------------------------------------------------------------------------
# Topology

# setup_gateways: fresh gw1/gw2 (deleting old ones first, so per-namespace
# counters such as /proc/net/xfrm_stat start from zero for each variant).
# Static neighbour entries on both sides: no ARP or IPv6 neighbour discovery
# runs, so the only packets on the wire are the ones a scenario sends.
setup_gateways() {
	teardown_gateways
	ip netns add gw1
	ip netns add gw2
	ip -n gw1 link add v1 address "$GW1_MAC" type veth \
		peer name v2 netns gw2 address "$GW2_MAC"
	# One `ip -batch` per namespace: each process start costs ~0.1 s under
	# TCG, and this runs once per variant.
	ip -n gw1 -batch - <<-EOF
		link set lo up
		addr add $GW1_V4/24 dev v1
		addr add $GW1_V6/64 dev v1 nodad
		link set v1 up
		neigh replace $GW2_V4 lladdr $GW2_MAC dev v1 nud permanent
		neigh replace $GW2_V6 lladdr $GW2_MAC dev v1 nud permanent
		addr add $GW1_NET/32 dev lo
		route add $GW2_NET/32 via $GW2_V4 dev v1 src $GW1_NET
	EOF
	ip -n gw2 -batch - <<-EOF
		link set lo up
		addr add $GW2_V4/24 dev v2
		addr add $GW2_V6/64 dev v2 nodad
		link set v2 up
		neigh replace $GW1_V4 lladdr $GW1_MAC dev v2 nud permanent
		neigh replace $GW1_V6 lladdr $GW1_MAC dev v2 nud permanent
		addr add $GW2_NET/32 dev lo
		route add $GW1_NET/32 via $GW1_V4 dev v2 src $GW2_NET
	EOF
}

# A router between the gateways (setup_routed): gw1 and gw2 on subnets of
# their own, mid forwarding between them (and, with --nat, masquerading
# gw1's side behind its address on gw2's).
#
#   gw1 v1 10.0.1.1 -- m1 10.0.1.254  mid  m2 10.0.2.254 -- v2 10.0.2.1 gw2
R_GW1_V4=10.0.1.1
R_GW2_V4=10.0.2.1
R_MID1_V4=10.0.1.254
R_MID2_V4=10.0.2.254
R_MID1_MAC=02:00:00:00:01:fe
R_MID2_MAC=02:00:00:00:02:fe

# setup_routed [--nat]: fresh gw1, mid, gw2 as above, static neighbours
# everywhere (no ARP on the wires), forwarding on in mid only.
setup_routed() {
	teardown_gateways
	local ns
	for ns in gw1 mid gw2; do ip netns add "$ns"; done
	ip -n gw1 link add v1 address "$GW1_MAC" type veth \
		peer name m1 netns mid address "$R_MID1_MAC"
	ip -n gw2 link add v2 address "$GW2_MAC" type veth \
		peer name m2 netns mid address "$R_MID2_MAC"
	ip -n gw1 -batch - <<-EOF
		link set lo up
		addr add $R_GW1_V4/24 dev v1
		link set v1 up
		neigh replace $R_MID1_V4 lladdr $R_MID1_MAC dev v1 nud permanent
		route add 10.0.2.0/24 via $R_MID1_V4 dev v1
	EOF
	ip -n gw2 -batch - <<-EOF
		link set lo up
		addr add $R_GW2_V4/24 dev v2
		link set v2 up
		neigh replace $R_MID2_V4 lladdr $R_MID2_MAC dev v2 nud permanent
		route add 10.0.1.0/24 via $R_MID2_V4 dev v2
	EOF
	ip -n mid -batch - <<-EOF
		link set lo up
		addr add $R_MID1_V4/24 dev m1
		addr add $R_MID2_V4/24 dev m2
		link set m1 up
		link set m2 up
		neigh replace $R_GW1_V4 lladdr $GW1_MAC dev m1 nud permanent
		neigh replace $R_GW2_V4 lladdr $GW2_MAC dev m2 nud permanent
	EOF
	nsx mid sysctl -qw net.ipv4.ip_forward=1
	# No redirects: the routes above are the only path anyway.
	nsx mid sysctl -qw net.ipv4.conf.all.send_redirects=0
	if [[ ${1:-} == --nat ]]; then
		nsx mid nft -f - <<-EOF
			table ip ipsecmon_nat {
				chain post {
					type nat hook postrouting priority srcnat; policy accept;
					oifname "m2" masquerade
				}
			}
		EOF
	fi
}

teardown_gateways() {
	local ns
	for ns in gw1 mid gw2; do
		ip netns del "$ns" 2>/dev/null || true
	done
}

# ---------------------------------------------------------------------------
# Manual SAs and policies

# key_hex SEED BYTES: a deterministic test key (hex, no 0x) of BYTES bytes.
# Distinct seeds give distinct keys; both ends derive the same key from the
# same seed, a scenario gives one end another seed to get a wrong key.
key_hex() {
	local seed=$1 bytes=$2 out="" h=2166136261 i c
	# FNV-1a of the seed, then a linear congruential sequence: pure bash,
	# because forking sha256sum per key is slow under TCG. Test keys only.
	for ((i = 0; i < ${#seed}; i++)); do
		printf -v c '%d' "'${seed:i:1}"
		h=$(((h ^ c) * 16777619 & 0xffffffff))
	done
	for ((i = 0; i < bytes; i++)); do
		h=$(((h * 1103515245 + 12345) & 0xffffffff))
		printf -v c '%02x' $(((h >> 16) & 0xff))
		out+=$c
	done
	printf '%s' "$out"
}

# sa_add NS SUITE SRC DST SPI [options]
#   SUITE: cbc-sha256   ESP, AES-128-CBC + HMAC-SHA256-128
#          gcm          ESP, rfc4106(gcm(aes)) 128-bit key, 128-bit ICV
#          null-sha256  ESP, ecb(cipher_null) + HMAC-SHA256-128 (no encryption)
#          ah-sha256    AH, HMAC-SHA256-128
#   --mode transport|tunnel  (default transport)
#   --key SEED               key seed (default "k<SPI>")
#   --encap                  ESP-in-UDP (RFC 3948), ports 4500 -> 4500
#   --replay-window N        (default 32)
#   --mark V                 only found by packets with mark V (mask 0xffffffff)
#   --if-id N                belongs to the XFRM interface with if_id N
#   --limit "WORDS"          lifetime limits, e.g. "time-soft 3 time-hard 6"
#   --oseq N                 the output sequence number to start from
#   --esn                    extended (64-bit) sequence numbers
sa_add() {
	local ns=$1 suite=$2 src=$3 dst=$4 spi=$5
	shift 5
	local mode=transport seed="k$spi" encap=() window=32 extra=() reqid=$((spi))
	while (($#)); do
		case $1 in
		--mode) mode=$2 && shift 2 ;;
		--reqid) reqid=$(($2)) && shift 2 ;;
		--key) seed=$2 && shift 2 ;;
		--encap) encap=(encap espinudp 4500 4500 0.0.0.0) && shift ;;
		--replay-window) window=$2 && shift 2 ;;
		--mark) extra+=(mark "$2" mask 0xffffffff) && shift 2 ;;
		--if-id) extra+=(if_id "$2") && shift 2 ;;
		--oseq) extra+=(replay-oseq "$2") && shift 2 ;;
		--esn) extra+=(flag esn) && shift ;;
		--limit)
			# ip wants "limit" before each NAME VALUE pair.
			local w
			for w in $2; do
				if [[ $w == [0-9]* ]]; then extra+=("$w"); else extra+=(limit "$w"); fi
			done
			shift 2 ;;
		*) echo "sa_add: unknown option $1" >&2 && return 2 ;;
		esac
	done
	local proto=esp algs
	case $suite in
	cbc-sha256)
		algs=(enc 'cbc(aes)' "0x$(key_hex "$seed-enc" 16)"
			auth-trunc 'hmac(sha256)' "0x$(key_hex "$seed-auth" 32)" 128) ;;
	gcm)
		# 16 key bytes + 4 salt bytes
		algs=(aead 'rfc4106(gcm(aes))' "0x$(key_hex "$seed-aead" 20)" 128) ;;
	null-sha256)
		algs=(enc 'ecb(cipher_null)' ''
			auth-trunc 'hmac(sha256)' "0x$(key_hex "$seed-auth" 32)" 128) ;;
	ah-sha256)
		proto=ah
		algs=(auth-trunc 'hmac(sha256)' "0x$(key_hex "$seed-auth" 32)" 128) ;;
	*) echo "sa_add: unknown suite $suite" >&2 && return 2 ;;
	esac
	ip -n "$ns" xfrm state add src "$src" dst "$dst" proto "$proto" spi "$spi" \
		reqid "$reqid" mode "$mode" replay-window "$window" "${algs[@]}" "${encap[@]}" \
		"${extra[@]}"
}

# sp_add NS DIR SRC DST PROTO SPI MODE [POLICY_ARGS...]: policy for traffic
# SRC -> DST (hosts, or the inner networks in tunnel mode) using the SA with
# reqid SPI. POLICY_ARGS (e.g. `mark 0x5 mask 0xffffffff`, `if_id 42`) go
# before the template.
sp_add() {
	local ns=$1 dir=$2 src=$3 dst=$4 proto=$5 spi=$6 mode=$7
	shift 7
	local sel_src=$src sel_dst=$dst tsrc tdst
	if [[ $src == *:* ]]; then
		tsrc=$src tdst=$dst
	elif [[ $mode == tunnel ]]; then
		# The outer endpoints follow from which inner network is which.
		if [[ $src == "$GW1_NET" ]]; then tsrc=$GW1_V4 tdst=$GW2_V4; else tsrc=$GW2_V4 tdst=$GW1_V4; fi
	else
		tsrc=$src tdst=$dst
	fi
	# priority 100 leaves room for the bypass policies of encap_bypass.
	ip -n "$ns" xfrm policy add src "$sel_src" dst "$sel_dst" dir "$dir" priority 100 "$@" \
		tmpl src "$tsrc" dst "$tdst" proto "$proto" reqid "$((spi))" mode "$mode"
}

# encap_bypass NS SRC DST: let UDP 4500 between SRC and DST through in
# cleartext, ahead of the ESP policies. The UDP layer checks the inbound
# policy *before* it hands a datagram to the ESP-in-UDP decapsulation, so
# without this an all-protocol transport policy rejects the encapsulated ESP
# itself (XfrmInTmplMismatch). IKE daemons get the same effect with
# per-socket bypass policies.
encap_bypass() {
	local ns=$1 src=$2 dst=$3
	ip -n "$ns" -batch - <<-EOF
		xfrm policy add src $src dst $dst proto udp dport 4500 dir out priority 10
		xfrm policy add src $dst dst $src proto udp sport 4500 dir in priority 10
	EOF
}

# ipsec_pair SUITE SPI12 SPI21 [--mode M] [--v6] [--encap] [--gw2-in-key SEED]
#                               [--replay-window N] [--limit "WORDS"]
#                               [--oseq N] [--esn]
# Both directions between gw1 and gw2: SA SPI12 carries gw1 -> gw2, SA SPI21
# carries gw2 -> gw1, each installed on both gateways, plus out/in policies.
# --gw2-in-key gives gw2's copy of SA SPI12 another key (a key mismatch).
ipsec_pair() {
	local suite=$1 spi12=$2 spi21=$3
	shift 3
	local mode=transport v6=0 saopts=() gw2in_key="" use_encap=0
	while (($#)); do
		case $1 in
		--mode) mode=$2 && saopts+=(--mode "$2") && shift 2 ;;
		--v6) v6=1 && shift ;;
		--encap) use_encap=1 && saopts+=(--encap) && shift ;;
		--replay-window) saopts+=(--replay-window "$2") && shift 2 ;;
		--limit) saopts+=(--limit "$2") && shift 2 ;;
		--oseq) saopts+=(--oseq "$2") && shift 2 ;;
		--esn) saopts+=(--esn) && shift ;;
		--gw2-in-key) gw2in_key=$2 && shift 2 ;;
		*) echo "ipsec_pair: unknown option $1" >&2 && return 2 ;;
		esac
	done
	local a1=$GW1_V4 a2=$GW2_V4 s1 s2 proto=esp
	((v6)) && a1=$GW1_V6 a2=$GW2_V6
	[[ $suite == ah-* ]] && proto=ah
	if [[ $mode == tunnel ]]; then s1=$GW1_NET s2=$GW2_NET; else s1=$a1 s2=$a2; fi

	sa_add gw1 "$suite" "$a1" "$a2" "$spi12" "${saopts[@]}"
	sa_add gw1 "$suite" "$a2" "$a1" "$spi21" "${saopts[@]}"
	if [[ -n $gw2in_key ]]; then
		sa_add gw2 "$suite" "$a1" "$a2" "$spi12" "${saopts[@]}" --key "$gw2in_key"
	else
		sa_add gw2 "$suite" "$a1" "$a2" "$spi12" "${saopts[@]}"
	fi
	sa_add gw2 "$suite" "$a2" "$a1" "$spi21" "${saopts[@]}"

	sp_add gw1 out "$s1" "$s2" "$proto" "$spi12" "$mode"
	sp_add gw1 in "$s2" "$s1" "$proto" "$spi21" "$mode"
	sp_add gw2 out "$s2" "$s1" "$proto" "$spi21" "$mode"
	sp_add gw2 in "$s1" "$s2" "$proto" "$spi12" "$mode"
	if ((use_encap)); then
		encap_bypass gw1 "$a1" "$a2"
		encap_bypass gw2 "$a2" "$a1"
	fi
}

# ipsec_flush: remove every SA and policy from both gateways.
ipsec_flush() {
	local ns
	for ns in gw1 gw2; do
		ip -n "$ns" xfrm state flush
		ip -n "$ns" xfrm policy flush
	done
}

# sa_del NS SRC DST PROTO SPI [mark V mask M]: a marked SA is only found
# with its mark.
sa_del() {
	ip -n "$1" xfrm state delete src "$2" dst "$3" proto "$4" spi "$5" "${@:6}"
}

# ---------------------------------------------------------------------------
# Kernel counters

# xfrm_stat NS NAME: one counter of /proc/net/xfrm_stat (per namespace).
xfrm_stat() {
	nsx "$1" cat /proc/net/xfrm_stat | awk -v n="$2" '$1 == n { print $2; f = 1 } END { if (!f) exit 1 }'
}

# xfrm_stat_save NS FILE: remember all /proc/net/xfrm_stat counters of NS.
xfrm_stat_save() { nsx "$1" cat /proc/net/xfrm_stat >"$2"; }

# xfrm_errors NS [FILE]: the /proc/net/xfrm_stat counters that are not zero
# (or that moved since xfrm_stat_save wrote FILE), as "Name=value ...", or
# "none". Every counter in that file is an error counter.
xfrm_errors() {
	local base=${2:-/dev/null} out
	out=$(nsx "$1" cat /proc/net/xfrm_stat | awk -v base="$base" '
		FILENAME == base { b[$1] = $2; next }
		$2 - b[$1] != 0 { printf "%s%s=%s", s, $1, $2 - b[$1]; s = " " }' "$base" -)
	printf '%s\n' "${out:-none}"
}

# sa_stat NS PROTO SPI FIELD: a per-SA counter from `ip -s xfrm state`.
#   FIELD: packets | bytes  (lifetime current)
#          replay | replay_window | integrity_failed  (stats)
# Prints "absent" when no such SA exists. Keys are never printed.
sa_stat() {
	local ns=$1 proto=$2 spi=$3 field=$4
	ip -n "$ns" -s xfrm state list proto "$proto" spi "$spi" | awk -v f="$field" '
		/lifetime current:/ { cur = 1; next }
		cur { gsub(/\((bytes|packets)\),?/, " "); bytes = $1; packets = $2; cur = 0 }
		/^[ \t]*stats:/ { st = 1; next }
		st { for (i = 1; i < NF; i++) s[$i] = $(i + 1); st = 0; found = 1 }
		END {
			if (!found) { print "absent"; exit }
			if (f == "packets") print packets
			else if (f == "bytes") print bytes
			else if (f == "replay") print s["replay"]
			else if (f == "replay_window") print s["replay-window"]
			else if (f == "integrity_failed") print s["failed"]
			else { print "unknown field " f; exit 1 }
		}'
}

# spis NS PROTO: sorted SPIs of all SAs of PROTO in NS, space-separated.
spis() {
	ip -n "$1" xfrm state list proto "$2" | awk '$1 == "proto" { for (i = 1; i < NF; i++) if ($i == "spi") print $(i + 1) }' |
		sed 's/(.*//' | sort | tr '\n' ' ' | sed 's/ $//'
}

# ---------------------------------------------------------------------------
# Traffic (exact counts)

# count_words STRING: number of space-separated words.
count_words() { wc -w <<<"$1"; }

# both_have_two_new OLD: true when gw1 and gw2 hold exactly two ESP SAs,
# the same two, none of them in OLD (a CHILD_SA rekey has completed).
both_have_two_new() {
	local a b s
	a=$(spis gw1 esp)
	b=$(spis gw2 esp)
	[[ $a == "$b" && $(count_words "$a") == 2 ]] || return 1
	for s in $a; do
		[[ " $1 " != *" $s "* ]] || return 1
	done
}

# ping_n NS DST COUNT [ping args]: COUNT echo requests 10 ms apart; prints
# the number of replies received.
ping_n() {
	local ns=$1 dst=$2 count=$3
	shift 3
	local out
	out=$(nsx "$ns" ping -n -q -c "$count" -i 0.01 -W 2 "$@" "$dst" 2>&1 || true)
	awk '/packets transmitted/ { for (i = 1; i < NF; i++) if ($(i + 1) ~ /^received/) print $i }' <<<"$out"
}

# udp_sink NS PORT: a UDP receiver in NS, so that datagrams are consumed and
# no ICMP "port unreachable" goes back (those are rate-limited, which would
# make the reverse-direction counts inexact).
udp_sink() {
	bg ip netns exec "$1" socat -u "UDP-RECV:$2,reuseaddr" /dev/null
	wait_for 5 _udp_listening "$1" "$2"
}
_udp_listening() { ip netns exec "$1" ss -Hlun "sport = :$2" | grep -q .; }

# espinudp_socket NS: hold a UDP socket on port 4500 marked
# UDP_ENCAP_ESPINUDP (IPPROTO_UDP=17, UDP_ENCAP=100, value 2), as an IKE
# daemon does: the kernel decapsulates ESP-in-UDP only on such a socket.
espinudp_socket() {
	bg ip netns exec "$1" /usr/bin/python3 -I -S -c '
import signal, socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_UDP, 100, 2)
s.bind(("0.0.0.0", 4500))
signal.pause()'
	wait_for 5 _udp_listening "$1" 4500
}

# udp_send NS DST PORT COUNT: exactly COUNT one-byte UDP datagrams (one per
# socket, bash's /dev/udp), one way only.
udp_send() {
	local ns=$1 dst=$2 port=$3 count=$4
	# shellcheck disable=SC2016 # expanded by the inner bash
	nsx "$ns" bash -c 'for ((i = 0; i < $3; i++)); do printf x >"/dev/udp/$1/$2"; done' \
		_ "$dst" "$port" "$count"
}

# settle: let softirq/async crypto finish before counters are read.
settle() { sleep 0.3; }

# await_eq EXPECTED CMD...: wait (up to 10 s) until CMD prints EXPECTED, for
# one-way traffic whose receive side finishes asynchronously (cryptd under a
# loaded TCG host). Returns 0 either way; the assertion that follows reports.
await_eq() {
	local want=$1 i
	shift
	for ((i = 0; i < 100; i++)); do
		[[ $("$@" 2>/dev/null) == "$want" ]] && break
		sleep 0.1
	done
	settle
}

# ---------------------------------------------------------------------------
# Datapath monitor hook (the ipsecmon-bpf binary, when it has been built)

_IPSECMON_BROKEN=0
have_ipsecmon() { [[ -x $IPSECMON_BIN ]] && ((!_IPSECMON_BROKEN)); }

# kernel_sa_lookup: "kernel" when the running kernel offers the XDP SA lookup
# (its BTF has the bpf_xdp_get_xfrm_state kfunc, 6.8+), else "map". Asked of
# the kernel itself, so no expectation hangs on a version number.
kernel_sa_lookup() {
	if grep -qaF bpf_xdp_get_xfrm_state /sys/kernel/btf/vmlinux; then
		echo kernel
	else
		echo map
	fi
}

# What the scenarios expect of correlation, set by ipsecmon_attach from the
# SA lookup the attached XDP program reports:
#   IPSECMON_SA_LOOKUP     kernel (the kfunc) or map (the known-SA map)
#   IPSECMON_CORR          ipsecmon.correlation while `run` is up:
#                          kernel, or monitor (the map is only in sync then)
#   IPSECMON_CORR_IDLE     the same without a monitor: kernel or inactive
#   IPSECMON_BAD_SPI_IDLE  ipsecmon.bad_spi_detection without a monitor:
#                          active (the kfunc needs none) or inactive
IPSECMON_SA_LOOKUP="" IPSECMON_CORR="" IPSECMON_CORR_IDLE="" IPSECMON_BAD_SPI_IDLE=""

_IPSECMON_PIN=""
# ipsecmon_attach NS IFACE...: attach with a pin folder of its own, so a new
# attach starts from zero (several interfaces: one attach, one pin folder,
# the first interface's SA lookup read). A failure is an assertion failure,
# and the scenario carries on without the datapath checks so the
# kernel-counter checks still report. Unless the caller chooses hooks, XDP
# receives: these interfaces are veths, where a plain attach would pick TC
# ingress (tc_only_then_run.sh checks that), and the scenarios are about
# the kernel's SA lookup that only XDP has, as on a gateway's NIC.
ipsecmon_attach() {
	local ns=$1 iface=$2 rc=0 got
	shift
	if [[ " $* " != *" --hooks "* && " $* " != *" --xdp-mode "* ]]; then
		set -- "$@" --hooks xdp,tc-egress
	fi
	_IPSECMON_PIN=/sys/fs/bpf/ipsecmon-vm-$ns-$iface-$RANDOM$RANDOM
	"$IPSECMON_BIN" attach "$@" --netns "$ns" --pin-dir "$_IPSECMON_PIN" || rc=$?
	check_eq "ipsecmon attach $* --netns $ns: exit status" 0 "$rc"
	if ((rc != 0)); then
		_IPSECMON_BROKEN=1
		# Show why (e.g. the verifier's complaint on an older kernel).
		echo "--- ipsecmon-bpf -v attach, last lines:"
		"$IPSECMON_BIN" attach "$@" --netns "$ns" --pin-dir "$_IPSECMON_PIN" -v 2>&1 | tail -n 40 || true
		echo "---"
		return 0
	fi
	got=$(ipsecmon_q "$ns" "[([.interfaces[] | select(.name == \"$iface\")][0].xdp_sa_lookup),
		.ipsecmon.correlation, .ipsecmon.bad_spi_detection] | join(\" \")")
	IPSECMON_SA_LOOKUP=${got%% *}
	# The kfunc path must be taken wherever the kernel has it: otherwise
	# every expectation below would quietly follow the weaker mode.
	check_eq "ipsecmon $iface XDP SA lookup (kernel where the BTF has the kfunc)" \
		"$(kernel_sa_lookup)" "$IPSECMON_SA_LOOKUP"
	if [[ $IPSECMON_SA_LOOKUP == kernel ]]; then
		IPSECMON_CORR=kernel IPSECMON_CORR_IDLE=kernel IPSECMON_BAD_SPI_IDLE=active
	else
		IPSECMON_CORR=monitor IPSECMON_CORR_IDLE=inactive IPSECMON_BAD_SPI_IDLE=inactive
	fi
	note "XDP SA lookup: $IPSECMON_SA_LOOKUP; correlation $IPSECMON_CORR with run, $IPSECMON_CORR_IDLE without"
	check_eq "ipsecmon correlation, bad-SPI detection before run" \
		"$IPSECMON_SA_LOOKUP $IPSECMON_CORR_IDLE $IPSECMON_BAD_SPI_IDLE" "$got"
}

# ipsecmon_rx NS CLASS: received packets of CLASS (esp, ah, esp_in_udp, ike,
# nat_keepalive, other) since ipsecmon_attach.
ipsecmon_rx() {
	local ns=$1 class=$2
	"$IPSECMON_BIN" stats --json --netns "$ns" --pin-dir "$_IPSECMON_PIN" |
		jq -r --arg c "$class" '.traffic.rx[$c].packets'
}

# ipsecmon_detach NS IFACE: stop the monitor if one runs, then detach.
ipsecmon_detach() {
	ipsecmon_monitor_stop
	"$IPSECMON_BIN" detach "$2" --netns "$1" --pin-dir "$_IPSECMON_PIN" || true
}

# ipsecmon_q NS JQ_FILTER: a value from `stats --json` (strings raw, arrays
# and objects on one line).
ipsecmon_q() {
	"$IPSECMON_BIN" stats --json --netns "$1" --pin-dir "$_IPSECMON_PIN" | jq -rc "$2"
}

# ipsecmon_sa NS SPI DIR JQ_FILTER: JQ_FILTER (e.g. .packets or
# [.known, .mode]) applied to the sas[] row for SPI (0x1001 or 0x00001001)
# in DIR (rx/tx); "absent" without such a row.
ipsecmon_sa() {
	local spi
	printf -v spi '0x%08x' "$2"
	ipsecmon_q "$1" "[.sas[] | select(.spi == \"$spi\" and .dir == \"$3\")][0]
		| if . == null then \"absent\" else ($4) end"
}

_IPSECMON_MON_PID=""
IPSECMON_MON_OUT=/tmp/ipsecmon-run.jsonl
IPSECMON_MON_INTERVAL=${IPSECMON_MON_INTERVAL:-0.5}
IPSECMON_MON_RC=""
# ipsecmon_monitor NS IFACE... [--OPTION=VALUE...] [NAME=VALUE...]: `run`
# (the monitor) in the background on the attached interfaces, every
# $IPSECMON_MON_INTERVAL s, JSON lines in $IPSECMON_MON_OUT (its stderr
# beside it), with the options given (e.g. --learned-idle=3) and the
# NAME=VALUE pairs in its environment (e.g. IPSECMON_TEST_CRASH=fold-noted).
# Where the kernel has no XDP SA lookup (map), this is what makes bad-SPI
# detection live. Waits for its first snapshot.
ipsecmon_monitor() {
	local ns=$1 arg ifaces=() envs=()
	shift
	for arg; do
		if [[ $arg == --* ]]; then
			ifaces+=("$arg")
		elif [[ $arg == *=* ]]; then
			envs+=("$arg")
		else
			ifaces+=("$arg")
		fi
	done
	# env execs the monitor in place: $! is the monitor itself.
	env "${envs[@]}" "$IPSECMON_BIN" run "${ifaces[@]}" --netns "$ns" \
		--pin-dir "$_IPSECMON_PIN" --interval "$IPSECMON_MON_INTERVAL" \
		>"$IPSECMON_MON_OUT" 2>"$IPSECMON_MON_OUT.err" &
	_IPSECMON_MON_PID=$!
	_BG_PIDS+=("$_IPSECMON_MON_PID")
	wait_for 60 grep -q '"interfaces"' "$IPSECMON_MON_OUT"
}

# ipsecmon_monitor_stop: SIGTERM, and the exit status must be 0.
# A monitor that does not end within 30 s is a failure, not a hang of the
# scenario: where it is stuck goes to the output, then it is killed.
ipsecmon_monitor_stop() {
	local rc=0 pid=$_IPSECMON_MON_PID i
	[[ -n $pid ]] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 300; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		note "monitor $pid still running 30 s after SIGTERM: state $(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null), wchan $(cat "/proc/$pid/wchan" 2>/dev/null), syscall $(cat "/proc/$pid/syscall" 2>/dev/null)"
		sed 's/^/#    stack: /' "/proc/$pid/stack" 2>/dev/null || true
		tail -n 5 "$IPSECMON_MON_OUT.err" | sed 's/^/#    stderr: /'
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" || true
		rc=running
	else
		wait "$pid" || rc=$?
	fi
	_IPSECMON_MON_PID=""
	check_eq "ipsecmon run: exit status after SIGTERM" 0 "$rc"
}

# ipsecmon_monitor_reap SECONDS: wait up to SECONDS for the monitor to end
# by itself (a crash point) and leave its exit status in IPSECMON_MON_RC
# (137 for SIGKILL); one still running then is killed and reported as
# "running". Not in $(...): only this shell can wait for its child.
ipsecmon_monitor_reap() {
	local limit=$1 i rc=0
	IPSECMON_MON_RC=""
	[[ -n $_IPSECMON_MON_PID ]] || return 0
	for ((i = 0; i < limit * 10; i++)); do
		kill -0 "$_IPSECMON_MON_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$_IPSECMON_MON_PID" 2>/dev/null; then
		kill -KILL "$_IPSECMON_MON_PID" 2>/dev/null || true
		wait "$_IPSECMON_MON_PID" || true
		IPSECMON_MON_RC=running
	else
		wait "$_IPSECMON_MON_PID" || rc=$?
		# shellcheck disable=SC2034 # read by the scenarios
		IPSECMON_MON_RC=$rc
	fi
	_IPSECMON_MON_PID=""
}

# ipsecmon_monitor_kill: SIGKILL the monitor now (a crash from outside);
# its exit status goes to IPSECMON_MON_RC.
ipsecmon_monitor_kill() {
	[[ -n $_IPSECMON_MON_PID ]] || return 0
	kill -KILL "$_IPSECMON_MON_PID" 2>/dev/null || true
	ipsecmon_monitor_reap 10
}

# ipsecmon_monitor_sync: wait until the monitor wrote a snapshot after now,
# so it has handled the events that came before.
ipsecmon_monitor_sync() {
	local n
	n=$(_ipsecmon_snapshots)
	wait_for 20 _ipsecmon_snapshots_above "$((n + 1))"
}
_ipsecmon_snapshots() { grep -c '"interfaces"' "$IPSECMON_MON_OUT" || true; }
_ipsecmon_snapshots_above() { (($(_ipsecmon_snapshots) > $1)); }

# ipsecmon_monotonic [FILE...]: 1 when no IPSECMON total in the monitor's
# snapshots ever went down from one line to the next (the gauges excepted),
# across the FILEs in order (several runs of the monitor), by default
# $IPSECMON_MON_OUT; else the pairs of totals that went down.
ipsecmon_monotonic() {
	(($#)) || set -- "$IPSECMON_MON_OUT"
	jq -s '[.[] | select(.interfaces) | .ipsecmon | del(.correlation,
		.bad_spi_detection, .active_sas, .active_tunnels, .pending_key_operations,
		.offloaded_sas, .tunnels_down, .tunnels_one_way)]
		| [range(1; length) as $i | .[$i] as $b | .[$i - 1] | to_entries[]
		   | select(.value != null and $b[.key] != null and $b[.key] < .value)]
		| if length == 0 then 1 else tostring end' "$@"
}

# ipsecmon_metrics NS ADDR:PORT: what `run --prometheus` serves in NS.
ipsecmon_metrics() {
	nsx "$1" /usr/bin/python3 -I -S -c '
import sys, urllib.request
print(urllib.request.urlopen("http://" + sys.argv[1] + "/metrics", timeout=5).read().decode(), end="")' "$2"
}

# watch_start NS ARGS...: watch's live window in an 80x24 tmux session;
# watch_keys KEYS...; watch_wait REGEX [SECONDS]: until the window shows a
# line matching REGEX, the window in /tmp/pane either way; watch_stop.
watch_start() {
	local ns=$1
	shift
	# The guest's PID 1 environment has no SHELL or TERM for tmux to go by.
	SHELL=/bin/bash TERM=xterm tmux -L ipsm-watch new-session -d -s w -x 80 -y 24 \
		"$IPSECMON_BIN watch --netns $ns --pin-dir $_IPSECMON_PIN $*"
}
watch_keys() { tmux -L ipsm-watch send-keys -t w "$@"; }
_watch_shows() {
	tmux -L ipsm-watch capture-pane -p -t w >/tmp/pane
	grep -qE "$1" /tmp/pane
}
watch_wait() { wait_for "${2:-20}" _watch_shows "$1" || true; }
watch_stop() { tmux -L ipsm-watch kill-server 2>/dev/null || true; }

# ---------------------------------------------------------------------------
# strongSwan (one charon per gateway namespace)

SS_DIR=/tmp/ipsecmon-ss

# charon_start NS SWANCTL_CONF_TEXT [CHARON_SETTINGS]: a charon in NS with its
# own config, private /run (pid file, stroke socket) and VICI socket under
# /tmp (a unix socket cannot be created on the 9p work share).
# CHARON_SETTINGS are more lines of strongswan.conf's charon section (e.g.
# `keep_alive = 2s`).
charon_start() {
	local ns=$1 conf=$2 settings=${3:-} d=$SS_DIR/$1
	mkdir -p "$d/swanctl"
	: >"$d/swanctl.err"
	printf '%s\n' "$conf" >"$d/swanctl/swanctl.conf"
	# Only the plugins needed for IKEv2 PSK with kernel ESP: no bypass-lan
	# (it would install pass policies for the veth subnet), no updown or
	# resolve (they touch the read-only host system).
	cat >"$d/strongswan.conf" <<EOF
charon {
	load_modular = no
	load = random nonce aes sha1 sha2 hmac kdf gmp pem pkcs1 pubkey x509 kernel-netlink socket-default vici counters
	install_routes = no
	install_virtual_ip = no
	retransmit_timeout = 2.0
	$settings
	plugins {
		vici {
			socket = unix://$d/vici.sock
		}
	}
	filelog {
		charon {
			path = $d/charon.log
			time_format = %H:%M:%S
			default = 1
			ike = 2
			knl = 2
		}
	}
}
swanctl {
	socket = unix://$d/vici.sock
}
EOF
	# shellcheck disable=SC2016 # expanded by the inner bash
	bg ip netns exec "$ns" unshare -m bash -c '
		mount -t tmpfs tmpfs /run
		mount --bind "$1/swanctl" /etc/swanctl
		export STRONGSWAN_CONF=$1/strongswan.conf
		exec /usr/lib/ipsec/charon >"$1/charon.out" 2>&1' _ "$d"
	if ! wait_for 15 test -S "$d/vici.sock" || ! wait_for 15 swanctl_ns "$ns" --stats; then
		sed "s/^/[$ns charon] /" "$d/charon.out"
		charon_log "$ns"
		return 1
	fi
	swanctl_ns "$ns" --load-all --file "$d/swanctl/swanctl.conf" >>"$d/swanctl.out"
}

# swanctl_psk_conf LOCAL_ID LOCAL_ADDR REMOTE_ID REMOTE_ADDRS LOCAL_TS REMOTE_TS
# [OPTION...]: swanctl.conf for an IKEv2 PSK tunnel between gw1 and gw2
# with one CHILD_SA "net" between the traffic selectors (e.g. 10.0.0.1/32);
# each OPTION (e.g. "encap = yes") is one more line of the connection.
# MOBIKE off keeps IKE on UDP 500 (no NAT here, so no move to 4500); the
# modp groups are what the gmp plugin offers (no curve25519 plugin in
# Debian's strongswan-charon). SWAN_PROPOSALS replaces the IKE proposals
# (default aes128-sha256-modp2048).
swanctl_psk_conf() {
	local o lines=""
	for o in "${@:7}"; do lines+=$'\n'"$o"; done
	cat <<-EOF
		connections {
			gw {
				version = 2
				mobike = no$lines
				local_addrs = $2
				remote_addrs = $4
				proposals = ${SWAN_PROPOSALS:-aes128-sha256-modp2048}
				local {
					auth = psk
					id = $1
				}
				remote {
					auth = psk
					id = $3
				}
				children {
					net {
						mode = tunnel
						local_ts = $5
						remote_ts = $6
						esp_proposals = aes128-sha256
						start_action = none
					}
				}
			}
		}
		secrets {
			ike-gw {
				id-1 = gw1
				id-2 = gw2
				secret = "ipsecmon-vm-test-psk"
			}
		}
	EOF
}

# swanctl_ns NS ARGS...: swanctl against NS's charon. Its stderr (plugin
# load chatter, scans of the empty credential folders) goes to a log file.
swanctl_ns() {
	local ns=$1
	shift
	nsx "$ns" swanctl "$@" --uri "unix://$SS_DIR/$ns/vici.sock" 2>>"$SS_DIR/$ns/swanctl.err"
}

# ike_counter NS NAME|in: one counter of charon's counters plugin
# (`swanctl --counters`, e.g. child-rekey), or "in" for the number of IKE
# messages that charon received (all *-in-req/resp, plus invalid ones).
ike_counter() {
	swanctl_ns "$1" --counters | awk -v want="$2" '
		$2 != ":" { next }
		want == "in" && ($1 ~ /-in-(req|resp)$/ || $1 ~ /^invalid/) { n += $3 }
		$1 == want { n = $3 }
		END { print n + 0 }'
}

# charon_log NS: print that charon's log and swanctl's errors (for failure
# diagnostics).
charon_log() {
	sed "s/^/[$1 charon] /" "$SS_DIR/$1/charon.log" 2>/dev/null || true
	grep -v "plugin '.*': failed to load\|opening directory" "$SS_DIR/$1/swanctl.err" |
		sed "s/^/[$1 swanctl] /" || true
}
