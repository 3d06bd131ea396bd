#!/usr/bin/env bash
# Support groups under load next to one-to-one conversations, on one node and on two
# (issue 27; `make bench-groups`). On a throwaway PostgreSQL (two nodes need it), every
# server process (Haven, Redis, PostgreSQL) pinned to CPU 0 and the generator to CPU 1:
#   - groups: scripts/bench/groups.mjs, GROUPS groups of SIZE members, each member writing
#     every EVERY_S seconds (one message, SIZE-1 deliveries);
#   - one-to-one: the same generator (--kind direct), as many people at the same rate in
#     student–psychiatrist pairs (one delivery per message).
# Two nodes sit behind HAProxy with the deployed configuration, sharing Redis.
# Prints, per run, the delivered rate, latency and Haven's CPU per delivered message and
# per message (PostgreSQL's apart). Needs HAVEN_TEST_DATABASE_URL (run through
# scripts/test/with-postgres.sh, as `make bench-groups` does) and redis-server.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${CARGO_TARGET_DIR:=$HOME/.cache/haven/target}"
GROUPS_N=${GROUPS_N:-50} SIZE=${SIZE:-12} EVERY_S=${EVERY_S:-3} DURATION=${DURATION:-20}
bench_dir=$(cd "${HAVEN_BENCH_DIR:-../shared/bench}" && pwd)
[ -d "$bench_dir/node_modules" ] || (cd "$bench_dir" && npm ci --no-audit --no-fund >/dev/null)
export SOCKET_IO_CLIENT="$bench_dir/node_modules/socket.io-client"
haven="$CARGO_TARGET_DIR/release/haven"
[ -x "$haven" ] || { echo "build first: cargo build --release -p server --bin haven" >&2; exit 1; }
hz=$(getconf CLK_TCK)
. scripts/bench/lib.sh

bench_database haven_bench_groups
students=$(( 2 * GROUPS_N * SIZE ))
"$haven" seed-demo --students "$students" --psychiatrists "$students" --prefix bench --password bench-password >/dev/null
start_redis

# report LABEL JSON_FILE PG_TICKS: one line.
report() {
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").pop());
    const [label, hz, pg] = process.argv.slice(2);
    if (r.fatal) { console.log(`${label} | FATAL ${r.fatal}`); process.exit(0); }
    console.log([label, `${r.messages} messages, ${r.deliveries} deliveries in ${r.window_s} s`,
      `p50 ${r.p50_ms} ms`, `p99 ${r.p99_ms} ms`, `lost ${r.lost}`, `dup ${r.duplicates}`,
      `server CPU us/delivery ${r.cpu_us_per_delivery}, us/message ${r.cpu_us_per_message}`,
      `postgres (whole run) ${(pg / hz).toFixed(1)} CPU s`].join(" | "));
  ' "$2" "$1" "$hz" "$3"
}

# run LABEL KIND URLS SERVER_PIDS…: groups or one-to-one (KIND: groups | direct), the
# generator measuring the server processes' CPU over its window (after the setup's
# sign-ins, whose password hashing would swamp it); PostgreSQL's over the whole run.
run() {
  local label=$1 kind=$2 urls=$3; shift 3
  local pg0 server_pids
  server_pids=$(IFS=,; echo "$*")
  pg0=$(scripts/bench/pg-cpu.sh "$postmaster")
  taskset -c 1 node scripts/bench/groups.mjs --kind "$kind" --urls "$urls" --groups "$GROUPS_N" \
    --size "$SIZE" --every-s "$EVERY_S" --duration "$DURATION" --server-pids "$server_pids" \
    --label "$label" >"$state/$label.json" || true
  report "$label" "$state/$label.json" $(( $(scripts/bench/pg-cpu.sh "$postmaster") - pg0 ))
}

port=$(free_port)
HAVEN_ADDR=127.0.0.1:$port taskset -c 0 "$haven" serve >/dev/null & one=$!; pids+=("$one")
node_up "http://127.0.0.1:$port"
run "one-node groups" groups "http://127.0.0.1:$port" "$one"
run "one-node one-to-one" direct "http://127.0.0.1:$port" "$one"
kill "$one"; wait "$one" 2>/dev/null || true

# Two nodes behind HAProxy (the deployed configuration), sharing Redis: connections are
# spread over both, so every group spans both nodes. HAProxy and Redis count with Haven.
lb=$(free_port) pa=$(free_port) pb=$(free_port)
export HAVEN_REDIS_URL=redis://127.0.0.1:$redis_port/0 HAVEN_PUBLIC_URL=http://127.0.0.1:$lb
HAVEN_ADDR=127.0.0.1:$pa taskset -c 0 "$haven" serve >/dev/null & a=$!; pids+=("$a")
HAVEN_ADDR=127.0.0.1:$pb taskset -c 0 "$haven" serve >/dev/null & b=$!; pids+=("$b")
node_up "http://127.0.0.1:$pa"; node_up "http://127.0.0.1:$pb"
HAVEN_LISTEN=127.0.0.1:$lb HAVEN_NODE_A=127.0.0.1:$pa HAVEN_NODE_B=127.0.0.1:$pb \
  taskset -c 0 haproxy -db -f deploy/haproxy.cfg 2>/dev/null & lb_pid=$!; pids+=("$lb_pid")
node_up "http://127.0.0.1:$lb"
run "two-nodes groups" groups "http://127.0.0.1:$lb" "$a" "$b" "$redis_pid" "$lb_pid"
run "two-nodes one-to-one" direct "http://127.0.0.1:$lb" "$a" "$b" "$redis_pid" "$lb_pid"
