#!/usr/bin/env bash
# Haven at the size a real service reaches: for each backend and each size of history, a
# fresh database filled by `haven seed-demo --history --messages SIZE`, the release server
# pinned to CPU 0 (with PostgreSQL's processes, on PostgreSQL), and one client on CPU 1
# timing every page and socket operation (scripts/bench/scale.mjs). Results:
# docs/benchmarks.md ("Years of history").
#
#   scripts/bench/scale.sh [SIZES…]        (make bench-scale; default 3000 300000 3000000)
#   BACKENDS="sqlite" scripts/bench/scale.sh 3000
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${CARGO_TARGET_DIR:=$HOME/.cache/haven/target}"
haven=${HAVEN_BIN:-$CARGO_TARGET_DIR/release/haven}
[ -x "$haven" ] || { echo "build first: cargo build --release -p server (make bench-scale does)" >&2; exit 1; }
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(3000 300000 3000000)
backends=${BACKENDS:-sqlite postgres}
runs=${RUNS:-200}

# PostgreSQL: a throwaway cluster for the whole run (scripts/test/with-postgres.sh).
if [[ " $backends " == *" postgres "* && -z "${HAVEN_TEST_DATABASE_URL:-}" ]]; then
  exec scripts/test/with-postgres.sh "$0" "${sizes[@]}"
fi

state=$(mktemp -d /tmp/haven-scale.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$state"; }
trap cleanup EXIT
port=3491

database() { # BACKEND SIZE → a fresh, empty database URL
  case $1 in
    sqlite) echo "sqlite://$state/history-$2.db" ;;
    postgres)
      local name="haven_scale_$2"
      psql "$HAVEN_TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" >/dev/null
      echo "${HAVEN_TEST_DATABASE_URL%/*}/$name" ;;
  esac
}

for backend in $backends; do
  for size in "${sizes[@]}"; do
    url=$(database "$backend" "$size")
    env DATABASE_URL="$url" HAVEN_LOG=warn "$haven" migrate >/dev/null
    echo "== $backend, $size messages"
    env DATABASE_URL="$url" HAVEN_LOG=warn "$haven" seed-demo --history --messages "$size"
    env DATABASE_URL="$url" HAVEN_LOG=warn HAVEN_SEND_RATE_PER_SEC=100000 HAVEN_SEND_BURST=100000 \
      taskset -c 0 "$haven" serve --addr "127.0.0.1:$port" >"$state/serve.log" 2>&1 &
    pid=$!
    for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
    if [ "$backend" = postgres ]; then
      # The database's own work counts as the server's: the same core.
      for p in $(pgrep -f "postgres.*regress" || true); do taskset -pc 0 "$p" >/dev/null 2>&1 || true; done
    fi
    taskset -c 1 node scripts/bench/scale.mjs "http://127.0.0.1:$port" "$runs"
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
    if grep -q "ERROR" "$state/serve.log"; then grep "ERROR" "$state/serve.log" | head -5; fi
    if [ "$backend" = sqlite ]; then rm -f "$state"/history-"$size".db*; fi
  done
done
