# Haven's commands. `make run` and `make test` set up whatever is missing first.
SHELL := /bin/bash

# Builds are slow on small machines: keep one target directory outside the checkout so that
# fresh clones (and CI) build incrementally.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/haven/target
export DATABASE_URL ?= sqlite://data/haven.db
# Release builds run wasm-opt: binaryen from npm (package.json pins it). Debian's binaryen
# 108 is too old for what Rust 1.95 and wasm-bindgen 0.2.130 emit; its output fails in the
# browser at start (`WebAssembly.Table.set(): Argument 1 is invalid`), so nothing hydrates.
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
# The built site (WASM, JS, CSS) that the server serves: one directory per profile, so that
# `make test` (debug) never replaces what a running `make run` (release) serves.
export LEPTOS_SITE_ROOT ?= target/site
SITE_RELEASE := target/site-release
# The crisis resources every screen shows (an example list; a service configures its own).
export HAVEN_CRISIS_RESOURCES ?= $(CURDIR)/docs/crisis-resources.example.toml

HAVEN_RELEASE := $(CARGO_TARGET_DIR)/release/haven
HAVEN_DEBUG := $(CARGO_TARGET_DIR)/debug/haven

.PHONY: run dev cluster test setup setup-cluster setup-test build lint site-isolation unit e2e bench bench-slow3g bench-scale bench-groups bench-push bench-overload

## run: build the release site and server, migrate, seed demo accounts, serve on SQLite
run: export LEPTOS_SITE_ROOT := $(SITE_RELEASE)
run: setup
	cargo leptos build --release
	scripts/precompress.sh $(SITE_RELEASE)
	$(HAVEN_RELEASE) migrate
	$(HAVEN_RELEASE) seed-demo
	$(HAVEN_RELEASE) serve

## cluster: two nodes on PostgreSQL and Redis behind HAProxy on http://127.0.0.1:8080, with
## the demo accounts (throwaway PostgreSQL and Redis if none run here; Ctrl-C stops it all)
cluster: export LEPTOS_SITE_ROOT := $(SITE_RELEASE)
cluster: setup-cluster
	cargo leptos build --release
	scripts/precompress.sh $(SITE_RELEASE)
	scripts/cluster.sh

## dev: rebuild and reload on every change
dev: setup
	$(HAVEN_DEBUG) migrate 2>/dev/null || true
	cargo leptos watch

## test: formatting, lints, site isolation, unit + integration tests, then Playwright in Chromium
test: setup-test lint site-isolation unit e2e

setup:
	scripts/setup.sh run

setup-cluster:
	scripts/setup.sh cluster

setup-test:
	scripts/setup.sh test

## build: debug site (WASM + CSS) and server, as the tests use them
build:
	cargo leptos build
	scripts/precompress.sh $(LEPTOS_SITE_ROOT) 5

lint:
	scripts/test/vendored.sh
	cargo fmt --all -- --check
	cargo clippy -p server -p app --all-targets -- -D warnings
	cargo clippy -p frontend --target wasm32-unknown-unknown --lib -- -D warnings
	# Without islands (every page hydrated whole; the client floors are built that way).
	cargo clippy -p server --no-default-features -- -D warnings
	cargo clippy -p frontend --target wasm32-unknown-unknown --lib --examples --no-default-features -- -D warnings

# The debug build never touches what `make run` serves (it rebuilds the debug site).
site-isolation:
	scripts/test/site-isolation.sh

# The whole Rust suite twice: on SQLite, then on a throwaway PostgreSQL cluster (with the
# PostgreSQL-only tests, which the SQLite run lists as ignored); then the patched crates'
# own suites (vendor/PATCHES.md). Most integration tests wait
# on sockets and timers, not the CPU: three at a time instead of one per core (six left the
# sign-in throttle's tests too little CPU; docs/decisions.md).
unit: export RUST_TEST_THREADS ?= 3
unit: build
	cargo test -p server -p app
	HAVEN_TEST_BACKEND=postgres scripts/test/with-postgres.sh \
	  cargo test -p server -p app -- --include-ignored
	scripts/test/vendored-suites.sh

# The whole browser suite on one node, then the run through the balancer (two nodes on
# PostgreSQL and Redis: scripts/cluster.sh starts throwaway ones when none run here).
e2e: build
	cd end2end && npx playwright test
	cd end2end && npx playwright test -c playwright.cluster.config.ts

## bench: every figure issue 29 sets a target for, in one run, ending with the table of
## targets (scripts/bench/all.sh; raw rows in target/bench/run-*): the WASM's size, slow 3G,
## Haven and the socket floor vs the Node/socket.io reference (../shared/bench) on SQLite,
## on PostgreSQL, one node against two behind HAProxy, both ceilings at the same CPU budget,
## Haven at twice its own, and 10,000 idle sockets after IDLE_S seconds of pings. About an
## hour; results in docs/benchmarks.md
LEVELS ?= 100x10 100x100 idle10000
PG_LEVELS ?= 100x20
CLUSTER_LEVELS ?= 100x20 100x50
CEILING_RATES ?= 1500 2000 2500 3000 3500 4000 5000 6000 7500 9000 10500 12000
IDLE_S ?= 900
RUNS ?= 3
bench: export LEPTOS_SITE_ROOT := $(SITE_RELEASE)
bench: setup-test
	cargo leptos build --release
	scripts/precompress.sh $(SITE_RELEASE)
	LEVELS="$(LEVELS)" PG_LEVELS="$(PG_LEVELS)" CLUSTER_LEVELS="$(CLUSTER_LEVELS)" \
	  CEILING_RATES="$(CEILING_RATES)" IDLE_S="$(IDLE_S)" RUNS="$(RUNS)" scripts/bench/all.sh

## bench-overload: each server's ceiling at the same CPU budget, then Haven at OVERLOAD_RATES
## (set it to twice the ceiling the first step finds): `busy` answers offered again as the
## browser does (docs/benchmarks.md)
OVERLOAD_RATES ?= 6000
bench-overload: export LEPTOS_SITE_ROOT := $(SITE_RELEASE)
bench-overload: setup-test
	cargo build --release -p server --bin haven
	SERVERS="reference haven" scripts/bench.sh --ceiling $(CEILING_RATES)
	OVERLOAD=1 SERVERS=haven scripts/bench.sh --ceiling $(OVERLOAD_RATES)

## bench-scale: every page and socket operation with 3 thousand, 300 thousand and 3 million
## messages of synthetic history, on SQLite and on PostgreSQL (docs/benchmarks.md)
SCALE_SIZES ?= 3000 300000 3000000
bench-scale: setup-test
	cargo build --release -p server --bin haven
	scripts/bench/scale.sh $(SCALE_SIZES)

## bench-groups: support groups (12 members, a message every 3 s each) next to one-to-one
## conversations at the same message rate, on one node and on two (docs/benchmarks.md)
bench-groups: setup-test
	cargo build --release -p server --bin haven
	scripts/test/with-postgres.sh scripts/bench/groups.sh

## bench-push: what a Web Push reminder costs (a push per message, reminders coalesced,
## readers without devices), against a push service on loopback (docs/benchmarks.md)
bench-push: setup-test
	cargo build --release -p server --bin haven
	scripts/bench/push.sh

## bench-slow3g: time to a live connection on emulated slow 3G, before/after precompression
bench-slow3g: export LEPTOS_SITE_ROOT := $(SITE_RELEASE)
bench-slow3g: setup-test
	cargo leptos build --release
	scripts/precompress.sh $(SITE_RELEASE)
	scripts/bench-slow3g.sh $(RUNS)
