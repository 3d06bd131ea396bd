#!/usr/bin/env bash
# `make bench`: every figure issue 29 sets a target for, in one run, then the table of
# targets (scripts/bench/targets.mjs). Each step keeps its raw rows in the run's directory
# (BENCH_RUN); a step that fails leaves its target "not measured" and the run goes on.
# Expects the release site built and precompressed (the Makefile does both first).
#
#   scripts/bench/all.sh     # LEVELS, PG_LEVELS, CLUSTER_LEVELS, CEILING_RATES, IDLE_S, RUNS
#                            # from the environment (the Makefile's defaults)
set -uo pipefail
cd "$(dirname "$0")/../.."
export BENCH_RUN=${BENCH_RUN:-$PWD/target/bench/run-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$BENCH_RUN"
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; "$@" || echo "(step failed: $*)"; }

step scripts/bench/wasm-size.sh "${LEPTOS_SITE_ROOT:-target/site-release}"
step scripts/bench/client-floor.sh "${LEPTOS_SITE_ROOT:-target/site-release}"
step scripts/bench-slow3g.sh "${RUNS:-3}"
# shellcheck disable=SC2086 # lists of levels
step scripts/bench.sh ${LEVELS:-100x10 100x100 idle10000}
# shellcheck disable=SC2086 # the socket layer alone, beside the CPU targets
step scripts/bench.sh --floor ${FLOOR_LEVELS:-100x10 100x100}
# shellcheck disable=SC2086
step scripts/bench.sh --postgres ${PG_LEVELS:-100x20}
# shellcheck disable=SC2086
step scripts/bench.sh --cluster ${CLUSTER_LEVELS:-100x20 100x50}
# shellcheck disable=SC2086
SERVERS="reference haven" step scripts/bench.sh --ceiling ${CEILING_RATES:-1500 2000 2500 3000 3500 4000 5000 6000 7500 9000 10500 12000}
if ceiling=$(node scripts/bench/targets.mjs --ceiling-of haven "$BENCH_RUN"); then
  OVERLOAD=1 SERVERS=haven step scripts/bench.sh --ceiling $((2 * ceiling))
fi
step scripts/bench/idle-long.sh 10000 "${IDLE_S:-900}"

printf '\n\033[1m==> issue 29 targets (raw rows: %s)\033[0m\n' "$BENCH_RUN"
node scripts/bench/targets.mjs "$BENCH_RUN"
