#!/usr/bin/env bash
# Time to a live connection on an emulated slow 3G link, before and after precompressed,
# content-hashed, cached assets: the same release build served twice, once from a copy of
# its site without the .br/.gz files (what Haven sent before: uncompressed; its repeat
# visit does get the new cache headers, so only its first visit is "before"), once as
# built. Results: docs/benchmarks.md.
#
#   scripts/bench-slow3g.sh [RUNS]     (make bench-slow3g)
set -euo pipefail
cd "$(dirname "$0")/.."
: "${CARGO_TARGET_DIR:=$HOME/.cache/haven/target}"
haven="$CARGO_TARGET_DIR/release/haven"
site=${LEPTOS_SITE_ROOT:-target/site-release}
[ -x "$haven" ] && [ -d "$site/pkg" ] || { echo "build first: make bench (or cargo leptos build --release)" >&2; exit 1; }
runs=${1:-3}
state=$(mktemp -d /tmp/haven-slow3g.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$state"; }
trap cleanup EXIT

# "Before": no precompressed files beside the assets.
cp -r "$site" "$state/site-before"
find "$state/site-before" \( -name '*.br' -o -name '*.gz' \) -delete

serve() { # SITE PORT EXTRA_ENV…
  local site=$1 port=$2; shift 2
  env DATABASE_URL="sqlite://$state/haven-$port.db" HAVEN_LOG=warn LEPTOS_SITE_ROOT="$site" "$@" \
    "$haven" seed-demo >/dev/null
  env DATABASE_URL="sqlite://$state/haven-$port.db" HAVEN_LOG=warn LEPTOS_SITE_ROOT="$site" "$@" \
    "$haven" serve --addr "127.0.0.1:$port" >/dev/null &
  pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return; sleep 0.1; done
  echo "server on $port did not start" >&2; exit 1
}

serve "$state/site-before" 3471
node scripts/bench/slow3g.mjs http://127.0.0.1:3471 before "$runs"
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=

serve "$PWD/$site" 3472
node scripts/bench/slow3g.mjs http://127.0.0.1:3472 after "$runs"
