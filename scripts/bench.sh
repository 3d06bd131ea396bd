#!/usr/bin/env bash
# Haven against the Node/socket.io reference, in one run.
#
#   scripts/bench.sh [LEVELS…]            ../shared/bench/compare.sh: each server pinned to CPU 0,
#                                         the generator on CPU 1, the same offered loads
#   scripts/bench.sh --floor [LEVELS…]    the same, with the socket floor (server/examples/
#                                         socket_floor.rs: socketioxide and nothing else) in
#                                         Haven's place: what the socket layer alone costs
#   scripts/bench.sh --ceiling [RATES…]   reference, Haven and the floor at the same CPU budget
#                                         (CAP cores), the generator over two processes and
#                                         both cores, rates climbing to each one's highest
#                                         with p99 < 100 ms (scripts/bench/ceiling.sh)
#   scripts/bench.sh --cluster [LEVEL]    one node against two behind HAProxy (Redis
#                                         fan-out) at the same offered load, on a throwaway
#                                         PostgreSQL; CPU per stored message of every process
#                                         (scripts/bench/cluster.sh)
#   scripts/bench.sh --postgres [LEVELS…] compare, with Haven on PostgreSQL: a throwaway
#                                         cluster (scripts/test/with-postgres.sh) pinned to
#                                         Haven's CPU; its own CPU per stored message is
#                                         printed apart (scripts/bench/pg-cpu.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
: "${CARGO_TARGET_DIR:=$HOME/.cache/haven/target}"
mode=compare
case ${1:-} in
  --floor) mode=floor; shift ;;
  --ceiling) mode=ceiling; shift ;;
  --cluster)
    shift
    [ -n "${HAVEN_TEST_DATABASE_URL:-}" ] || exec scripts/test/with-postgres.sh "$0" --cluster "$@"
    exec scripts/bench/cluster.sh "$@" ;;
  --postgres)
    shift
    [ -n "${HAVEN_TEST_DATABASE_URL:-}" ] || exec scripts/test/with-postgres.sh "$0" --postgres "$@"
    mode=postgres ;;
esac
bench_dir=$(cd "${HAVEN_BENCH_DIR:-../shared/bench}" && pwd)
[ -d "$bench_dir/node_modules" ] || (cd "$bench_dir" && npm ci --no-audit --no-fund >/dev/null)
haven=${HAVEN_BIN:-$CARGO_TARGET_DIR/release/haven}
floor="$CARGO_TARGET_DIR/release/examples/socket_floor"
[ -x "$haven" ] || { echo "build first: cargo leptos build --release" >&2; exit 1; }
if { [ "$mode" = floor ] || [ "$mode" = ceiling ]; } && [ ! -x "$floor" ]; then
  cargo build --release -p server --example socket_floor
fi

state=$(mktemp -d /tmp/haven-bench.XXXXXX)
trap 'rm -rf "$state"' EXIT
export DATABASE_URL="sqlite://$state/haven.db"
if [ "$mode" = postgres ]; then
  psql "$HAVEN_TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS haven_bench" -c "CREATE DATABASE haven_bench"
  DATABASE_URL="${HAVEN_TEST_DATABASE_URL%/*}/haven_bench"
  # The database serves Haven on Haven's core; the generator keeps the other.
  postmaster=$(ss -ltnpH "sport = :${PGPORT:-5432}" | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2)
  for pid in $postmaster $(pgrep -P "$postmaster"); do taskset -p -c 0 "$pid" >/dev/null; done
fi
# The generator's accounts: bench-s<i> / bench-p<i> (synthetic, one shared hash).
"$haven" seed-demo --students 11000 --psychiatrists 11000 --prefix bench --password bench-password

# The per-user send limit protects people from scripts; the generator is a script that
# sends up to 50 messages a second per user, so it is lifted for the benchmark.
HAVEN_CMD="exec env DATABASE_URL=$DATABASE_URL HAVEN_LOG=warn LEPTOS_SITE_ROOT=$PWD/${LEPTOS_SITE_ROOT:-target/site-release} \
HAVEN_SEND_RATE_PER_SEC=1000000 HAVEN_SEND_BURST=1000000 $haven serve"
FLOOR_CMD="exec $floor"
REFERENCE_CMD="exec node $bench_dir/reference/server.mjs"
export HAVEN_CMD FLOOR_CMD REFERENCE_CMD

compare() { (cd "$bench_dir" && ./compare.sh "$@"); }
# With BENCH_RUN set (scripts/bench/all.sh), the run's raw rows are kept there under NAME for
# scripts/bench/targets.mjs; compare.sh names its raw file on its last line.
keep() { # NAME
  local out raw
  out=$(cat)
  printf '%s\n' "$out"
  raw=$(printf '%s\n' "$out" | sed -n 's|^raw: .*/results/|results/|p' | tail -n 1)
  if [ -n "${BENCH_RUN:-}" ] && [ -n "$raw" ]; then cp "$bench_dir/$raw" "$BENCH_RUN/$1"; fi
}

case $mode in
  compare) compare "$@" | keep compare.jsonl ;;
  postgres)
    stored() { psql "$DATABASE_URL" -Atc "SELECT count(*) FROM messages"; }
    before_cpu=$(scripts/bench/pg-cpu.sh "$postmaster"); before_msgs=$(stored)
    compare "$@" | keep postgres.jsonl
    after_cpu=$(scripts/bench/pg-cpu.sh "$postmaster"); after_msgs=$(stored)
    awk -v c=$((after_cpu - before_cpu)) -v m=$((after_msgs - before_msgs)) -v hz="$(getconf CLK_TCK)" 'BEGIN {
      printf "PostgreSQL (apart from haven): %.1f CPU s for %d stored messages: %.1f us/msg\n",
        c / hz, m, m ? c / hz * 1e6 / m : 0
      if (ENVIRON["BENCH_RUN"] != "")
        printf "{\"us_per_msg\": %.1f, \"stored\": %d}\n", m ? c / hz * 1e6 / m : 0, m > ENVIRON["BENCH_RUN"] "/postgres-db.json" }' ;;
  # compare.sh labels its second server "haven": in this mode those rows are the floor.
  floor) HAVEN_CMD=$FLOOR_CMD compare "$@" | keep floor.jsonl ;;
  ceiling) SERVERS=${SERVERS:-reference haven floor} scripts/bench/ceiling.sh "$@" ;;
esac
