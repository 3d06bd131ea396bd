#!/usr/bin/env bash
# The patched crates' own test suites (vendor/PATCHES.md): engineioxide's (heartbeat,
# volatile, polling, disconnect reasons, and the outbox of patch 6) and tungstenite's
# (frame reading and writing, patches 5 and 7). Each runs on a copy outside the workspace,
# with its published Cargo.lock, the other patches applied, and a target directory of its own.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
work=${CARGO_TARGET_DIR:-$HOME/.cache/haven/target}/vendored-suites
run() { # crate, patch lines, cargo test arguments…
  local crate=$1 patches=$2; shift 2
  rm -rf "$work/src/$crate" && mkdir -p "$work/src"
  cp -r "vendor/$crate" "$work/src/$crate"
  printf '\n[workspace]\n%s' "$patches" >>"$work/src/$crate/Cargo.toml"
  (cd "$work/src/$crate" && CARGO_TARGET_DIR="$work/target" cargo test --quiet "$@")
}
run tungstenite "" --all-features
run engineioxide "
[patch.crates-io]
engineioxide-core = { path = \"$root/vendor/engineioxide-core\" }
tungstenite = { path = \"$root/vendor/tungstenite\" }
" --features __test_harness,v3
