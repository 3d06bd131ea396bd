#!/usr/bin/env bash
# What a first visit downloads of the app itself: the release WASM and its JS glue, raw,
# gzip -9 and brotli 11 (as scripts/precompress.sh writes them), against issue 29's budget of
# 250 KB gzip. Run after `cargo leptos build --release` and scripts/precompress.sh.
#
#   scripts/bench/wasm-size.sh [SITE_DIR]     (with BENCH_RUN set, also writes $BENCH_RUN/wasm.json)
set -euo pipefail
site=${1:-target/site-release}
budget=$((250 * 1000))
total() { # suffix: '' raw, .gz, .br
  local sum=0 f
  for f in "$site"/pkg/*.wasm "$site"/pkg/*.js; do
    [ -e "$f$1" ] && sum=$((sum + $(stat -c %s "$f$1")))
  done
  echo "$sum"
}
raw=$(total "") gz=$(total .gz) br=$(total .br)
[ "$raw" -gt 0 ] || { echo "no release site in $site: cargo leptos build --release" >&2; exit 1; }
awk -v raw="$raw" -v gz="$gz" -v br="$br" -v budget="$budget" 'BEGIN {
  printf "WASM + JS: %d bytes raw, %d gzip, %d brotli (budget %d gzip: %.2fx)\n", raw, gz, br, budget, gz / budget }'
if [ -n "${BENCH_RUN:-}" ]; then
  printf '{"raw": %d, "gzip": %d, "brotli": %d}\n' "$raw" "$gz" "$br" >"$BENCH_RUN/wasm.json"
fi
