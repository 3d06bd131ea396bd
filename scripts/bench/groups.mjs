// Support groups under load (issue 27): G groups of S members (a leader, bench-p<g>, and
// S-1 students, bench-s<…>), everyone connected over the official socket.io-client, each
// member sending a message every few seconds (open loop, random phase). With --kind
// direct, the same people and rate in one-to-one conversations instead (G*S/2 pairs of a
// student and a psychiatrist, one delivery per message), for a same-run comparison. Measures, over a
// window after a warmup: messages sent, deliveries (each message reaches the other S-1
// members: `message:new` matched by clientId), emit → delivery latency, and the CPU of the
// server processes (--server-pids, comma-separated: one node, or both nodes and Redis),
// per delivered message and per message. Members are spread over --urls round robin (two
// nodes: every group spans both). Prints one JSON line; exits 1 on a lost or duplicated
// delivery or an error ack.
//
//   node scripts/bench/groups.mjs --urls http://127.0.0.1:3100 --groups 20 --size 12 --every-s 3 --server-pids PID
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { io } = require(process.env.SOCKET_IO_CLIENT ?? "socket.io-client");

const defaults = {
  urls: "http://127.0.0.1:3100", groups: 20, size: 12, "every-s": 3, duration: 20, warmup: 3,
  prefix: "bench", password: "bench-password", "server-pids": "", label: "", "body-bytes": 120,
  "drain-s": 5, kind: "groups",
};
const opt = { ...defaults };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (!a.startsWith("--") || !(a.slice(2) in defaults)) {
    console.error(`usage: node groups.mjs [--name value]...\noptions (default): ${Object.entries(defaults).map(([k, v]) => `--${k} (${v})`).join(" ")}`);
    process.exit(2);
  }
  opt[a.slice(2)] = process.argv[++i];
}
const num = (k) => Number(opt[k]);
const now = () => performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const urls = opt.urls.split(",");
const G = num("groups"), S = num("size");
const hz = 100; // CLK_TCK on Linux
const pids = opt["server-pids"].split(",").filter(Boolean).map(Number);
const cpuTicks = () => pids.reduce((sum, pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return sum + Number(f[11]) + Number(f[12]);
}, 0);
const fail = (e) => { console.log(JSON.stringify({ label: opt.label || undefined, fatal: String(e?.message ?? e) })); process.exit(1); };
setTimeout(() => fail("watchdog"), (num("duration") + num("warmup") + num("drain-s") + 300) * 1000).unref();

async function login(username, url) {
  const res = await fetch(`${url}/api/auth/login`, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password: opt.password }),
  });
  if (res.status !== 200) throw new Error(`login ${username}: HTTP ${res.status}`);
  const cookie = (res.headers.getSetCookie?.() ?? []).map((c) => c.split(";")[0]).join("; ");
  return { id: (await res.json()).user.id, cookie };
}
function connect(url, cookie) {
  return new Promise((resolve, reject) => {
    const s = io(url, { transports: ["websocket"], extraHeaders: { cookie }, reconnection: false, forceNew: true });
    s.once("connect", () => resolve(s));
    s.once("connect_error", (e) => reject(new Error(`connect_error: ${e.message}`)));
  });
}
const call = async (socket, event, payload) => {
  const ack = await socket.timeout(20000).emitWithAck(event, payload);
  if (!ack.ok) throw new Error(`${event}: ${ack.error?.code}`);
  return ack;
};

// ---- setup: accounts, the one-to-one conversations, groups, invitations, acceptances
const inflight = new Map(); // clientId -> { sent, from, seen, counted, want }
let counting = false, duplicates = 0, errors = 0;
const latencies = [];
const groups = [];
let student = 0;
const listen = (id, members) => {
  for (const m of members) {
    m.socket.on("message:new", (message) => {
      if (message.conversationId !== id || message.kind !== "text") return;
      const f = inflight.get(message.clientId);
      if (!f || f.from === m) return; // the sender's own copy
      if (f.seen.has(m)) { duplicates++; return; }
      f.seen.add(m);
      if (f.counted) latencies.push(now() - f.sent);
    });
  }
};
if (opt.kind === "direct") {
  // Pairs on other accounts than the groups' (bench-s/p from G*S on), over the same URLs.
  for (let i = 0; i < (G * S) / 2; i++) {
    const url = urls[i % urls.length], other = urls[(i + 1) % urls.length];
    const s = await login(`${opt.prefix}-s${G * S + i}`, url);
    const p = await login(`${opt.prefix}-p${G * S + i}`, other);
    const members = [{ ...s, socket: await connect(url, s.cookie) }, { ...p, socket: await connect(other, p.cookie) }];
    const opened = await call(members[0].socket, "conversation:open", { peerId: p.id });
    listen(opened.conversation.id, members);
    groups.push({ id: opened.conversation.id, members });
  }
}
for (let g = 0; opt.kind !== "direct" && g < G; g++) {
  const url = (k) => urls[k % urls.length];
  const leader = await login(`${opt.prefix}-p${g}`, url(0));
  const members = [{ ...leader, socket: await connect(url(0), leader.cookie) }];
  for (let k = 1; k < S; k++) {
    const account = await login(`${opt.prefix}-s${student++}`, url(k));
    members.push({ ...account, socket: await connect(url(k), account.cookie) });
  }
  for (const m of members.slice(1)) await call(m.socket, "conversation:open", { peerId: leader.id });
  const created = await call(members[0].socket, "group:create", { name: `Bench group ${g}`, description: "Synthetic", memberLimit: Math.max(2, S - 1) });
  const id = created.conversation.id;
  for (const [k, m] of members.slice(1).entries()) {
    const invited = new Promise((r) => m.socket.once("group:invited", r));
    await call(members[0].socket, "group:invite", { conversationId: id, studentId: m.id });
    await invited;
    await call(m.socket, "group:answer", { conversationId: id, accept: true, alias: `Member ${k + 1}` });
  }
  listen(id, members);
  groups.push({ id, members });
}

// ---- load: every member sends every `every-s` seconds, open loop
const body = "x".repeat(num("body-bytes"));
const period = num("every-s") * 1000;
let sentCounted = 0, stopping = false;
const timers = [];
for (const group of groups) {
  for (const m of group.members) {
    const tick = () => {
      if (stopping) return;
      const clientId = randomUUID();
      const f = { sent: now(), from: m, seen: new Set(), counted: counting, want: group.members.length - 1 };
      inflight.set(clientId, f);
      if (counting) sentCounted++;
      m.socket.emitWithAck("message:send", { conversationId: group.id, clientId, body }).then((ack) => { if (!ack.ok) errors++; });
    };
    timers.push(setTimeout(() => { tick(); timers.push(setInterval(tick, period)); }, Math.random() * period));
  }
}
await sleep(num("warmup") * 1000);
counting = true;
const cpu0 = cpuTicks(), t0 = now();
await sleep(num("duration") * 1000);
const cpu1 = cpuTicks(), windowS = (now() - t0) / 1000;
counting = false;
stopping = true;
for (const t of timers) { clearTimeout(t); clearInterval(t); }
const drainUntil = now() + num("drain-s") * 1000;
const pending = () => [...inflight.values()].some((f) => f.seen.size < f.want);
while (now() < drainUntil && pending()) await sleep(50);
let lost = 0, delivered = 0;
for (const f of inflight.values()) { if (f.counted) delivered += f.seen.size; lost += f.want - f.seen.size; }
latencies.sort((a, b) => a - b);
const q = (p) => latencies.length ? +latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(2) : null;
const cpuS = (cpu1 - cpu0) / hz;
const result = {
  label: opt.label || undefined, kind: opt.kind, nodes: urls.length, groups: G, size: S, connections: G * S,
  offered_msgs_per_s: +(G * S / num("every-s")).toFixed(1), window_s: +windowS.toFixed(2),
  messages: sentCounted, deliveries: delivered, deliveries_per_s: +(delivered / windowS).toFixed(1),
  p50_ms: q(0.5), p99_ms: q(0.99), lost, duplicates, errors,
  server_cpu_s: +cpuS.toFixed(2),
  cpu_us_per_delivery: delivered ? +(cpuS * 1e6 / delivered).toFixed(1) : null,
  cpu_us_per_message: sentCounted ? +(cpuS * 1e6 / sentCounted).toFixed(1) : null,
};
console.log(JSON.stringify(result));
for (const g of groups) for (const m of g.members) m.socket.close();
process.exit(lost || duplicates || errors ? 1 : 0);
