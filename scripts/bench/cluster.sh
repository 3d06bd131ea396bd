#!/usr/bin/env bash
# One node against two nodes behind HAProxy, at the same offered load, in one run
# (`scripts/bench.sh --cluster [LEVELS…]`, default 100x20: 2,000 messages a second). Every server-side process (Haven, HAProxy, Redis,
# PostgreSQL) is pinned to CPU 0 and the generator (../shared/bench/load.mjs, the official
# socket.io-client) to CPU 1. Prints, per run: delivered rate, p50/p99, and the CPU each
# process used per stored message (user + system time from /proc, over the measured run).
#
# Needs HAVEN_TEST_DATABASE_URL (bench.sh runs this through scripts/test/with-postgres.sh),
# redis-server and haproxy.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${CARGO_TARGET_DIR:=$HOME/.cache/haven/target}"
levels=("${@:-100x20}")
DURATION=${DURATION:-20}
bench_dir=$(cd "${HAVEN_BENCH_DIR:-../shared/bench}" && pwd)
[ -d "$bench_dir/node_modules" ] || (cd "$bench_dir" && npm ci --no-audit --no-fund >/dev/null)
haven="$CARGO_TARGET_DIR/release/haven"
hz=$(getconf CLK_TCK)
. scripts/bench/lib.sh

bench_database haven_bench_cluster
"$haven" seed-demo --students 2000 --psychiatrists 2000 --prefix bench --password bench-password >/dev/null
start_redis
stored() { psql "$DATABASE_URL" -Atc "SELECT count(*) FROM messages"; }

# measure LABEL URL SERVER_PID PROCESS_NAME=PID…: runs the generator, prints one result line.
measure() {
  local label=$1 url=$2 spid=$3; shift 3
  local -A before
  local m0 pg0 name pid
  m0=$(stored); pg0=$(scripts/bench/pg-cpu.sh "$postmaster")
  for entry in "$@"; do before[$entry]=$(ticks "${entry#*=}"); done
  taskset -c 1 node "$bench_dir/load.mjs" --url "$url" --pairs "$pairs" --rate "$rate" \
    --duration "$DURATION" --warmup 3 --prefix bench --password bench-password \
    --server-pid "$spid" --label "$label" >"$state/$label.json" || true
  local m=$(( $(stored) - m0 )) pg=$(( $(scripts/bench/pg-cpu.sh "$postmaster") - pg0 ))
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").pop());
    const [label, msgs, hz, pg, ...procs] = process.argv.slice(2);
    const per = (t) => (msgs > 0 ? (t / hz * 1e6 / msgs).toFixed(1) : "-");
    let total = Number(pg);
    const parts = procs.map((p) => { const [n, t] = p.split("="); total += Number(t); return `${n} ${per(Number(t))}`; });
    console.log([label, `offered ${r.offered_msgs_per_s}/s`, `delivered ${r.throughput_msgs_per_s}/s`,
      `p50 ${r.delivery_ms?.p50} ms`, `p99 ${r.delivery_ms?.p99} ms`, `lost ${r.lost}`, `dup ${r.duplicates}`,
      `stored ${msgs}`, `CPU us/stored msg: ${parts.join(", ")}, postgres ${per(Number(pg))}, all ${per(total)}`].join(" | "));
  ' "$state/$label.json" "$label" "$m" "$hz" "$pg" $(for entry in "$@"; do
      name=${entry%%=*}; pid=${entry#*=}; echo "$name=$(( $(ticks "$pid") - ${before[$entry]} ))"; done)
}

for level in "${levels[@]}"; do
  pairs=${level%x*} rate=${level#*x}
  # One node, on PostgreSQL, no Redis.
  port=$(free_port)
  HAVEN_ADDR=127.0.0.1:$port taskset -c 0 "$haven" serve >/dev/null &
  one=$!; pids+=("$one")
  node_up "http://127.0.0.1:$port"
  measure "one-node $level" "http://127.0.0.1:$port" "$one" "haven=$one"
  kill "$one"; wait "$one" 2>/dev/null || true
  
  # Two nodes behind HAProxy, sharing Redis.
  lb=$(free_port) pa=$(free_port) pb=$(free_port)
  export HAVEN_REDIS_URL=redis://127.0.0.1:$redis_port/0 HAVEN_PUBLIC_URL=http://127.0.0.1:$lb
  HAVEN_ADDR=127.0.0.1:$pa taskset -c 0 "$haven" serve >/dev/null & a=$!; pids+=("$a")
  HAVEN_ADDR=127.0.0.1:$pb taskset -c 0 "$haven" serve >/dev/null & b=$!; pids+=("$b")
  node_up "http://127.0.0.1:$pa"; node_up "http://127.0.0.1:$pb"
  HAVEN_LISTEN=127.0.0.1:$lb HAVEN_NODE_A=127.0.0.1:$pa HAVEN_NODE_B=127.0.0.1:$pb \
    taskset -c 0 haproxy -db -f deploy/haproxy.cfg 2>/dev/null & lb_pid=$!; pids+=("$lb_pid")
  node_up "http://127.0.0.1:$lb"
  measure "two-nodes $level" "http://127.0.0.1:$lb" "$a" "node-a=$a" "node-b=$b" "haproxy=$lb_pid" "redis=$redis_pid"
  kill "$a" "$b" "$lb_pid"; wait "$a" "$b" "$lb_pid" 2>/dev/null || true
  unset HAVEN_REDIS_URL HAVEN_PUBLIC_URL
done
