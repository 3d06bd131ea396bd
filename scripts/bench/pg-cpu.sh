#!/usr/bin/env bash
# Prints the CPU time (clock ticks, user + system) a PostgreSQL server has used so far: the
# postmaster's own, that of its children it has reaped (backends that ended), and that of
# its children still running.
#
#   scripts/bench/pg-cpu.sh POSTMASTER_PID
set -euo pipefail
postmaster=$1
# Fields 14-17 of /proc/PID/stat: utime, stime, cutime, cstime (the process name, field 2,
# has no spaces for postgres processes).
total=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$postmaster/stat")
for child in $(pgrep -P "$postmaster"); do
  total=$((total + $(awk '{ print $14 + $15 }' "/proc/$child/stat" 2>/dev/null || echo 0)))
done
echo "$total"
