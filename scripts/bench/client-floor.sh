#!/usr/bin/env bash
# The client floors beside Haven's client, each built with Haven's crates, patches, flags and
# WASM profile, then the same wasm-bindgen and `wasm-opt -Oz` cargo-leptos runs on Haven's:
#   frontend/examples/client_floor.rs         a page built as Haven's is today: a router with a
#                                             parameter, a server-function resource, a live
#                                             list, an ActionForm, socket.io via wasm-bindgen
#   frontend/examples/client_floor_socket.rs  the live list and composer fed by the socket
#                                             alone: no client router, server function or
#                                             ActionForm (what an islands client starts from)
# and Haven's client built without islands (`--no-default-features`: every page hydrated
# whole, as before issue 29's seventh session), WASM + JS glue.
# Prints each WASM raw, gzip -9 and brotli 11; what is above a floor is Haven's own client.
#
#   scripts/bench/client-floor.sh [SITE_DIR]   (with BENCH_RUN set, also writes
#                                              $BENCH_RUN/client-floor.json)
set -euo pipefail
cd "$(dirname "$0")/../.."
site=${1:-target/site-release}
target_dir=${CARGO_TARGET_DIR:-target}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

sizes() { # file → "raw gzip brotli"
  echo "$(stat -c %s "$1") $(gzip -9c "$1" | wc -c) $(brotli -q 11 -c "$1" | wc -c)"
}
floor() { # example → "raw gzip brotli" of its shipped WASM
  cargo build -p frontend --example "$1" --target wasm32-unknown-unknown \
    --no-default-features --profile wasm-release --quiet
  wasm-bindgen --target=web --out-name="$1" --out-dir="$out" \
    "$target_dir/wasm32-unknown-unknown/wasm-release/examples/$1.wasm"
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    "$out/${1}_bg.wasm" -o "$out/$1.wasm"
  sizes "$out/$1.wasm"
}

whole() { # "raw gzip brotli" of Haven's WASM + JS hydrating every page whole (no islands)
  # The same output path as cargo-leptos's release WASM: its next build rebuilds it.
  cargo build -p frontend --lib --no-default-features --target wasm32-unknown-unknown \
    --profile wasm-release --quiet
  wasm-bindgen --target=web --out-name=whole --out-dir="$out" \
    "$target_dir/wasm32-unknown-unknown/wasm-release/frontend.wasm"
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    "$out/whole_bg.wasm" -o "$out/whole.wasm"
  local wr wg wb jr jg jb
  read -r wr wg wb <<<"$(sizes "$out/whole.wasm")"
  read -r jr jg jb <<<"$(sizes "$out/whole.js")"
  echo "$((wr + jr)) $((wg + jg)) $((wb + jb))"
}

haven=$(find "$site/pkg" -name '*.wasm' | head -1)
[ -n "$haven" ] || { echo "no release site in $site: cargo leptos build --release" >&2; exit 1; }
read -r h_raw h_gz h_br <<<"$(sizes "$haven")"
read -r f_raw f_gz f_br <<<"$(floor client_floor)"
read -r s_raw s_gz s_br <<<"$(floor client_floor_socket)"
read -r i_raw i_gz i_br <<<"$(whole)"
awk -v fr="$f_raw" -v fg="$f_gz" -v fb="$f_br" -v sr="$s_raw" -v sg="$s_gz" -v sb="$s_br" \
  -v hr="$h_raw" -v hg="$h_gz" -v hb="$h_br" -v ir="$i_raw" -v ig="$i_gz" -v ib="$i_br" 'BEGIN {
  printf "client floor WASM (as Haven is built): %d raw, %d gzip, %d brotli\n", fr, fg, fb
  printf "client floor WASM (socket alone):      %d raw, %d gzip, %d brotli\n", sr, sg, sb
  printf "Haven WASM:                            %d raw, %d gzip, %d brotli\n", hr, hg, hb
  printf "Haven above the first floor: %d gzip (%.0f%% of Haven)\n", hg - fg, 100 * (hg - fg) / hg
  printf "Haven without islands, WASM + JS:      %d raw, %d gzip, %d brotli (%.2fx the budget)\n", ir, ig, ib, ig / 250000 }'
if [ -n "${BENCH_RUN:-}" ]; then
  printf '{"floor": {"raw": %d, "gzip": %d, "brotli": %d}, "socket_floor": {"raw": %d, "gzip": %d, "brotli": %d}, "haven": {"raw": %d, "gzip": %d, "brotli": %d}, "whole": {"raw": %d, "gzip": %d, "brotli": %d}}\n' \
    "$f_raw" "$f_gz" "$f_br" "$s_raw" "$s_gz" "$s_br" "$h_raw" "$h_gz" "$h_br" "$i_raw" "$i_gz" "$i_br" >"$BENCH_RUN/client-floor.json"
fi
