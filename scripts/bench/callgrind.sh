#!/usr/bin/env bash
# Instructions per message of one Haven build, repeatable on a noisy machine: the server
# under callgrind (CPU 0) at a fixed low load (10 pairs × 5 msg/s, CPU 1), once for 10 s
# and once for 30 s; the difference of total instructions over the difference of messages
# cancels start-up (sign-ins, migrations) out. Compare two builds by running it on each.
# REFUSE=1 measures a refused message instead: once a first message is stored (the
# generator's sign-ins and conversations are written before it), another connection holds
# SQLite's write lock for the rest of the run, so
# the writer's first message waits and every later one is answered `busy` (instructions per
# message sent, nearly all refused: it prints how many were acked).
#
#   scripts/bench/callgrind.sh [path/to/haven]     # default: the release build
#   REFUSE=1 scripts/bench/callgrind.sh [path/to/haven]
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
  holder=
  if [ -n "${REFUSE:-}" ]; then
    (
      until [ "$(curl -fsS "http://127.0.0.1:$port/metrics" 2>/dev/null |
        awk '/^haven_messages_stored_total/ { print $2 }')" -gt 0 ] 2>/dev/null; do sleep 0.2; done
      exec python3 -c 'import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None); c.execute("BEGIN IMMEDIATE"); time.sleep(3600)' \
        "$work/$duration.db"
    ) &
    holder=$!
  fi
  (cd "$bench" && taskset -c 1 node load.mjs --url "http://127.0.0.1:$port" --pairs 10 --rate 5 \
    --duration "$duration" --warmup 3 --prefix bench --password bench-password \
    --server-pid "$server" --label "callgrind $duration") >"$work/$duration.json" || true
  [ -z "$holder" ] || { kill "$holder"; wait "$holder" 2>/dev/null || true; }
  kill -TERM "$server"; wait "$pid" || true
  ir[$duration]=$(awk '/^summary:/ { print $2; exit }' "$work/$duration.out")
  sent[$duration]=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).sent)' "$work/$duration.json")
done
acked() { node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).acked)' "$1"; }
echo "messages ${sent[10]} → ${sent[30]} (acked $(acked "$work/10.json") → $(acked "$work/30.json")), instructions ${ir[10]} → ${ir[30]}"
echo "instructions per message: $(( (ir[30] - ir[10]) / (sent[30] - sent[10]) ))"
echo "callgrind output (for callgrind_annotate): $work"
