#!/usr/bin/env bash
# Idle memory over time: the reference and Haven each hold N idle authenticated sockets
# (over 1,000 accounts, as compare.sh's idleN) for DURATION seconds of socket.io pings, and
# their RSS is read right after connecting and at the end (the issue: after 15 minutes). Both run at once (pinned to CPU 0,
# generators on CPU 1): idle sockets cost little CPU, and the two runs see the same time.
#
#   scripts/bench/idle-long.sh [N] [DURATION]      # default 10000 sockets, 900 s
#                                                   # (scripts/bench/idle-hold.mjs holds them)
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-10000}
DURATION=${2:-900}
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
  taskset -c 1 node scripts/bench/idle-hold.mjs "$url" "$spid" "$N" 1000 "$DURATION" >"$state/$1.json"
  node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1]));
    console.log(`${process.argv[2]}: ${r.rss_connected_mb} MB right after connecting ${r.sockets} sockets, ` +
      `${r.rss_end_mb} MB after ${r.duration_s} s of pings; ${r.disconnects} disconnected`)' "$state/$1.json" "$1"
}
run reference "exec node $bench/reference/server.mjs" &
run haven "exec env HAVEN_LOG=warn LEPTOS_SITE_ROOT=$PWD/${LEPTOS_SITE_ROOT:-target/site-release} $haven serve" &
wait
# For scripts/bench/targets.mjs (one `make bench` run's directory).
if [ -n "${BENCH_RUN:-}" ]; then
  node -e 'const fs = require("fs"); const [ref, haven, out] = process.argv.slice(1);
    fs.writeFileSync(out, JSON.stringify({ reference: JSON.parse(fs.readFileSync(ref)), haven: JSON.parse(fs.readFileSync(haven)) }) + "\n")' \
    "$state/reference.json" "$state/haven.json" "$BENCH_RUN/idle-long.json"
fi
