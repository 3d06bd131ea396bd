#!/usr/bin/env bash
# Starts Haven as two nodes behind HAProxy (scripts/cluster.sh) for the Playwright run through
# the balancer: the debug build and its site, the same test psychiatrist and limits as
# serve.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${CARGO_TARGET_DIR:=$HOME/.cache/haven/target}"
export HAVEN_BIN="$CARGO_TARGET_DIR/debug/haven"
export LEPTOS_SITE_ROOT=target/site
export HAVEN_LOG=${HAVEN_LOG:-warn}
export HAVEN_CRISIS_RESOURCES=${HAVEN_CRISIS_RESOURCES:-docs/crisis-resources.example.toml}
export HAVEN_SEND_BURST=200 HAVEN_REGISTRATIONS_PER_ADDRESS=10000
export CLUSTER_PORT=${HAVEN_E2E_CLUSTER_PORT:-3467} NODE_PORTS="3468 3469"
# A Redis of the run's own, which a test stops and starts again.
export CLUSTER_REDIS_PORT=3470
export CLUSTER_AFTER_SEED="echo synthetic-e2e-password | '$HAVEN_BIN' user add --role psychiatrist \
  --username dr.e2e --display-name 'Dr. Edda Synthetic' --bio 'Synthetic account for tests.'"
exec scripts/cluster.sh
