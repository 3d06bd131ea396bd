#!/usr/bin/env bash
# Starts Haven for the Playwright run: a fresh SQLite file, one psychiatrist created the way
# an administrator does it (CLI, password on stdin), the debug build's site.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${CARGO_TARGET_DIR:=$HOME/.cache/haven/target}"
haven="$CARGO_TARGET_DIR/debug/haven"
state=end2end/.e2e
rm -rf "$state" && mkdir -p "$state"
export DATABASE_URL="sqlite://$state/haven.db"
export LEPTOS_SITE_ROOT=target/site
export HAVEN_LOG=${HAVEN_LOG:-warn}
export HAVEN_CRISIS_RESOURCES=${HAVEN_CRISIS_RESOURCES:-docs/crisis-resources.example.toml}
# The e2e suite sends dozens of messages quickly to test history paging; the send-rate
# limit itself is covered by the integration tests.
export HAVEN_SEND_BURST=${HAVEN_SEND_BURST:-200}
# Every test registers students from this one address; the registration throttle itself is
# covered by the integration tests. The public URL is the one Playwright browses.
export HAVEN_REGISTRATIONS_PER_ADDRESS=${HAVEN_REGISTRATIONS_PER_ADDRESS:-10000}
# A shared computer's inactivity limit short enough to watch it end in a test (the only
# sessions that use it are that test's).
export HAVEN_SHARED_IDLE_SECS=${HAVEN_SHARED_IDLE_SECS:-20}
# Web Push: the push spec runs its push service on loopback (never set in a real service).
export HAVEN_PUSH_ALLOW_LOOPBACK=true
export HAVEN_PUBLIC_URL="http://127.0.0.1:${HAVEN_E2E_PORT:-3457}"
echo "synthetic-e2e-password" | "$haven" user add --role psychiatrist --username dr.e2e \
  --display-name "Dr. Edda Synthetic" --bio "Synthetic account for tests."
exec "$haven" serve --addr "127.0.0.1:${HAVEN_E2E_PORT:-3457}"
