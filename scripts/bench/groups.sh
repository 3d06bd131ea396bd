#!/usr/bin/env bash
# Support groups under load next to one-to-one conversations, on one node and on two
# (issue 27; `make bench-groups`). On a throwaway PostgreSQL (two nodes need it), every
# server process (Haven, Redis, PostgreSQL) pinned to CPU 0 and the generator to CPU 1:
#   - groups: scripts/bench/groups.mjs, GROUPS groups of SIZE members, each member writing
#     every EVERY_S seconds (one message, SIZE-1 deliveries);
#   - one-to-one: ../shared/bench/load.mjs at the same message rate (one delivery each).
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
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
node_up() { for _ in $(seq 100); do curl -sf "$1/healthz" >/dev/null && return 0; sleep 0.2; done; return 1; }

state=$(mktemp -d /tmp/haven-bench-groups.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$state"; }
trap cleanup EXIT

psql "$HAVEN_TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS haven_bench_groups" -c "CREATE DATABASE haven_bench_groups"
export DATABASE_URL="${HAVEN_TEST_DATABASE_URL%/*}/haven_bench_groups"
postmaster=$(ss -ltnpH "sport = :${PGPORT:-5432}" | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2)
for pid in $postmaster $(pgrep -P "$postmaster"); do taskset -p -c 0 "$pid" >/dev/null; done
students=$(( 2 * GROUPS_N * (SIZE - 1) ))
"$haven" seed-demo --students "$students" --psychiatrists "$students" --prefix bench --password bench-password >/dev/null

redis_port=$(free_port)
taskset -c 0 redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
  --dir "$state" --logfile "$state/redis.log" &
redis_pid=$!; pids+=("$redis_pid")
export HAVEN_LOG=warn LEPTOS_SITE_ROOT=$PWD/${LEPTOS_SITE_ROOT:-target/site-release}
export HAVEN_SEND_RATE_PER_SEC=1000000 HAVEN_SEND_BURST=1000000
export HAVEN_REGISTRATIONS_PER_ADDRESS=1000000 HAVEN_LOGIN_FAILURES_PER_ADDRESS=1000000

# report LABEL JSON_FILE PG_TICKS HAVEN_TICKS: one line.
report() {
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").pop());
    const [label, hz, pg, own] = process.argv.slice(2);
    const d = r.deliveries ?? r.delivered ?? 0, m = r.messages ?? r.sent ?? d;
    const per = (t, n) => (n > 0 ? (t / hz * 1e6 / n).toFixed(1) : "-");
    const p50 = r.p50_ms ?? r.delivery_ms?.p50, p99 = r.p99_ms ?? r.delivery_ms?.p99;
    console.log([label, r.fatal ? `FATAL ${r.fatal}` : null, `${m} messages, ${d} deliveries`, `p50 ${p50} ms`, `p99 ${p99} ms`,
      `lost ${r.lost}`, `dup ${r.duplicates}`,
      `haven CPU us/delivery ${per(Number(own), d)}, us/message ${per(Number(own), m)}`,
      `postgres us/delivery ${per(Number(pg), d)}`].filter(Boolean).join(" | "));
  ' "$2" "$1" "$hz" "$3" "$4"
}

# run LABEL KIND URLS SERVER_PIDS…: groups or one-to-one (KIND), measured over the window.
run() {
  local label=$1 kind=$2 urls=$3; shift 3
  local pg0 own0=0 pid
  pg0=$(scripts/bench/pg-cpu.sh "$postmaster")
  for pid in "$@"; do own0=$(( own0 + $(ticks "$pid") )); done
  if [ "$kind" = groups ]; then
    taskset -c 1 node scripts/bench/groups.mjs --urls "$urls" --groups "$GROUPS_N" --size "$SIZE" \
      --every-s "$EVERY_S" --duration "$DURATION" --label "$label" >"$state/$label.json" || true
  else
    # The same message rate as the groups', one delivery each.
    local pairs=$(( GROUPS_N * SIZE / 2 )) rate
    rate=$(awk -v e="$EVERY_S" 'BEGIN { printf "%.3f", 1 / e }')
    taskset -c 1 node "$bench_dir/load.mjs" --url "${urls%%,*}" --pairs "$pairs" --rate "$rate" \
      --duration "$DURATION" --warmup 3 --prefix bench --password bench-password \
      --label "$label" >"$state/$label.json" || true
  fi
  local own1=0
  for pid in "$@"; do own1=$(( own1 + $(ticks "$pid") )); done
  report "$label" "$state/$label.json" $(( $(scripts/bench/pg-cpu.sh "$postmaster") - pg0 )) $(( own1 - own0 ))
}

port=$(free_port)
HAVEN_ADDR=127.0.0.1:$port taskset -c 0 "$haven" serve >/dev/null & one=$!; pids+=("$one")
node_up "http://127.0.0.1:$port"
run "one-node groups" groups "http://127.0.0.1:$port" "$one"
run "one-node one-to-one" pairs "http://127.0.0.1:$port" "$one"
kill "$one"; wait "$one" 2>/dev/null || true

# Two nodes behind HAProxy (the deployed configuration), sharing Redis: connections are
# spread over both, so every group spans both nodes. HAProxy and Redis count with Haven.
lb=$(free_port) pa=$(free_port) pb=$(free_port)
export HAVEN_REDIS_URL=redis://127.0.0.1:$redis_port/0 HAVEN_PUBLIC_URL=http://127.0.0.1:$lb
export HAVEN_TRUSTED_PROXIES=127.0.0.1
HAVEN_ADDR=127.0.0.1:$pa taskset -c 0 "$haven" serve >/dev/null & a=$!; pids+=("$a")
HAVEN_ADDR=127.0.0.1:$pb taskset -c 0 "$haven" serve >/dev/null & b=$!; pids+=("$b")
node_up "http://127.0.0.1:$pa"; node_up "http://127.0.0.1:$pb"
HAVEN_LISTEN=127.0.0.1:$lb HAVEN_NODE_A=127.0.0.1:$pa HAVEN_NODE_B=127.0.0.1:$pb \
  taskset -c 0 haproxy -db -f deploy/haproxy.cfg 2>/dev/null & lb_pid=$!; pids+=("$lb_pid")
node_up "http://127.0.0.1:$lb"
run "two-nodes groups" groups "http://127.0.0.1:$lb" "$a" "$b" "$redis_pid" "$lb_pid"
run "two-nodes one-to-one" pairs "http://127.0.0.1:$lb" "$a" "$b" "$redis_pid" "$lb_pid"
