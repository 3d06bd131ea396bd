#!/usr/bin/env bash
# Idle memory over time: the reference and Haven each hold N idle authenticated sockets
# (over 1,000 accounts, as compare.sh's idleN) for DURATION seconds of socket.io pings, and
# their RSS is read right after connecting and at the end. Both run at once (pinned to CPU 0,
# generators on CPU 1): idle sockets cost little CPU, and the two runs see the same time.
#
#   scripts/bench/idle-long.sh [N] [DURATION]      # default 10000 sockets, 600 s (the
#                                                   # most ../shared/bench/load.mjs runs)
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-10000}
DURATION=${2:-600}
: "${CARGO_TARGET_DIR:=$HOME/.cache/haven/target}"
bench=$(cd "${HAVEN_BENCH_DIR:-../shared/bench}" && pwd)
haven="$CARGO_TARGET_DIR/release/haven"
state=$(mktemp -d /tmp/haven-idle.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill -- -"$p" 2>/dev/null || true; done; rm -rf "$state"' EXIT
export DATABASE_URL="sqlite://$state/haven.db"
"$haven" seed-demo --students 11000 --psychiatrists 11000 --prefix bench --password bench-password >/dev/null
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
rss() { awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
run() { # name, command
  local port url pid spid
  port=$(free_port) url="http://127.0.0.1:$port"
  PORT=$port HAVEN_ADDR=127.0.0.1:$port setsid taskset -c 0 bash -c "$2" >"$state/$1.log" 2>&1 &
  pid=$!; pids+=("$pid")
  until curl -s -o /dev/null -X POST "$url/api/auth/login" -H 'content-type: application/json' -d '{}'; do sleep 0.2; done
  spid=$(ss -ltnpH "sport = :$port" | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2)
  (cd "$bench" && taskset -c 1 node load.mjs --url "$url" --pairs 1 --rate 1 --warmup 1 --duration "$DURATION" \
    --idle "$N" --idle-users 1000 --prefix bench --password bench-password --server-pid "$spid" --label "$1 idle$N ${DURATION}s") \
    >"$state/$1.json" &
  local load=$!
  # Right after connecting: the generator has set up when the server's socket count stops rising.
  local before=0 now
  while kill -0 "$load" 2>/dev/null; do
    sleep 5; now=$(ss -tnH state established "sport = :$port" | wc -l)
    [ "$now" -gt "$N" ] && [ "$now" = "$before" ] && break; before=$now
  done
  echo "$1: $(rss "$spid") MB right after connecting $N sockets"
  wait "$load"
  echo "$1: $(node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1]));console.log(r.server_rss_mb, "MB after", process.argv[2], "s of pings; errors", r.errors)' "$state/$1.json" "$DURATION")"
}
run reference "exec node $bench/reference/server.mjs" &
run haven "exec env HAVEN_LOG=warn LEPTOS_SITE_ROOT=$PWD/${LEPTOS_SITE_ROOT:-target/site-release} $haven serve" &
wait
