// Issue 29's targets against one `make bench` run: reads what each step wrote into the run's
// directory (BENCH_RUN, see scripts/bench/all.sh) and prints one row per target with the
// figure, the bound and whether it holds. A step that did not run shows "not measured".
//
//   node scripts/bench/targets.mjs RUN_DIR
//   node scripts/bench/targets.mjs --ceiling-of haven RUN_DIR   # that server's ceiling, msg/s
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const args = process.argv.slice(2);
const ceilingOf = args[0] === "--ceiling-of" ? args[1] : null;
const dir = args[args.length - 1];

const file = (name) => join(dir, name);
const jsonl = (name) =>
  existsSync(file(name))
    ? readFileSync(file(name), "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line))
    : [];
const json = (name) => (existsSync(file(name)) ? JSON.parse(readFileSync(file(name), "utf8")) : null);

/** The row of `server` at `level` in a compare run (labels are "<server> <level>"). */
const row = (rows, server, level) => rows.find((r) => r.label === `${server} ${level}` && !r.fatal);

/** The highest rate `server` sustained in the ceiling run: loss-free, p99 < 100 ms, ≥ 98% delivered. */
function ceiling(server) {
  const passed = jsonl("ceiling.jsonl").filter(
    (r) =>
      r.label?.startsWith(`${server} `) && !r.fatal && !r.lost && !r.duplicates && !r.errors &&
      r.delivery_ms?.p99 < 100 && r.throughput_msgs_per_s >= 0.98 * r.offered_msgs_per_s,
  );
  return passed.length ? Math.max(...passed.map((r) => r.offered_msgs_per_s)) : null;
}

if (ceilingOf) {
  const found = ceiling(ceilingOf);
  if (!found) process.exit(1);
  console.log(found);
  process.exit(0);
}

const fixed = (x, digits = 2) => (x === null || x === undefined ? "-" : Number(x).toFixed(digits));
const rows = [];
const target = (name, figure, bound, met) =>
  rows.push([name, figure ?? "not measured", bound, figure === null ? "-" : met ? "yes" : "no"]);

/** A server that refused (`busy`, counted as lost by load.mjs) or fell behind did not do the
 * offered load: its CPU per message is not comparable, and the row says so. */
const shedding = (r) =>
  r && (r.lost || r.errors || r.throughput_msgs_per_s < 0.98 * r.offered_msgs_per_s)
    ? ` (delivered ${r.throughput_msgs_per_s}/s; ${r.lost} refused or lost)`
    : "";

// CPU per delivered message against the reference, persisting to SQLite.
const compare = jsonl("compare.jsonl"), floor = jsonl("floor.jsonl");
for (const [level, bound] of [["100x10", 0.8], ["100x100", 0.6]]) {
  const ref = row(compare, "reference", level), haven = row(compare, "haven", level);
  const ok = ref?.server_cpu_us_per_msg && haven?.server_cpu_us_per_msg;
  const ratio = ok && haven.server_cpu_us_per_msg / ref.server_cpu_us_per_msg;
  target(
    `CPU per message at ${haven?.offered_msgs_per_s ?? level} msg/s (SQLite)`,
    ok ? `${haven.server_cpu_us_per_msg} vs ${ref.server_cpu_us_per_msg} us = ${fixed(ratio)}x${shedding(haven)}` : null,
    `<= ${bound}x`,
    ok && ratio <= bound && !shedding(haven),
  );
  // What the socket layer alone costs (server/examples/socket_floor.rs: socketioxide, the
  // bench contract in memory), against the reference of its own run: Haven's work and its
  // storage have only the rest of the bound.
  const floorRef = row(floor, "reference", level), floorRow = row(floor, "haven", level);
  if (floorRef?.server_cpu_us_per_msg && floorRow?.server_cpu_us_per_msg) {
    const share = floorRow.server_cpu_us_per_msg / floorRef.server_cpu_us_per_msg;
    rows.push(["  the socket floor alone (no Haven, no storage)", `${floorRow.server_cpu_us_per_msg} vs ${floorRef.server_cpu_us_per_msg} us = ${fixed(share)}x`, "reported", "-"]);
  }
}

// On PostgreSQL: Haven's own CPU, the database's beside it.
const postgres = jsonl("postgres.jsonl"), database = json("postgres-db.json");
for (const level of [...new Set(postgres.map((r) => r.label?.split(" ")[1]))].filter(Boolean)) {
  const ref = row(postgres, "reference", level), haven = row(postgres, "haven", level);
  const ok = ref?.server_cpu_us_per_msg && haven?.server_cpu_us_per_msg;
  const ratio = ok && haven.server_cpu_us_per_msg / ref.server_cpu_us_per_msg;
  target(
    `Haven's CPU per message at ${haven?.offered_msgs_per_s ?? level} msg/s (PostgreSQL)`,
    ok ? `${haven.server_cpu_us_per_msg} vs ${ref.server_cpu_us_per_msg} us = ${fixed(ratio)}x${shedding(haven)}` : null,
    "<= 0.5x",
    ok && ratio <= 0.5 && !shedding(haven),
  );
}
if (!postgres.length) target("Haven's CPU per message (PostgreSQL)", null, "<= 0.5x", false);
if (database) rows.push(["  PostgreSQL's own CPU beside it (whole run)", `${fixed(database.us_per_msg, 1)} us per stored message`, "reported", "-"]);

// Idle memory: right after connecting (compare's idle level) and after long pings.
{
  const ref = row(compare, "reference", "idle10000"), haven = row(compare, "haven", "idle10000");
  const ok = ref?.server_rss_mb && haven?.server_rss_mb;
  const ratio = ok && haven.server_rss_mb / ref.server_rss_mb;
  target("RSS, 10,000 idle sockets", ok ? `${haven.server_rss_mb} vs ${ref.server_rss_mb} MB = ${fixed(ratio)}x` : null, "<= 0.5x", ok && ratio <= 0.5);
  const long = json("idle-long.json");
  const lok = long?.reference?.rss_end_mb && long?.haven?.rss_end_mb && !long.haven.disconnects;
  const lratio = lok && long.haven.rss_end_mb / long.reference.rss_end_mb;
  target(
    `RSS after ${long?.haven?.duration_s ?? "?"} s of pings`,
    lok ? `${long.haven.rss_end_mb} vs ${long.reference.rss_end_mb} MB = ${fixed(lratio)}x` : null,
    "<= 0.5x",
    lok && lratio <= 0.5,
  );
}

// Ceiling at the same CPU budget, then overload at twice Haven's.
{
  const ref = ceiling("reference"), haven = ceiling("haven");
  const measured = jsonl("ceiling.jsonl").length > 0;
  target(
    "ceiling (p99 < 100 ms, same CPU budget)",
    measured ? `${haven ?? "none"} vs ${ref ?? "none"} msg/s = ${ref && haven ? fixed(haven / ref) : "-"}x` : null,
    ">= 1.5x",
    ref && haven && haven / ref >= 1.5,
  );
  const runs = jsonl("overload.jsonl").filter((r) => !r.fatal);
  const worst = runs.length ? Math.max(...runs.map((r) => r.delivery_ms?.p99 ?? Infinity)) : null;
  const lost = runs.reduce((n, r) => n + (r.lost ?? 0) + (r.duplicates ?? 0), 0);
  target(
    "overload at 2x Haven's ceiling: accepted p99, lost + doubled",
    runs.length ? `${runs.map((r) => `${r.offered_msgs_per_s}/s: p99 ${r.delivery_ms?.p99} ms, busy p99 ${r.busy_ack_ms?.p99 ?? "-"} ms`).join("; ")}; ${lost} lost or doubled` : null,
    "< 500 ms, 0",
    runs.length && worst < 500 && lost === 0,
  );
}

// The browser's first download and first visit.
{
  const wasm = json("wasm.json");
  target(
    "WASM + JS, gzip (brotli)",
    wasm ? `${wasm.gzip} (${wasm.brotli}) bytes = ${fixed(wasm.gzip / 250000)}x the budget` : null,
    "<= 250,000",
    wasm && wasm.gzip <= 250000,
  );
  // The least a Leptos page like the conversation can be (frontend/examples/client_floor.rs),
  // built as Haven's is: Haven's own client has only the rest of the budget.
  const floor = json("client-floor.json");
  if (floor) {
    rows.push(["  the client floor alone (router, server fn, form, socket; no feature of Haven)", `${floor.floor.gzip} (${floor.floor.brotli}) bytes = ${fixed(floor.floor.gzip / 250000)}x the budget; Haven's WASM ${floor.haven.gzip}`, "reported", "-"]);
    if (floor.socket_floor) {
      rows.push(["  the floor of a page fed by its socket alone (no router, server fn)", `${floor.socket_floor.gzip} (${floor.socket_floor.brotli}) bytes = ${fixed(floor.socket_floor.gzip / 250000)}x the budget`, "reported", "-"]);
    }
    if (floor.whole) {
      rows.push(["  Haven's client without islands (every page hydrated, WASM + JS)", `${floor.whole.gzip} (${floor.whole.brotli}) bytes = ${fixed(floor.whole.gzip / 250000)}x the budget`, "reported", "-"]);
    }
  }
  const slow = json("slow3g.json");
  target(
    "first visit on slow 3G, to a live conversation",
    slow ? `${slow.first_ms} ms (median of ${slow.runs}; ${slow.kib} KiB)` : null,
    "<= 5,000 ms",
    slow && slow.first_ms <= 5000,
  );
}

const head = ["target (issue 29)", "measured (Haven vs reference)", "bound", "met"];
const width = head.map((_, i) => Math.max(...[head, ...rows].map((r) => String(r[i]).length)));
for (const r of [head, ...rows]) console.log(r.map((c, i) => String(c).padEnd(width[i])).join("  "));
