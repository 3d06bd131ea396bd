#!/usr/bin/env bash
# Instructions per message of one Haven build, repeatable on a noisy machine: the server
# under callgrind (CPU 0) at a fixed low load (10 pairs × 5 msg/s, CPU 1), once for 10 s
# and once for 30 s; the difference of total instructions over the difference of messages
# cancels start-up (sign-ins, migrations) out. Compare two builds by running it on each.
#
#   scripts/bench/callgrind.sh [path/to/haven]     # default: the release build
set -euo pipefail
cd "$(dirname "$0")/../.."
haven=$(realpath "${1:-${CARGO_TARGET_DIR:-$HOME/.cache/haven/target}/release/haven}")
bench=$(cd "${HAVEN_BENCH_DIR:-../shared/bench}" && pwd)
[ -d "$bench/node_modules" ] || (cd "$bench" && npm ci --no-audit --no-fund >/dev/null)
work=$(mktemp -d /tmp/haven-callgrind.XXXXXX)
declare -A ir sent
for duration in 10 30; do
  export DATABASE_URL="sqlite://$work/$duration.db"
  "$haven" seed-demo --students 50 --psychiatrists 50 --prefix bench --password bench-password >/dev/null
  port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
  HAVEN_LOG=warn HAVEN_SEND_RATE_PER_SEC=1000000 HAVEN_SEND_BURST=1000000 LEPTOS_SITE_ROOT="$work" \
    taskset -c 0 valgrind --tool=callgrind --callgrind-out-file="$work/$duration.out" \
    "$haven" serve --addr "127.0.0.1:$port" >"$work/$duration.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 600); do
    code=0; curl -fsS -o /dev/null -X POST "http://127.0.0.1:$port/api/auth/login" \
      -H 'content-type: application/json' -d '{}' 2>/dev/null || code=$?
    [ "$code" -ne 7 ] && break; sleep 0.2
  done
  server=$(ss -ltnpH "sport = :$port" | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2)
  (cd "$bench" && taskset -c 1 node load.mjs --url "http://127.0.0.1:$port" --pairs 10 --rate 5 \
    --duration "$duration" --warmup 3 --prefix bench --password bench-password \
    --server-pid "$server" --label "callgrind $duration") >"$work/$duration.json" || true
  kill -TERM "$server"; wait "$pid" || true
  ir[$duration]=$(awk '/^summary:/ { print $2; exit }' "$work/$duration.out")
  sent[$duration]=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).sent)' "$work/$duration.json")
done
echo "messages ${sent[10]} → ${sent[30]}, instructions ${ir[10]} → ${ir[30]}"
echo "instructions per message: $(( (ir[30] - ir[10]) / (sent[30] - sent[10]) ))"
echo "callgrind output (for callgrind_annotate): $work"
