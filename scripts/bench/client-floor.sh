#!/usr/bin/env bash
# The client floor beside Haven's client: frontend/examples/client_floor.rs (a router with a
# parameter, a server-function resource, a live list, a form, socket.io through wasm-bindgen;
# nothing of Haven) built with Haven's crates, patches, flags and WASM profile, then the same
# wasm-bindgen and `wasm-opt -Oz` cargo-leptos runs on Haven's. Prints both WASMs raw, gzip -9
# and brotli 11; what is above the floor is Haven's own client.
#
#   scripts/bench/client-floor.sh [SITE_DIR]   (with BENCH_RUN set, also writes
#                                              $BENCH_RUN/client-floor.json)
set -euo pipefail
cd "$(dirname "$0")/../.."
site=${1:-target/site-release}
target_dir=${CARGO_TARGET_DIR:-target}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

cargo build -p frontend --example client_floor --target wasm32-unknown-unknown \
  --profile wasm-release --quiet
wasm-bindgen --target=web --out-name=floor --out-dir="$out" \
  "$target_dir/wasm32-unknown-unknown/wasm-release/examples/client_floor.wasm"
wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
  "$out/floor_bg.wasm" -o "$out/floor.wasm"

sizes() { # file → "raw gzip brotli"
  echo "$(stat -c %s "$1") $(gzip -9c "$1" | wc -c) $(brotli -q 11 -c "$1" | wc -c)"
}
read -r f_raw f_gz f_br <<<"$(sizes "$out/floor.wasm")"
haven=$(find "$site/pkg" -name '*.wasm' | head -1)
[ -n "$haven" ] || { echo "no release site in $site: cargo leptos build --release" >&2; exit 1; }
read -r h_raw h_gz h_br <<<"$(sizes "$haven")"
awk -v fr="$f_raw" -v fg="$f_gz" -v fb="$f_br" -v hr="$h_raw" -v hg="$h_gz" -v hb="$h_br" 'BEGIN {
  printf "client floor WASM: %d raw, %d gzip, %d brotli\n", fr, fg, fb
  printf "Haven WASM:        %d raw, %d gzip, %d brotli\n", hr, hg, hb
  printf "Haven above the floor: %d gzip (%.0f%% of Haven)\n", hg - fg, 100 * (hg - fg) / hg }'
if [ -n "${BENCH_RUN:-}" ]; then
  printf '{"floor": {"raw": %d, "gzip": %d, "brotli": %d}, "haven": {"raw": %d, "gzip": %d, "brotli": %d}}\n' \
    "$f_raw" "$f_gz" "$f_br" "$h_raw" "$h_gz" "$h_br" >"$BENCH_RUN/client-floor.json"
fi
