#!/usr/bin/env bash
# Installs what building (and with `test`, testing) Haven needs. Idempotent: every step
# checks first and skips what is already there. Everything comes from crates.io, npm and
# Debian's packages (no GitHub downloads: cargo-leptos would try them for missing tools).
#
#   scripts/setup.sh run    # Rust wasm target, cargo-leptos, wasm-bindgen CLI, wasm-opt (npm)
#   scripts/setup.sh cluster  # the above, plus PostgreSQL, Redis and HAProxy (several nodes
#                             # on one machine: scripts/cluster.sh)
#   scripts/setup.sh test     # the above, plus Chromium and the Playwright npm packages
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-run}
CARGO_LEPTOS_VERSION=0.3.10
# The CLI must match the wasm-bindgen crate exactly; Cargo.lock pins the crate.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=
apt_install() {
  [ -n "$apt_updated" ] || { as_root apt-get update -qq; apt_updated=1; }
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32 target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "$CARGO_LEPTOS_VERSION" ]; then
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 15 minutes on 2 cores, once)"
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
fi

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # Not --locked: its lock file names a dependency version the index no longer serves.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

# The built site is served precompressed (scripts/precompress.sh).
if ! command -v brotli >/dev/null; then
  say "installing brotli (precompressed assets)"
  apt_install brotli
fi

# The browser's Socket.IO client (the official npm package, served as a static file) and
# binaryen's wasm-opt for release builds (the Makefile puts node_modules/.bin first on PATH:
# Debian's binaryen is too old for today's Rust WASM and breaks it).
if [ ! -x node_modules/.bin/wasm-opt ] || [ ! -d node_modules/socket.io-client ] ||
  [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing socket.io-client and binaryen (npm ci)"
  npm ci --no-audit --no-fund
fi
# Its file name carries the version (app::SOCKET_IO_SCRIPT names it), so it is cached for good.
sio_version=$(node -p 'require("./node_modules/socket.io-client/package.json").version')
mkdir -p public/vendor
find public/vendor -name 'socket.io*.js' ! -name "socket.io-$sio_version.min.js" -delete
cp -u node_modules/socket.io-client/dist/socket.io.min.js "public/vendor/socket.io-$sio_version.min.js"

if [ "$mode" = test ] || [ "$mode" = cluster ]; then
  # The tests start throwaway PostgreSQL clusters (scripts/test/with-postgres.sh).
  if ! command -v pg_virtualenv >/dev/null || ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
    say "installing PostgreSQL from Debian (throwaway test clusters only)"
    # Only the programs: no cluster of its own running on the machine.
    if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
      as_root mkdir -p /etc/postgresql-common
      echo "create_main_cluster = false" | as_root tee /etc/postgresql-common/createcluster.conf >/dev/null
    fi
    apt_install postgresql
  fi
  # Several nodes: throwaway Redis servers and the load balancer (never started as services).
  if ! command -v redis-server >/dev/null || ! command -v haproxy >/dev/null; then
    say "installing Redis and HAProxy from Debian (several nodes)"
    apt_install redis-server haproxy
  fi
fi

if [ "$mode" = test ]; then
  if [ ! -x /usr/bin/chromium ]; then
    say "installing Chromium from Debian"
    apt_install chromium
  fi
  if [ ! -d end2end/node_modules ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    say "installing Playwright (npm ci; browsers come from Debian, not downloaded)"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  fi
fi
