// The load generator of ../shared/bench/load.mjs, spread over several processes so that it can
// use more than one core: one parent and --workers children, each child on its own CPU list
// (--cpus "1,0" puts worker 0 on CPU 1, worker 1 on CPU 0). Same wire contract, same
// accounting (delivery = emit → the peer's `message:new`, matched by clientId; the sender's
// echo and ack must arrive exactly once), open-loop sending in 5 ms ticks. What it adds:
//   - pairs are split between workers (pair i goes to worker i mod W);
//   - every worker sets up (logins, sockets, conversations), then waits; the parent starts
//     them all at once, so the measured windows coincide;
//   - the parent merges the raw latencies (exact percentiles) and measures the server's CPU
//     and the cores' busy time over the common window itself.
// A `busy` ack (the server is behind: docs/protocol.md) is not an error: it is counted with
// its latency (it should come at once), and with --busy-retry 1 the message is offered again
// with the same clientId after the browser's pause (0.5 s doubling to 15 s, ±50%); delivery
// latency is then counted from the offer the server took (`delivery_ms`) and from the first
// (`delivery_first_offer_ms`). Prints one JSON line like load.mjs; exits 1 on any loss,
// duplicate or error.
//
//   node scripts/bench/ceiling.mjs --url http://127.0.0.1:3100 --pairs 100 --rate 50 --workers 2 --cpus 1,0 --server-pid PID
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const defaults = {
  url: "http://127.0.0.1:3100", pairs: 100, rate: 10, duration: 10, warmup: 3, "body-bytes": 120,
  prefix: "bench", password: "bench-password", "server-pid": "", workers: 2, cpus: "1,0",
  "login-concurrency": 8, "connect-concurrency": 32, "drain-s": 5, "setup-timeout-s": 300,
  "ack-timeout-s": 10, "busy-retry": 0, label: "", worker: "",
};
const opt = { ...defaults };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (!a.startsWith("--") || !(a.slice(2) in defaults)) {
    console.error(`usage: node ceiling.mjs [--name value]...\noptions (default): ${Object.entries(defaults).filter(([k]) => k !== "worker").map(([k, v]) => `--${k} (${v})`).join(" ")}`);
    process.exit(2);
  }
  opt[a.slice(2)] = process.argv[++i];
}
const num = (k) => Number(opt[k]);
const now = () => performance.now();

if (opt.worker === "") await parent();
else await worker(num("worker"));

// ---------------------------------------------------------------- parent
async function parent() {
  const W = num("workers"), P = num("pairs");
  const cpus = opt.cpus.split(",").filter(Boolean);
  if (!(W >= 1) || !(P >= W) || !cpus.length) { console.error("need workers >= 1, pairs >= workers, --cpus"); process.exit(2); }
  const serverPid = opt["server-pid"] ? Number(opt["server-pid"]) : null;
  const fatal = (e) => { console.log(JSON.stringify({ label: opt.label || undefined, fatal: String(e?.message ?? e) })); process.exit(1); };
  const bound = (num("setup-timeout-s") + num("warmup") + num("duration") + num("drain-s") + 30) * 1000;
  setTimeout(() => fatal("watchdog: run exceeded its time bound"), bound).unref();

  const script = fileURLToPath(import.meta.url);
  const args = Object.entries(opt).filter(([k]) => k !== "worker").flatMap(([k, v]) => [`--${k}`, String(v)]);
  const children = Array.from({ length: W }, (_, k) => {
    const child = spawn("taskset", ["-c", cpus[k % cpus.length], process.execPath, script, ...args, "--worker", String(k)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    child.on("exit", (code) => { if (code && !child.done) fatal(`worker ${k} exited with ${code}`); });
    return child;
  });
  const next = (child, type) => new Promise((resolve) => child.on("message", (m) => { if (m.type === type) resolve(m); else if (m.type === "fatal") fatal(`worker: ${m.error}`); }));
  const tSetup = now();
  await Promise.all(children.map((c) => next(c, "ready")));
  const setupS = (now() - tSetup) / 1000;

  const results = children.map((c) => next(c, "result"));
  for (const c of children) c.send({ type: "go" });
  // The common window: after the warmup, for the duration (each worker keeps the same clock).
  await sleep(num("warmup") * 1000);
  const cpu0 = procCpuSeconds(serverPid), cores0 = coreTimes(), t0 = now();
  await sleep(num("duration") * 1000);
  const cpu1 = procCpuSeconds(serverPid), cores1 = coreTimes(), windowS = (now() - t0) / 1000;
  const parts = await Promise.all(results);
  for (const c of children) c.done = true;

  const sum = (k) => parts.reduce((a, p) => a + p[k], 0);
  const delivery = parts.flatMap((p) => p.delivery), ack = parts.flatMap((p) => p.ack);
  const busyAck = parts.flatMap((p) => p.busyAck), firstOffer = parts.flatMap((p) => p.firstOffer);
  // Deliveries per second inside the workers' windows, which coincide with the parent's.
  const throughput = sum("deliveredInWindow") / (sum("windowS") / W);
  const serverCpu = cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null;
  const errors = sum("errors");
  const result = {
    label: opt.label || undefined, url: opt.url, workers: W, cpus: opt.cpus, connections: 2 * P, pairs: P,
    offered_msgs_per_s: P * num("rate"), window_s: +windowS.toFixed(2),
    sent: sum("sent"), acked: sum("acked"), delivered: sum("delivered"), lost: sum("lost"), duplicates: sum("duplicates"), errors,
    throughput_msgs_per_s: +throughput.toFixed(1),
    delivery_ms: stats(delivery), ack_ms: stats(ack),
    busy: sum("busy"), busy_ack_ms: stats(busyAck), refused_for_good: sum("refusedForGood"),
    delivery_first_offer_ms: stats(firstOffer),
    connect_phase_s: +setupS.toFixed(2),
    server_rss_mb: procRssMb(serverPid),
    server_cpu_util: serverCpu === null ? null : +(serverCpu / windowS).toFixed(2),
    server_cpu_us_per_msg: serverCpu === null || !throughput ? null : +((serverCpu * 1e6) / (throughput * windowS)).toFixed(1),
    generator_cpu_s: +sum("genCpuS").toFixed(2),
    generator_cpu_util: +(sum("genCpuS") / (num("warmup") + num("duration"))).toFixed(2),
    cores_busy: coreBusy(cores0, cores1),
    first_errors: parts.flatMap((p) => p.firstErrors).slice(0, 3),
  };
  console.log(JSON.stringify(result));
  process.exit(result.lost || result.duplicates || errors ? 1 : 0);
}

// ---------------------------------------------------------------- worker
async function worker(k) {
  const { io } = await import("socket.io-client");
  const W = num("workers"), RATE = num("rate"), DURATION = num("duration"), WARMUP = num("warmup");
  const mine = Array.from({ length: num("pairs") }, (_, i) => i).filter((i) => i % W === k);
  const body = "x".repeat(Math.max(1, Math.min(4000, num("body-bytes"))));
  const errorsSeen = [];
  const note = (e) => { if (errorsSeen.length < 5) errorsSeen.push(String(e)); };
  const fail = (e) => { process.send({ type: "fatal", error: String(e?.message ?? e) }); setTimeout(() => process.exit(1), 100); };

  async function login(username) {
    const res = await fetch(`${opt.url}/api/auth/login`, {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ username, password: opt.password }), signal: AbortSignal.timeout(60000),
    });
    if (res.status !== 200) throw new Error(`login ${username}: HTTP ${res.status}`);
    const cookie = (res.headers.getSetCookie?.() ?? []).map((c) => c.split(";")[0]).join("; ");
    const { user } = await res.json();
    return { user, cookie };
  }
  const connect = (cookie) => new Promise((resolve, reject) => {
    const s = io(opt.url, { path: "/socket.io/", transports: ["websocket"], extraHeaders: { cookie }, reconnection: false, forceNew: true, timeout: 30000 });
    s.once("connect", () => resolve(s));
    s.once("connect_error", (e) => { s.close(); reject(new Error(`connect_error: ${e.message}`)); });
  });

  // ---- setup: this worker's pairs
  const pairs = [];
  try {
    const names = mine.flatMap((i) => [`${opt.prefix}-s${i}`, `${opt.prefix}-p${i}`]);
    const sessions = await pool(names, num("login-concurrency"), login);
    const sockets = await pool(sessions, num("connect-concurrency"), (s) => connect(s.cookie));
    await pool(mine.map((_, j) => j), num("connect-concurrency"), async (j) => {
      const r = await sockets[2 * j].timeout(30000).emitWithAck("conversation:open", { peerId: sessions[2 * j + 1].user.id });
      if (!r?.ok || typeof r.conversation?.id !== "number") throw new Error(`conversation:open: ${JSON.stringify(r)}`);
      pairs.push({ id: r.conversation.id, sockets: [sockets[2 * j], sockets[2 * j + 1]], turn: 0 });
    });
  } catch (e) { return fail(e); }

  const inflight = new Map();
  const delivery = [], ackLat = [], busyAck = [], firstOffer = [];
  let sent = 0, acked = 0, delivered = 0, duplicates = 0, errors = 0, deliveredInWindow = 0;
  let busy = 0, refusedForGood = 0;
  let winFrom = null, winTo = null, stopping = false;
  const done = (id, f) => { if (f.delivered && f.echoed && f.acked) inflight.delete(id); };
  for (const pair of pairs) for (const s of pair.sockets) {
    s.on("disconnect", (r) => { if (!stopping) { errors++; note(`disconnected: ${r}`); } });
    s.on("message:new", (m) => {
      const f = inflight.get(m?.clientId);
      if (!f) { duplicates++; return; }
      const t = now();
      if (s === f.peer) {
        if (f.delivered) { duplicates++; return; }
        f.delivered = true; delivered++;
        if (winFrom !== null && winTo === null) deliveredInWindow++;
        if (f.counted) { delivery.push(t - f.offeredAt); firstOffer.push(t - f.sentAt); }
      } else if (s === f.sender) {
        if (f.echoed) { duplicates++; return; }
        f.echoed = true;
      } else { errors++; note("message:new outside the conversation"); }
      done(m.clientId, f);
    });
  }
  const sendOne = (pair, counted) => {
    const from = pair.sockets[pair.turn], to = pair.sockets[1 - pair.turn];
    pair.turn = 1 - pair.turn;
    const clientId = randomUUID();
    const f = { sentAt: now(), counted, sender: from, peer: to, delivered: false, echoed: false, acked: false, busy: 0 };
    inflight.set(clientId, f);
    sent++;
    offer(pair, clientId, f);
  };
  const offer = (pair, clientId, f) => {
    f.offeredAt = now();
    f.sender.timeout(num("ack-timeout-s") * 1000).emit("message:send", { conversationId: pair.id, clientId, body }, (err, r) => {
      if (err) { errors++; return note("ack timeout"); }
      if (r?.ok === false && r.error?.code === "busy") {
        busy++;
        if (f.counted) busyAck.push(now() - f.offeredAt);
        if (num("busy-retry")) {
          // As Haven's browser app does (chat::outbox::pause_after_busy): its own doubling
          // pause, or the server's retryAfterMs if longer (at most a minute), ±50%.
          const own = Math.min(15000, 500 * 2 ** Math.min(f.busy++, 16));
          const asked = Math.min(60000, Number(r.error.retryAfterMs) || 0);
          const pause = Math.max(own, asked) * (0.5 + Math.random());
          return setTimeout(() => offer(pair, clientId, f), pause);
        }
        refusedForGood++;
        return inflight.delete(clientId);
      }
      if (!r?.ok || r.message?.clientId !== clientId) { errors++; return note(`error ack: ${JSON.stringify(r).slice(0, 200)}`); }
      acked++; f.acked = true;
      if (f.counted) ackLat.push(now() - f.sentAt);
      done(clientId, f);
    });
  };

  process.send({ type: "ready" });
  await new Promise((resolve) => process.on("message", (m) => m.type === "go" && resolve()));

  // ---- traffic: open loop, this worker's share of the offered rate
  const cpu0 = process.cpuUsage();
  const rate = pairs.length * RATE, start = now();
  await new Promise((resolve) => {
    let due = 0, rr = 0, last = start;
    const tick = setInterval(() => {
      const t = now(), elapsed = (t - start) / 1000;
      if (elapsed >= WARMUP && winFrom === null) winFrom = t;
      if (elapsed >= WARMUP + DURATION) { winTo = t; clearInterval(tick); return resolve(); }
      due += ((t - last) / 1000) * rate; last = t;
      const counted = winFrom !== null;
      while (due >= 1) { sendOne(pairs[rr], counted); rr = (rr + 1) % pairs.length; due -= 1; }
    }, 5);
  });
  const genCpu = process.cpuUsage(cpu0);

  // ---- drain
  const until = now() + num("drain-s") * 1000;
  const pending = () => { for (const f of inflight.values()) if (!f.delivered || !f.acked || !f.echoed) return true; return false; };
  while (now() < until && pending()) await sleep(50);
  stopping = true;
  let lost = 0;
  for (const f of inflight.values()) { if (!f.delivered) lost++; if (!f.echoed || !f.acked) errors++; }
  process.send({
    type: "result", sent, acked, delivered, lost, duplicates, errors, deliveredInWindow,
    windowS: (winTo - winFrom) / 1000, genCpuS: (genCpu.user + genCpu.system) / 1e6,
    delivery, ack: ackLat, firstErrors: errorsSeen, busy, refusedForGood, busyAck, firstOffer,
  }, () => { for (const pair of pairs) for (const s of pair.sockets) s.close(); process.exit(0); });
}

// ---------------------------------------------------------------- helpers
function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }
async function pool(items, limit, fn) {
  const out = new Array(items.length); let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) { const i = next++; out[i] = await fn(items[i], i); }
  }));
  return out;
}
function stats(xs) {
  if (!xs.length) return null;
  xs.sort((a, b) => a - b);
  const q = (p) => +xs[Math.min(xs.length - 1, Math.floor(p * xs.length))].toFixed(2);
  return { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: q(1) };
}
function procCpuSeconds(pid) {
  if (!pid) return null;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch { return null; }
}
function procRssMb(pid) {
  if (!pid) return null;
  try { return +(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) / 1024).toFixed(1); } catch { return null; }
}
function coreTimes() {
  const out = {};
  for (const line of readFileSync("/proc/stat", "utf8").split("\n")) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const v = m[2].trim().split(/\s+/).map(Number);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    out[`cpu${m[1]}`] = [total - v[3] - v[4], total];
  }
  return out;
}
function coreBusy(a, b) {
  return Object.fromEntries(Object.keys(b).filter((k) => a[k]).map((k) => [k, +((b[k][0] - a[k][0]) / Math.max(1, b[k][1] - a[k][1])).toFixed(2)]));
}
