#!/usr/bin/env bash
# Renders per second of benches/data/template.vtl in Portico's engine, velocityjs (Node) and
# airspeed (Python), one after the other on this machine, and the ratios.
#
#   bash benches/compare.sh
#
# velocityjs and airspeed are installed into a temporary directory from npm and PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "command: bash benches/compare.sh"
echo "date: $(date -u +%Y-%m-%d) machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm install --silent velocityjs@2 >/dev/null 2>&1)
pip install --quiet --target "$work/py" airspeed >/dev/null 2>&1
cargo build --release --quiet --example render_loop
portico=$(target/release/examples/render_loop 200000 | sed -E 's/.*: ([0-9]+) renders\/s.*/\1/')
velocityjs=$(NODE_PATH="$work/node_modules" node benches/compare/velocityjs.js benches/data)
airspeed=$(PYTHONPATH="$work/py" python3 benches/compare/airspeed_bench.py benches/data)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
printf '\n| engine | renders/s | Portico is |\n|---|---:|---:|\n'
printf '| Portico (body parsed from bytes in every render) | %s | 1.0x |\n' "$portico"
printf '| velocityjs (body parsed once) | %s | %sx faster |\n' "$velocityjs" "$(ratio "$portico" "$velocityjs")"
printf '| airspeed (body parsed once) | %s | %sx faster |\n' "$airspeed" "$(ratio "$portico" "$airspeed")"
