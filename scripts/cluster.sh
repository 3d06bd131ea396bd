#!/usr/bin/env bash
# Haven as several nodes on one machine, to see it work: PostgreSQL and Redis (the ones
# running here, or throwaway instances if none are), two Haven nodes, and HAProxy in front
# of them on one URL (deploy/haproxy.cfg), with the demo accounts. Ctrl-C stops it all.
#
#   scripts/cluster.sh                 # `make cluster` builds the release binary first
#
# Settings (environment): HAVEN_BIN (default: the release binary), CLUSTER_PORT (8080),
# NODE_PORTS ("3001 3002"), DATABASE_URL (a postgres:// URL to use instead),
# HAVEN_REDIS_URL (a Redis to use instead), CLUSTER_REDIS_PORT (a throwaway Redis on this
# port, even if one runs here), CLUSTER_AFTER_SEED (a command run once the
# database is ready).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${CARGO_TARGET_DIR:=$HOME/.cache/haven/target}"
HAVEN_BIN=${HAVEN_BIN:-$CARGO_TARGET_DIR/release/haven}
CLUSTER_PORT=${CLUSTER_PORT:-8080}
read -r -a node_ports <<<"${NODE_PORTS:-3001 3002}"
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
[ -x "$HAVEN_BIN" ] || { echo "no $HAVEN_BIN: build first (make cluster does)" >&2; exit 1; }
command -v haproxy >/dev/null || { echo "haproxy not found: scripts/setup.sh cluster" >&2; exit 1; }

# PostgreSQL: the given one, the one running here, or a throwaway cluster for this run.
if [[ "${DATABASE_URL:-}" != postgres* ]]; then
  if [ -n "${HAVEN_TEST_DATABASE_URL:-}" ]; then
    server=$HAVEN_TEST_DATABASE_URL
  elif pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && psql -h 127.0.0.1 -U postgres -qtAc 'select 1' postgres >/dev/null 2>&1; then
    server=postgres://postgres@127.0.0.1:5432/postgres
  else
    say "no PostgreSQL running: a throwaway cluster for this run"
    exec scripts/test/with-postgres.sh "$0" "$@"
  fi
  db=haven_cluster_$$
  psql "$server" -qc "CREATE DATABASE $db"
  export DATABASE_URL="${server%/*}/$db"
  drop_db() { psql "$server" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" 2>/dev/null || true; }
else
  drop_db() { :; }
fi

state=$(mktemp -d /tmp/haven-cluster.XXXXXX)
pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  drop_db
  rm -rf "$state"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Redis: the given one, the one running here, or a throwaway one (keeps nothing on disk;
# always, on CLUSTER_REDIS_PORT when that is set).
if [ -z "${HAVEN_REDIS_URL:-}" ]; then
  if [ -z "${CLUSTER_REDIS_PORT:-}" ] && redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    export HAVEN_REDIS_URL=redis://127.0.0.1:6379/0
  else
    command -v redis-server >/dev/null || { echo "redis-server not found: scripts/setup.sh cluster" >&2; exit 1; }
    port=${CLUSTER_REDIS_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
    say "no Redis running: a throwaway one on port $port"
    redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$state" \
      --logfile "$state/redis.log" &
    pids+=($!)
    export HAVEN_REDIS_URL=redis://127.0.0.1:$port/0
    for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  fi
fi

"$HAVEN_BIN" migrate >/dev/null
"$HAVEN_BIN" seed-demo
# A caller's own accounts (the Playwright run adds its psychiatrist), with DATABASE_URL set.
if [ -n "${CLUSTER_AFTER_SEED:-}" ]; then bash -c "$CLUSTER_AFTER_SEED"; fi

public=http://127.0.0.1:$CLUSTER_PORT
export HAVEN_PUBLIC_URL=$public HAVEN_TRUSTED_PROXIES=127.0.0.1
export LEPTOS_SITE_ROOT=${LEPTOS_SITE_ROOT:-target/site-release}
names=(a b)
for i in "${!node_ports[@]}"; do
  HAVEN_ADDR=127.0.0.1:${node_ports[$i]} "$HAVEN_BIN" serve >"$state/node-${names[$i]}.out" &
  pids+=($!)
done
for port in "${node_ports[@]}"; do
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
done
HAVEN_LISTEN=127.0.0.1:$CLUSTER_PORT HAVEN_NODE_A=127.0.0.1:${node_ports[0]} \
  HAVEN_NODE_B=127.0.0.1:${node_ports[1]} haproxy -db -f deploy/haproxy.cfg &
pids+=($!)
for _ in $(seq 50); do curl -sf "$public/healthz" >/dev/null && break; sleep 0.2; done
say "Haven on two nodes (127.0.0.1:${node_ports[0]}, 127.0.0.1:${node_ports[1]}) behind HAProxy"
say "Open $public  (PostgreSQL database ${DATABASE_URL##*/}, Redis $HAVEN_REDIS_URL)"
echo "Haven cluster is listening on $public"
# Until Ctrl-C: a node that dies (try `kill -9` on one) leaves the rest serving.
wait
