#!/usr/bin/env bash
# User-space instructions per request, counted by valgrind's callgrind, for Portico MOCK,
# Portico HTTP_PROXY and nginx proxy_pass (the scenarios of benches/load.sh). Instruction
# counts do not drift with the machine's load as requests per second do, so they show where
# a scenario's CPU goes and how two servers compare on the same work.
#
#   bash benches/profile.sh
#
# Each server runs under callgrind twice: once answering one request (its start-up and
# shutdown) and once under wrk for a few seconds; the difference over the extra requests is
# the cost of a request. The second run's profile is kept in target/profile/ for
# callgrind_annotate.
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/nginx.sh
DURATION=${DURATION:-8}
BARE=127.0.0.1:18090 SERVER=127.0.0.1:18091
echo "command: DURATION=$DURATION bash benches/profile.sh"
echo "date: $(date -u +%Y-%m-%d) machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

install() { command -v "$1" >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }; }
install valgrind valgrind
install wrk wrk
install nginx nginx
cargo build --release --quiet --bin portico --example bare

work=$(mktemp -d)
mkdir -p target/profile
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
wait_for() { for _ in $(seq 200); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; echo "no answer from $1" >&2; return 1; }

target/release/examples/bare $BARE >/dev/null & pids+=($!)
sed "s/BARE/$BARE/" benches/load.yaml > "$work/load.yaml"
# One process, so that callgrind follows the worker.
nginx_conf "$work" $SERVER $BARE "master_process off;"
wait_for "http://$BARE/"

# Instructions of one callgrind run of the server ($2...) answering `$1` once, or under wrk
# when WRK is set; prints "instructions requests".
counted() {
  local url=$1 out=$work/callgrind.out; shift
  valgrind --tool=callgrind --callgrind-out-file="$out" "$@" >/dev/null 2>&1 &
  local pid=$!
  wait_for "$url"
  local n=1
  if [ -n "${WRK:-}" ]; then
    n=$(wrk -t1 -c8 -d"${DURATION}s" "$url" | awk '/requests in/ {print $1}')
    n=$((n + 1))
  fi
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  [ -n "${WRK:-}" ] && cp "$out" "target/profile/$KEEP.callgrind"
  echo "$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}') $n"
}

per_request() {
  local name=$1 url=$2; shift 2
  read -r base one < <(counted "$url" "$@")
  read -r total n < <(WRK=1 KEEP=$name counted "$url" "$@")
  printf '| %s | %d | %d |\n' "$name" "$(( (total - base) / (n - one) ))" "$n"
}

printf '\n| scenario | instructions per request | requests counted |\n|---|---:|---:|\n'
# One worker thread: the scheduler Portico runs on one core, as load.sh pins it.
per_request portico-mock "http://$SERVER/bench/mock?user=O%27Brien" \
  target/release/portico serve --no-watch --config "$work/load.yaml" --listen $SERVER --worker-threads 1
per_request portico-proxy "http://$SERVER/bench/proxy/items" \
  target/release/portico serve --no-watch --config "$work/load.yaml" --listen $SERVER --worker-threads 1
per_request nginx-proxy "http://$SERVER/items" nginx -c "$work/nginx.conf"
