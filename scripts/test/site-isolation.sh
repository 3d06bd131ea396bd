#!/usr/bin/env bash
# A test run must not change what a running `make run` serves. `make test` builds the debug
# site; `make run` serves the release one. Each profile has its own site directory and its
# own hash.txt (beside its binary), so the debug build may write neither release file.
#
# Checked for real: the site roots are read from make's own evaluation of the Makefile, the
# debug site is rebuilt from scratch exactly as `make build` does, and every byte of the
# release site (or, on a machine without a release build, a stand-in directory) and the
# release hash.txt must be unchanged afterwards.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${CARGO_TARGET_DIR:?run through make, which sets CARGO_TARGET_DIR}"

fail() { echo "site isolation: FAIL: $*" >&2; exit 1; }

# awk reads to the end: exiting early would kill make with SIGPIPE.
debug_root=$(make -pn build 2>/dev/null | awk '$1 == "LEPTOS_SITE_ROOT" && $2 == "=" && !n++ { print $3 }')
release_root=$(make -pn run 2>/dev/null | awk '$1 == "run:" && $2 == "LEPTOS_SITE_ROOT" && !n++ { print $4 }')
[ -n "$debug_root" ] || fail "no site root for the debug build in the Makefile"
[ -n "$release_root" ] || fail "make run sets no site root of its own"
[ "$(realpath -m "$debug_root")" != "$(realpath -m "$release_root")" ] ||
  fail "make run and make test share $debug_root"

stand_in=
if [ ! -d "$release_root" ]; then
  stand_in=1
  mkdir -p "$release_root/pkg"
fi
canary="$release_root/pkg/.site-isolation-canary"
head -c 16 /dev/urandom | od -An -tx1 > "$canary"
cleanup() {
  rm -f "$canary"
  if [ -n "$stand_in" ]; then rm -rf "$release_root"; fi
}
trap cleanup EXIT

release_hash="$CARGO_TARGET_DIR/release/hash.txt"
fingerprint() {
  find "$release_root" -type f -print0 | sort -z | xargs -0 sha256sum
  if [ -f "$release_hash" ]; then sha256sum "$release_hash"; else echo "no $release_hash"; fi
}
before=$(fingerprint)

# Force the debug build to write its whole site again.
rm -rf "$debug_root/pkg"
cargo leptos build
scripts/precompress.sh "$debug_root" 5
compgen -G "$debug_root/pkg/*.wasm" >/dev/null || fail "the debug build wrote no site to $debug_root"

after=$(fingerprint)
if [ "$before" != "$after" ]; then
  diff <(echo "$before") <(echo "$after") >&2 || true
  fail "the debug build changed what make run serves ($release_root, $release_hash)"
fi
echo "site isolation: ok (debug site $debug_root rebuilt; release site $release_root${stand_in:+ (stand-in)} and its hash.txt unchanged)"
