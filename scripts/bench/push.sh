#!/usr/bin/env bash
# Web Push under load (issue 28; `make bench-push`): scripts/bench/push.mjs against one
# node on SQLite, the server on CPU 0, the generator and its loopback push service on
# CPU 1. Prints per phase (every message reminded, reminders coalesced, readers without
# devices) the server's CPU per message, and the send → push latency.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${CARGO_TARGET_DIR:=$HOME/.cache/haven/target}"
STUDENTS=${STUDENTS:-200} RATE=${RATE:-50}
bench_dir=$(cd "${HAVEN_BENCH_DIR:-../shared/bench}" && pwd)
[ -d "$bench_dir/node_modules" ] || (cd "$bench_dir" && npm ci --no-audit --no-fund >/dev/null)
export SOCKET_IO_CLIENT="$bench_dir/node_modules/socket.io-client"
haven=${HAVEN_BIN:-$CARGO_TARGET_DIR/release/haven}
[ -x "$haven" ] || { echo "build first: cargo build --release -p server --bin haven" >&2; exit 1; }
. scripts/bench/lib.sh

export DATABASE_URL="sqlite://$state/haven.db" HAVEN_PUSH_ALLOW_LOOPBACK=true
"$haven" seed-demo --students $(( 2 * STUDENTS )) --psychiatrists 1 --prefix bench \
  --password bench-password >/dev/null
port=$(free_port)
# HAVEN_WRAP: e.g. "valgrind --tool=callgrind" to see where a push's instructions go.
HAVEN_ADDR=127.0.0.1:$port taskset -c 0 ${HAVEN_WRAP:-} "$haven" serve >/dev/null & server=$!; pids+=("$server")
node_up "http://127.0.0.1:$port"
taskset -c 1 node scripts/bench/push.mjs --url "http://127.0.0.1:$port" --students "$STUDENTS" \
  --rate "$RATE" --server-pid "$server" --label "${LABEL:-push}"
