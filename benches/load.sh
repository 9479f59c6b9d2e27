#!/usr/bin/env bash
# The load benchmark: Portico beside the bare hyper server (the limit) and nginx (what users
# pick instead), all on loopback, server on one core and the load generator on the other.
#
#   bash benches/load.sh            # ROUNDS=3 DURATION=6 WARMUP=2 CONNECTIONS=64 by default
#
# The scenarios run in turn, ROUNDS times over, so that a drift of the machine during the run
# falls on all of them alike. Prints its command, the machine, each round's requests/s, and one
# table: the median round's requests/s, p50 and p99 latency, and the ratio to each scenario's
# reference. A second table says where the server core's time goes in each scenario's median
# round: user and system CPU of the server under test and of the bare server behind it, per
# request, and how often the server went to sleep and woke again per request (from /proc).
# Then resident memory (idle, and with 10,000 idle keep-alive connections) and start-up time
# with a generated 1,000-resource document (the median of three starts).
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/nginx.sh
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-6}
WARMUP=${WARMUP:-2}
CONNECTIONS=${CONNECTIONS:-64}
BARE=127.0.0.1:18080 PORTICO=127.0.0.1:18081 NGINX=127.0.0.1:18082 STARTUP=127.0.0.1:18083
echo "command: ROUNDS=$ROUNDS DURATION=$DURATION WARMUP=$WARMUP CONNECTIONS=$CONNECTIONS bash benches/load.sh"
echo "date: $(date -u +%Y-%m-%d) machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

install() { command -v "$1" >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }; }
install wrk wrk
install nginx nginx
cargo build --release --quiet --bin portico --example bare

CORES=$(nproc)
SERVER_CPU=0
LOAD_CPU=$(( CORES > 1 ? 1 : 0 ))
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

wait_for() { for _ in $(seq 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; echo "no answer from $1" >&2; return 1; }

taskset -c $SERVER_CPU target/release/examples/bare $BARE >/dev/null & pids+=($!)
sed "s/BARE/$BARE/" benches/load.yaml > "$work/load.yaml"
taskset -c $SERVER_CPU target/release/portico serve --no-watch --config "$work/load.yaml" --listen $PORTICO >/dev/null 2>&1 & pids+=($!)
portico_pid=$!
nginx_conf "$work" $NGINX $BARE
taskset -c $SERVER_CPU nginx -c "$work/nginx.conf" & pids+=($!)
nginx_master=$!
wait_for "http://$BARE/" && wait_for "http://$PORTICO/bench/mock" && wait_for "http://$NGINX/"
bare_pid=${pids[0]}
nginx_worker=$(pgrep -P "$nginx_master" | head -n 1)

# A process's CPU so far, "user system" in clock ticks, and its sleeps (context switches)
# over all its threads.
TICK_US=$(( 1000000 / $(getconf CLK_TCK) ))
cpu() { awk '{print $14, $15}' "/proc/$1/stat"; }
switches() { cat /proc/"$1"/task/*/status | awk '/ctxt_switches/ {s += $2} END {print s}'; }

declare -A RPS P50 P99 ROUND
run() { # name url pid: one round of one scenario, as "requests/s p50 p99 user sys backend switches"
  # (latencies in µs; CPU in µs per request, of the server under test and of the bare server
  # behind it; switches of the server under test per request)
  taskset -c $LOAD_CPU wrk -t1 -c"$CONNECTIONS" -d"${WARMUP}s" "$2" >/dev/null
  local out before after bare_before bare_after sw_before sw_after
  before=$(cpu "$3") bare_before=$(cpu "$bare_pid") sw_before=$(switches "$3")
  out=$(taskset -c $LOAD_CPU wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$2")
  after=$(cpu "$3") bare_after=$(cpu "$bare_pid") sw_after=$(switches "$3")
  if echo "$out" | grep -q "Non-2xx"; then echo "$1: non-2xx answers:" >&2; echo "$out" >&2; fi
  ROUND[$1]+=$(echo "$out" | awk -v cpu="$before $after $bare_before $bare_after" -v sw="$sw_before $sw_after" \
    -v tick="$TICK_US" -v self="$([ "$3" = "$bare_pid" ] && echo 1 || echo 0)" '
    function us(v) { if (v ~ /us$/) return v + 0; if (v ~ /ms$/) return v * 1000; return v * 1000000 }
    /Requests\/sec/ {r = $2} $1 == "50%" {p50 = us($2)} $1 == "99%" {p99 = us($2)} / requests in / {n = $1}
    END {
      split(cpu, c, " "); split(sw, s, " ")
      backend = self ? 0 : (c[7] - c[5] + c[8] - c[6]) * tick / n
      printf "%s %s %s %.2f %.2f %.2f %.2f\n", r, p50, p99, (c[3] - c[1]) * tick / n, (c[4] - c[2]) * tick / n,
        backend, (s[2] - s[1]) / n
    }')$'\n'
}
median() { # name column
  printf '%s' "${ROUND[$1]}" | awk -v c="$2" 'NF {print $c}' | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}
latency() { awk -v v="$1" 'BEGIN { if (v >= 1000) printf "%.2fms", v / 1000; else printf "%.0fus", v }'; }
SCENARIOS="bare mock proxy nginx http"
for _ in $(seq "$ROUNDS"); do
  run bare "http://$BARE/" "$bare_pid"
  run mock "http://$PORTICO/bench/mock?user=O%27Brien" "$portico_pid"
  run proxy "http://$PORTICO/bench/proxy/items" "$portico_pid"
  run nginx "http://$NGINX/items" "$nginx_worker"
  run http "http://$PORTICO/bench/http?user=O%27Brien" "$portico_pid"
done
echo
declare -A CPU
for s in $SCENARIOS; do
  RPS[$s]=$(median $s 1)
  P50[$s]=$(latency "$(median $s 2)")
  P99[$s]=$(latency "$(median $s 3)")
  # The median round's own CPU figures (the round whose requests/s is the median).
  CPU[$s]=$(printf '%s' "${ROUND[$s]}" | awk -v r="${RPS[$s]}" '$1 == r {print $4, $5, $6, $7; exit}')
  echo "rounds, requests/s, $s: $(printf '%s' "${ROUND[$s]}" | awk 'NF {printf "%s ", $1}')"
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
printf '\n| scenario | requests/s | p50 | p99 | ratio | to |\n|---|---:|---:|---:|---:|---|\n'
printf '| bare hyper server (the limit) | %s | %s | %s | 1.00 | itself |\n' "${RPS[bare]}" "${P50[bare]}" "${P99[bare]}"
printf '| Portico MOCK, request + response templates | %s | %s | %s | %s | bare |\n' "${RPS[mock]}" "${P50[mock]}" "${P99[mock]}" "$(ratio "${RPS[mock]}" "${RPS[bare]}")"
printf '| nginx proxy_pass, upstream keep-alive | %s | %s | %s | %s | bare |\n' "${RPS[nginx]}" "${P50[nginx]}" "${P99[nginx]}" "$(ratio "${RPS[nginx]}" "${RPS[bare]}")"
printf '| Portico HTTP_PROXY | %s | %s | %s | %s | nginx |\n' "${RPS[proxy]}" "${P50[proxy]}" "${P99[proxy]}" "$(ratio "${RPS[proxy]}" "${RPS[nginx]}")"
printf '| Portico HTTP, parameters + templates | %s | %s | %s | %s | Portico HTTP_PROXY |\n' "${RPS[http]}" "${P50[http]}" "${P99[http]}" "$(ratio "${RPS[http]}" "${RPS[proxy]}")"

printf '\nCPU of the server core per request, in µs (median round):\n\n'
printf '| scenario | server user | server system | bare server behind it | all | server sleeps per request |\n|---|---:|---:|---:|---:|---:|\n'
for s in $SCENARIOS; do
  echo "$s ${CPU[$s]}" | awk '{printf "| %s | %.2f | %.2f | %.2f | %.2f | %.2f |\n", $1, $2, $3, $4, $2 + $3 + $4, $5}'
done

rss() { awk '/VmRSS/ {printf "%.1f MB", $2 / 1024}' "/proc/$1/status"; }
echo
echo "resident memory, idle (after the runs): $(rss "$portico_pid")"
kill "$portico_pid"; wait "$portico_pid" 2>/dev/null || true
taskset -c $SERVER_CPU target/release/portico serve --no-watch --max-connections 20000 --config "$work/load.yaml" --listen $PORTICO >/dev/null 2>&1 & pids+=($!)
portico_pid=$!
wait_for "http://$PORTICO/bench/mock"
echo "resident memory, fresh: $(rss "$portico_pid")"
ulimit -n 65536 2>/dev/null || true
python3 - "$PORTICO" <<'PY' &
import socket, sys, time
host, port = sys.argv[1].split(":")
conns = []
for i in range(10000):
    s = socket.create_connection((host, int(port)))
    s.sendall(b"GET /bench/mock HTTP/1.1\r\nHost: x\r\n\r\n")
    conns.append(s)
for s in conns:
    s.recv(4096)
open("/tmp/portico-bench-conns", "w").write("ready")
time.sleep(30)
PY
holder=$!
pids+=($holder)
for _ in $(seq 300); do [ -f /tmp/portico-bench-conns ] && break; sleep 0.1; done
# Idle: each connection has been answered and then left quiet for a few seconds.
sleep 3
echo "resident memory, 10,000 idle keep-alive connections: $(rss "$portico_pid")"
rm -f /tmp/portico-bench-conns
kill "$holder" 2>/dev/null || true

python3 - "$work/big.yaml" <<'PY'
import sys
lines = ["restApi: {name: big}", "resources:"]
for i in range(1000):
    lines += [f"  - path: /r{i}/{{id}}", "    resourceMethods:", "      GET:",
              '        methodResponses: {"200": {statusCode: "200"}}',
              "        methodIntegration:", "          type: MOCK",
              "          requestTemplates: {application/json: '{\"statusCode\": 200}'}",
              "          integrationResponses: {\"200\": {statusCode: \"200\", responseTemplates: {application/json: '{\"id\": \"$input.params(''id'')\"}'}}}"]
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY
# Start-up is timed with nothing else running (the servers above, and the 10,000 connections
# they were closing, would share the machine with it), three times; the median is printed.
for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
sleep 2
pids=()
starts=()
for _ in 1 2 3; do
  start=$(date +%s%N)
  target/release/portico serve --no-watch --config "$work/big.yaml" --listen $STARTUP >/dev/null 2>&1 & pids+=($!)
  until curl -s -o /dev/null -w '%{http_code}' "http://$STARTUP/r999/x" | grep -q 200; do sleep 0.005; done
  starts+=($(( ($(date +%s%N) - start) / 1000000 )))
  kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
done
median=$(printf '%s\n' "${starts[@]}" | sort -n | sed -n 2p)
echo "start-up to the first answered request, 1,000 resources: $median ms (median of ${starts[*]} ms)"
