#!/usr/bin/env bash
# Each server's highest delivered rate with p99 delivery under 100 ms, at the same CPU budget.
#
# On this 2-core machine one core cannot both run a server flat out and drive it: the
# generator's core saturates first (~15k msg/s). So each server gets a fixed share of CPU 0
# (a CPU cgroup: $CAP cores, 10 ms period, and a high weight so the generator never takes
# its share), and the generator runs as $WORKERS processes over CPU 1 and what is left of
# CPU 0 (scripts/bench/ceiling.mjs). Rates climb until a level fails: loss, duplicates,
# errors, p99 ≥ 100 ms, or less than 98% of the offered rate delivered.
#
#   SERVERS='reference haven' CAP=0.5 scripts/bench/ceiling.sh 2000 4000 6000 8000
#   OVERLOAD=1 SERVERS=haven scripts/bench/ceiling.sh 15000   # past the ceiling: every rate is
#       run (no climbing stop), `busy` answers are offered again as the browser does, and a
#       level passes when nothing is lost and the accepted messages' p99 is under 500 ms; the
#       drain waits up to 100 s, longer than any pause a `busy` answer may ask for (30 s,
#       +50% jitter), so a message still waiting to be offered again is not counted lost
#
# Server commands come from the environment: REFERENCE_CMD, HAVEN_CMD, FLOOR_CMD (each a shell
# command line that listens on 127.0.0.1:$PORT and accepts the bench accounts). Needs a
# writable cgroup CPU controller (v1 or v2), i.e. root on this machine.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
CAP=${CAP:-0.5}
WORKERS=${WORKERS:-2}
PAIRS=${PAIRS:-100}
DURATION=${DURATION:-10}
read -r -a SERVERS <<<"${SERVERS:-reference haven}"
RATES=("${@:-2000 4000 6000 8000 10000 12000 14000}")
read -r -a RATES <<<"${RATES[*]}"
out="$here/results/ceiling-$(date +%Y%m%d-%H%M%S).jsonl"
mkdir -p "$here/results"

period=10000
quota=$(python3 -c "print(int($CAP * $period))")
if [ -d /sys/fs/cgroup/cpu ] && [ -w /sys/fs/cgroup/cpu ]; then
  cg=/sys/fs/cgroup/cpu/haven-bench-$$
  mkdir "$cg"
  echo "$period" >"$cg/cpu.cfs_period_us"
  echo "$quota" >"$cg/cpu.cfs_quota_us"
  echo 262144 >"$cg/cpu.shares"
elif [ -f /sys/fs/cgroup/cgroup.controllers ] && [ -w /sys/fs/cgroup ]; then
  cg=/sys/fs/cgroup/haven-bench-$$
  mkdir "$cg"
  echo "$quota $period" >"$cg/cpu.max"
  echo 10000 >"$cg/cpu.weight"
else
  echo "ceiling.sh needs a writable CPU cgroup (run as root)" >&2
  exit 1
fi
trap 'rmdir "$cg" 2>/dev/null || true' EXIT

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_up() {
  for _ in $(seq 1 300); do
    curl -sS -o /dev/null -X POST "$1/api/auth/login" -H 'content-type: application/json' -d '{}' 2>/dev/null && return 0
    sleep 0.2
  done
  return 1
}

for name in "${SERVERS[@]}"; do
  var="$(tr '[:lower:]' '[:upper:]' <<<"$name")_CMD"
  cmd=${!var:?"$var is not set"}
  for rate in "${RATES[@]}"; do
    port=$(free_port)
    url="http://127.0.0.1:$port"
    # The shell joins the cgroup, then becomes the server: every thread it starts is inside.
    CMD=$cmd PORT=$port HAVEN_ADDR=127.0.0.1:$port \
      setsid bash -c 'echo $$ >"$0/cgroup.procs" && exec taskset -c 0 bash -c "$CMD"' "$cg" \
      >"$here/results/$name.log" 2>&1 &
    pid=$!
    if ! wait_up "$url"; then
      echo "$name did not start: $(tail -n 2 "$here/results/$name.log")" >&2
      kill -- -"$pid" 2>/dev/null || true
      break
    fi
    spid=$(ss -ltnpH "sport = :$port" | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2)
    line=$(node "$here/ceiling.mjs" --url "$url" --pairs "$PAIRS" --rate $((rate / PAIRS)) \
      --duration "$DURATION" --workers "$WORKERS" --cpus 1,0 --server-pid "${spid:-$pid}" \
      --busy-retry "${OVERLOAD:-0}" --drain-s "$([ -n "${OVERLOAD:-}" ] && echo 100 || echo 5)" \
      --label "$name cap$CAP $rate/s" || true)
    kill -- -"$pid" 2>/dev/null || true
    sleep 0.5
    kill -9 -- -"$pid" 2>/dev/null || true
    echo "$line" | tee -a "$out"
    # For scripts/bench/targets.mjs (one `make bench` run's directory).
    if [ -n "${BENCH_RUN:-}" ]; then
      echo "$line" >>"$BENCH_RUN/$([ -n "${OVERLOAD:-}" ] && echo overload || echo ceiling).jsonl"
    fi
    # Stop climbing at the first level this server does not sustain.
    [ -n "${OVERLOAD:-}" ] && continue
    node -e '
      const r = JSON.parse(process.argv[1]);
      const ok = !r.fatal && !r.lost && !r.duplicates && !r.errors && r.delivery_ms?.p99 < 100
        && r.throughput_msgs_per_s >= 0.98 * r.offered_msgs_per_s;
      process.exit(ok ? 0 : 1);' "$line" || break
  done
done

node -e '
const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").filter(Boolean).map(JSON.parse);
const f = (v) => (v === null || v === undefined ? "-" : String(v));
const head = ["run", "offered/s", "deliv/s", "p50 ms", "p99 ms", "lost", "dup", "err", "busy", "busy p99", "1st offer p99", "srv cpu", "srv us/msg", "gen cpu", "core0", "core1", "rss MB"];
const out = [head, ...rows.map((r) => r.fatal ? [r.label, "FATAL: " + r.fatal] : [r.label, r.offered_msgs_per_s, r.throughput_msgs_per_s, r.delivery_ms?.p50, r.delivery_ms?.p99, r.lost, r.duplicates, r.errors, r.busy, r.busy_ack_ms?.p99, r.delivery_first_offer_ms?.p99, r.server_cpu_util, r.server_cpu_us_per_msg, r.generator_cpu_util, r.cores_busy?.cpu0, r.cores_busy?.cpu1, r.server_rss_mb].map(f))];
const w = head.map((_, i) => Math.max(...out.map((row) => String(row[i] ?? "").length)));
for (const row of out) console.log(row.map((c, i) => String(c ?? "").padEnd(w[i])).join("  "));
' "$out"
echo "raw: $out"
