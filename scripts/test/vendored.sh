#!/usr/bin/env bash
# The patched crates in vendor/ (the socket layer's engineioxide, engineioxide-core and the
# tungstenite they use; Leptos' view layer tachys; vendor/PATCHES.md) are the ones built:
# each must appear in Cargo.lock as a path package (no registry `source`). An upgrade of
# socketioxide or Leptos that wants another version would otherwise drop the patches with
# only a warning ("patch was not used").
set -euo pipefail
cd "$(dirname "$0")/../.."
status=0
for crate in engineioxide engineioxide-core tungstenite tachys; do
  version=$(awk -F'"' '/^version/ { print $2; exit }' "vendor/$crate/Cargo.toml")
  # The entry of that name and version (Cargo.lock may hold other versions from the registry).
  entry=$(awk -v name="$crate" -v version="$version" '$0 == "name = \"" name "\"" {
    getline v; if (v == "version = \"" version "\"") { getline s; print v "|" s } }' Cargo.lock)
  case $entry in
    "version = \"$version\"|"*source*) echo "vendored.sh: $crate $version is taken from the registry, not vendor/" >&2; status=1 ;;
    "version = \"$version\"|"*) ;;
    *) echo "vendored.sh: Cargo.lock has no $crate $version (vendor/$crate unused): $entry" >&2; status=1 ;;
  esac
done
exit $status
