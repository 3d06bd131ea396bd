#!/usr/bin/env bash
# Writes a brotli (.br) and a gzip (.gz) copy beside every script, WASM and stylesheet of a
# built site, which the server sends to browsers that accept them (tower-http's ServeDir).
#
#   scripts/precompress.sh SITE_DIR [BROTLI_QUALITY]
#
# Quality 11 (the default) is for release builds; a debug WASM is large and changes often,
# so the test build uses a faster setting.
set -euo pipefail
site=${1:?usage: scripts/precompress.sh SITE_DIR [BROTLI_QUALITY]}
quality=${2:-11}
find "$site" -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' \) -print0 |
  while IFS= read -r -d '' file; do
    brotli --force --keep --quality="$quality" --output="$file.br" -- "$file"
    gzip --force --keep --best -- "$file"
  done
