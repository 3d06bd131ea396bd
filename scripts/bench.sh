#!/usr/bin/env bash
# Haven against the Node/socket.io reference, in one run (../shared/bench/compare.sh): the
# server pinned to CPU 0, the load generator to CPU 1, the same offered loads.
#
#   scripts/bench.sh                         # default levels
#   scripts/bench.sh 100x10 100x100 idle10000
set -euo pipefail
cd "$(dirname "$0")/.."
: "${CARGO_TARGET_DIR:=$HOME/.cache/haven/target}"
bench_dir=$(cd "${HAVEN_BENCH_DIR:-../shared/bench}" && pwd)
haven="$CARGO_TARGET_DIR/release/haven"
[ -x "$haven" ] || { echo "build first: cargo leptos build --release" >&2; exit 1; }

state=$(mktemp -d /tmp/haven-bench.XXXXXX)
trap 'rm -rf "$state"' EXIT
export DATABASE_URL="sqlite://$state/haven.db"
# The generator's accounts: bench-s<i> / bench-p<i> (synthetic, one shared hash).
"$haven" seed-demo --students 11000 --psychiatrists 11000 --prefix bench --password bench-password

# The per-user send limit protects people from scripts; the generator is a script that
# sends up to 50 messages a second per user, so it is lifted for the benchmark.
export HAVEN_CMD="exec env DATABASE_URL=$DATABASE_URL HAVEN_LOG=warn LEPTOS_SITE_ROOT=$PWD/target/site \
HAVEN_SEND_RATE_PER_SEC=1000000 HAVEN_SEND_BURST=1000000 $haven serve"
cd "$bench_dir"
./compare.sh "$@"
