# Sourced by the benchmarks that run Haven on a throwaway PostgreSQL with Redis
# (cluster.sh, groups.sh): helpers, a state folder whose processes stop at exit, a fresh
# database pinned with its server to CPU 0, Redis on CPU 0, and the environment that lifts
# Haven's per-user limits for a generator (a script sending for thousands of users).
# Needs HAVEN_TEST_DATABASE_URL (scripts/test/with-postgres.sh) and redis-server.

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
# A process's CPU so far, in clock ticks (user + system).
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
node_up() { for _ in $(seq 100); do curl -sf "$1/healthz" >/dev/null && return 0; sleep 0.2; done; return 1; }

state=$(mktemp -d /tmp/haven-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$state"; }
trap cleanup EXIT

# bench_database NAME: a fresh database NAME as DATABASE_URL; `postmaster` is its server,
# pinned (with every backend) to CPU 0.
bench_database() {
  psql "$HAVEN_TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"
  export DATABASE_URL="${HAVEN_TEST_DATABASE_URL%/*}/$1"
  postmaster=$(ss -ltnpH "sport = :${PGPORT:-5432}" | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2)
  local pid
  for pid in $postmaster $(pgrep -P "$postmaster"); do taskset -p -c 0 "$pid" >/dev/null; done
}

# start_redis: a Redis keeping nothing, on CPU 0: `redis_port`, `redis_pid`.
start_redis() {
  redis_port=$(free_port)
  taskset -c 0 redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$state" --logfile "$state/redis.log" &
  redis_pid=$!; pids+=("$redis_pid")
}

export HAVEN_LOG=warn LEPTOS_SITE_ROOT=$PWD/${LEPTOS_SITE_ROOT:-target/site-release}
export HAVEN_SEND_RATE_PER_SEC=1000000 HAVEN_SEND_BURST=1000000 HAVEN_TRUSTED_PROXIES=127.0.0.1
export HAVEN_REGISTRATIONS_PER_ADDRESS=1000000 HAVEN_LOGIN_FAILURES_PER_ADDRESS=1000000
