#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Integration test of the Prometheus endpoint (make test-prom): the monitor
# (run --prometheus) in throwaway namespace B serves /metrics; after an exact
# mix of crafted frames from A, the scraped text passes promtool's checks,
# carries the exact numbers send_mix.py expects, and a real Prometheus server
# scraping it every second stores the same numbers.
#
# --netns B makes the monitor enter B first, so its HTTP socket is on B's
# loopback: curl and Prometheus run inside B too (ip netns exec B ...).
# Nothing listens outside the test namespaces.
#
# Output: "ok NAME" or "FAIL NAME: expected X got Y" per check, then
# "N passed, N failed". Exit 1 on any failure. Needs root.
set -euo pipefail

TEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/netns.sh
source "$TEST_DIR/../lib/netns.sh"
# shellcheck source=tests/lib/assert.sh
source "$TEST_DIR/../lib/assert.sh"

WORK=$(mktemp -d /tmp/ipsm-prom.XXXXXX)
MIX=(--count 6 --skip 3 --replay 2 --plain 2)
MON_PID=
PROM_PID=
# How long a real Prometheus may take to start and scrape (seconds).
PROM_TIMEOUT=30

# Stop what we started, by its PID, before the namespaces go.
stop_pid() {
	local pid=$1
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup_all() {
	stop_pid "$PROM_PID"
	PROM_PID=
	stop_pid "$MON_PID"
	MON_PID=
	ipsm_netns_cleanup
	rm -rf "$WORK"
}

preflight() {
	ipsm_netns_preflight ip ss jq curl taskset promtool prometheus "$IPSM_PYTHON"
	if ! "$IPSM_BIN" run --help 2>&1 | grep -q -- --prometheus; then
		bail preflight "run --prometheus" "not in run --help"
	fi
}

# A TCP port nobody uses in namespace $1 (the kernel's pick for port 0).
free_port() {
	ip netns exec "$1" "$IPSM_PYTHON" -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

in_b() {
	ip netns exec "$NS_B" "$@"
}

scrape() {
	in_b curl -s --max-time 5 "http://127.0.0.1:$PORT/metrics"
}

# metric_value FILE SERIES: the value of one exact series line, "none" if absent.
metric_value() {
	awk -v s="$2" 'index($0, s " ") == 1 { print substr($0, length(s) + 2); f = 1 }
		END { if (!f) print "none" }' "$1"
}

# The value of a series whose labels are given in any order by a PromQL selector,
# from Prometheus' HTTP API; "none" when it has no such series yet.
prom_query() {
	in_b curl -s --max-time 5 -G --data-urlencode "query=$1" \
		"http://127.0.0.1:$PORT2/api/v1/query" |
		jq -r '.data.result[0].value[1] // "none"' 2>/dev/null || echo none
}

# The traffic series carry interface="vb" (the names the monitor covers).
traffic_series() {
	echo "ipsecmon_traffic_$1_total{interface=\"vb\",direction=\"$2\",class=\"$3\",family=\"$4\"}"
}

start_monitor() {
	"$IPSM_BIN" run vb --netns "$NS_B" --interval 1 --prometheus "127.0.0.1:$PORT" \
		>"$WORK/run.out" 2>"$WORK/run.err" &
	MON_PID=$!
	# Up when /metrics answers 200: the first snapshot is published.
	local code=000
	for _ in $(seq 100); do
		code=$(in_b curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
			"http://127.0.0.1:$PORT/metrics" || true)
		[ "$code" == 200 ] && break
		kill -0 "$MON_PID" 2>/dev/null || break
		sleep 0.1
	done
	check_eq "monitor serves /metrics" 200 "$code"
	if [ "$code" != 200 ]; then
		echo "run stderr: $(head -c 500 "$WORK/run.err")"
		finish || exit 1
	fi
}

# Loopback only, and in B only: nothing of ours listens in the host's namespace.
test_listen() {
	check_eq "listens on 127.0.0.1:$PORT only" "127.0.0.1:$PORT" \
		"$(in_b ss -ltnH "sport = :$PORT" | awk '{ print $4 }' | sort | tr '\n' ' ' | sed 's/ $//')"
	check_eq "nothing on :$PORT in the host namespace" "" \
		"$(ss -ltnH "sport = :$PORT" | awk '{ print $4 }' | grep -x "127.0.0.1:$PORT" || true)"
}

test_http() {
	local url="http://127.0.0.1:$PORT"
	check_eq "GET /nope is 404" 404 \
		"$(in_b curl -s -o /dev/null -w '%{http_code}' "$url/nope" || true)"
	check_eq "POST /metrics is 405" 405 \
		"$(in_b curl -s -o /dev/null -w '%{http_code}' -X POST "$url/metrics" || true)"
	check_eq "HEAD /metrics is 200" 200 \
		"$(in_b curl -s -o /dev/null -w '%{http_code}' -I "$url/metrics" || true)"
	check_eq "content type" "text/plain; version=0.0.4; charset=utf-8" \
		"$(in_b curl -s -o /dev/null -w '%{content_type}' "$url/metrics" || true)"
}

# Wait until the monitor's next snapshot has the whole mix (1 s interval).
wait_metrics() {
	local want=$1 series got=none
	series=$(traffic_series packets rx esp ipv4)
	for _ in $(seq 100); do
		scrape >"$WORK/metrics.txt" 2>/dev/null || true
		got=$(metric_value "$WORK/metrics.txt" "$series")
		[ "$got" == "$want" ] && break
		sleep 0.1
	done
	# Past the next tick, so the text holds everything counted with it.
	sleep 1.2
	scrape >"$WORK/metrics.txt" || true
}

test_scrape() {
	local exp=$WORK/exp.json m=$WORK/metrics.txt lint rc=0 cls fam key spi proto src dst pkts
	if ! ipsm_send_mix --expect "$exp" "${MIX[@]}" >"$WORK/send.out" 2>&1; then
		fail "send_mix" "exit 0" "$(head -c 300 "$WORK/send.out" | tr '\n' ' ')"
		return
	fi
	wait_metrics "$(jq '.traffic.rx.esp.ipv4.packets' "$exp")"

	lint=$(promtool check metrics <"$m" 2>&1) || rc=$?
	check_eq "promtool check metrics exit" 0 "$rc"
	check_eq "promtool check metrics output" "" "$lint"

	for cls in esp ah esp_in_udp ike nat_keepalive other fragment malformed; do
		for fam in ipv4 ipv6 non_ip; do
			for key in packets bytes; do
				check_eq "rx $cls $fam $key" \
					"$(jq ".traffic.rx.$cls.$fam.$key" "$exp")" \
					"$(metric_value "$m" "$(traffic_series "$key" rx "$cls" "$fam")")"
			done
		done
	done
	# IKEv2 by exchange and kind; IKEv1 is not in the mix.
	for key in ike_sa_init ike_auth create_child_sa informational other; do
		for kind in request response; do
			check_eq "ikev2 rx $key ${kind}s" \
				"$(jq ".ike.ikev2.rx.$key.${kind}s" "$exp")" \
				"$(metric_value "$m" "ipsecmon_ike_messages_total{interface=\"vb\",version=\"2\",exchange=\"$key\",direction=\"rx\",kind=\"$kind\"}")"
		done
	done

	# No SA exists on B: every inbound ESP/AH is a bad SPI, decided by the
	# kernel (XDP, 6.8+) or by the SA table this monitor keeps.
	check_lines "correlation active" 1 "$m" \
		-E '^ipsecmon_correlation_info\{mode="(kernel|monitor)"\} 1$'
	check_eq "bad_spi_packets_total" \
		"$(jq '[.sas[] | select(.dir == "rx") | .packets] | add' "$exp")" \
		"$(metric_value "$m" ipsecmon_bad_spi_packets_total)"
	while read -r spi proto src dst pkts; do
		check_eq "bad SPI $spi $proto $src" "$pkts" \
			"$(metric_value "$m" "ipsecmon_bad_spi_packets_by_spi_total{spi=\"$spi\",proto=\"$proto\",src=\"$src\",dst=\"$dst\"}")"
	done < <(jq -r '.sas[] | select(.dir == "rx") | "\(.spi) \(.proto) \(.src) \(.dst) \(.packets)"' \
		"$exp")
	check_eq "active_sas" 0 "$(metric_value "$m" ipsecmon_active_sas)"
	check_eq "key_additions_total" 0 "$(metric_value "$m" ipsecmon_key_additions_total)"
	check_eq "sa_series_dropped" 0 "$(metric_value "$m" ipsecmon_sa_series_dropped)"
	check_eq "datapath_untracked_packets_total" 0 \
		"$(metric_value "$m" ipsecmon_datapath_untracked_packets_total)"
	# run on a veth without --hooks: TC ingress receives.
	check_eq "interface_hook_live tc-ingress" 1 \
		"$(metric_value "$m" 'ipsecmon_interface_hook_live{interface="vb",hook="tc-ingress"}')"
	check_lines "kernel_xfrm_stat_total XfrmInNoStates present" 1 "$m" \
		'^ipsecmon_kernel_xfrm_stat_total{counter="XfrmInNoStates"} '
}

test_prometheus() {
	local want got=none cfg=$WORK/prom.yml t0 health
	PORT2=$(free_port "$NS_B")
	while [ "$PORT2" == "$PORT" ]; do PORT2=$(free_port "$NS_B"); done
	cat >"$cfg" <<-EOF
		global:
		  scrape_interval: 1s
		  evaluation_interval: 1s
		scrape_configs:
		  - job_name: ipsecmon
		    static_configs:
		      - targets: ['127.0.0.1:$PORT']
	EOF
	check_eq "promtool check config" 0 "$(promtool check config "$cfg" >"$WORK/promtool.out" 2>&1 && echo 0 || echo $?)"
	# ip netns exec execs prometheus: $! is prometheus itself.
	ip netns exec "$NS_B" prometheus --config.file="$cfg" --storage.tsdb.path="$WORK/data" \
		--web.listen-address="127.0.0.1:$PORT2" >"$WORK/prometheus.log" 2>&1 &
	PROM_PID=$!
	want=$(jq '.traffic.rx.esp.ipv4.packets' "$WORK/exp.json")
	t0=$SECONDS
	while [ $((SECONDS - t0)) -lt "$PROM_TIMEOUT" ]; do
		got=$(prom_query 'ipsecmon_traffic_packets_total{direction="rx",class="esp",family="ipv4"}')
		[ "$got" == "$want" ] && break
		kill -0 "$PROM_PID" 2>/dev/null || break
		sleep 0.5
	done
	check_eq "prometheus: rx esp ipv4 packets" "$want" "$got"
	[ "$got" == "$want" ] && echo "   (prometheus had it after $((SECONDS - t0)) s)"
	check_eq "prometheus: rx ah ipv6 bytes" "$(jq '.traffic.rx.ah.ipv6.bytes' "$WORK/exp.json")" \
		"$(prom_query 'ipsecmon_traffic_bytes_total{direction="rx",class="ah",family="ipv6"}')"
	check_eq "prometheus: up" 1 "$(prom_query 'up{job="ipsecmon"}')"
	health=$(in_b curl -s --max-time 5 "http://127.0.0.1:$PORT2/api/v1/targets" |
		jq -c '[.data.activeTargets[] | {health, lastError}]' 2>/dev/null || echo none)
	check_eq "prometheus: target healthy" '[{"health":"up","lastError":""}]' "$health"
	if [ "$got" != "$want" ]; then
		echo "prometheus log: $(tail -c 800 "$WORK/prometheus.log")"
	fi
}

test_stop() {
	local rc=0
	stop_pid "$PROM_PID"
	PROM_PID=
	kill -TERM "$MON_PID"
	wait "$MON_PID" || rc=$?
	MON_PID=
	check_eq "monitor exits 0 on SIGTERM" 0 "$rc"
	check_eq "port closed after the monitor" "" "$(in_b ss -ltnH "sport = :$PORT")"
}

# The fleet's alerting and recording rules: valid, and each alert fires on
# series shaped like ours (tests/prom/rules_test.yml).
test_rules() {
	local rules=$TEST_DIR/../../dist/prometheus/ipsecmon-rules.yml
	check_rc "rules: promtool check rules" 0 promtool check rules "$rules"
	check_rc "rules: promtool test rules" 0 promtool test rules "$TEST_DIR/rules_test.yml"
}

main() {
	preflight
	test_rules
	trap cleanup_all EXIT
	ipsm_netns_create
	# ipsm_netns_create set its own EXIT trap; ours also stops our processes.
	trap cleanup_all EXIT
	# Prometheus and curl talk over B's loopback.
	ip -n "$NS_B" link set lo up
	PORT=$(free_port "$NS_B")

	start_monitor
	test_listen
	test_http
	test_scrape
	test_prometheus
	test_stop
	finish
}

main "$@"
