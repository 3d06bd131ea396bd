// Web Push under load (issue 28): what a reminder costs the server. One psychiatrist
// (bench-p0, connected over the official socket.io-client) writes to N students who are
// not connected, at a fixed rate, in three phases of N messages each:
//   1. reminded: every student has a device (a subscription pointing at this script's push
//      service on loopback), so every message is one push: decided, claimed, encrypted
//      (RFC 8291), signed (VAPID) and POSTed;
//   2. coalesced: the same students again, none has read: every reminder is decided and
//      claimed in vain (one per conversation until read), no push;
//   3. no devices: N other students who never turned notifications on (the common case).
// Measures per phase the server's CPU per message, and in phase 1 the time from the
// send's ack to the push's arrival. Prints one JSON line; exits 1 if a push is missing or
// one arrives in phases 2 or 3.
//
//   node scripts/bench/push.mjs --url http://127.0.0.1:3100 --students 200 --rate 50 --server-pid PID
import { createECDH, randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { io } = require(process.env.SOCKET_IO_CLIENT ?? "socket.io-client");

const defaults = { url: "http://127.0.0.1:3100", students: 200, rate: 50, prefix: "bench", password: "bench-password", "server-pid": "0", label: "" };
const opt = { ...defaults };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (!a.startsWith("--") || !(a.slice(2) in defaults)) {
    console.error(`usage: node push.mjs ${Object.keys(defaults).map((k) => `[--${k} v]`).join(" ")}`);
    process.exit(2);
  }
  opt[a.slice(2)] = process.argv[++i];
}
const N = Number(opt.students), rate = Number(opt.rate), pid = Number(opt["server-pid"]);
const now = () => performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ticks = () => {
  if (!pid) return 0;
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return Number(f[11]) + Number(f[12]);
};
const fail = (e) => { console.log(JSON.stringify({ label: opt.label || undefined, fatal: String(e?.message ?? e) })); process.exit(1); };
setTimeout(() => fail("watchdog"), 600_000).unref();

// The push service: when each device's push arrived, in the current phase.
let arrivals = new Map(); // device -> time
let unexpected = 0;
let expecting = false;
const service = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    const device = req.url.split("/").pop();
    if (!expecting || arrivals.has(device)) unexpected += 1;
    else arrivals.set(device, now());
    res.writeHead(201).end();
  });
});
await new Promise((r) => service.listen(0, "127.0.0.1", r));
const pushBase = `http://127.0.0.1:${service.address().port}/push`;

async function login(username) {
  const res = await fetch(`${opt.url}/api/auth/login`, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password: opt.password }),
  });
  if (res.status !== 200) throw new Error(`login ${username}: HTTP ${res.status}`);
  const cookie = (res.headers.getSetCookie?.() ?? []).map((c) => c.split(";")[0]).join("; ");
  return { id: (await res.json()).user.id, cookie };
}
function connect(cookie) {
  return new Promise((resolve, reject) => {
    const s = io(opt.url, { transports: ["websocket"], extraHeaders: { cookie }, reconnection: false, forceNew: true });
    s.once("connect", () => resolve(s));
    s.once("connect_error", (e) => reject(new Error(`connect_error: ${e.message}`)));
  });
}
const call = async (socket, event, payload) => {
  const ack = await socket.timeout(20000).emitWithAck(event, payload);
  if (!ack.ok) throw new Error(`${event}: ${ack.error?.code}`);
  return ack;
};

try {
  const doctor = await login(`${opt.prefix}-p0`);
  const students = [];
  for (let i = 0; i < 2 * N; i++) {
    const student = await login(`${opt.prefix}-s${i}`);
    const tab = await connect(student.cookie);
    student.conversation = (await call(tab, "conversation:open", { peerId: doctor.id })).conversation.id;
    tab.close();
    if (i < N) {
      const keys = createECDH("prime256v1");
      keys.generateKeys();
      const form = new URLSearchParams({
        endpoint: `${pushBase}/${student.conversation}`,
        p256dh: keys.getPublicKey().toString("base64url"),
        auth: randomBytes(16).toString("base64url"),
        words: "private",
      });
      const res = await fetch(`${opt.url}/api/form/push_subscribe`, {
        method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", cookie: student.cookie },
        body: form.toString(),
      });
      if (res.status !== 200) throw new Error(`push_subscribe: HTTP ${res.status} ${await res.text()}`);
    }
    students.push(student);
  }
  const socket = await connect(doctor.cookie);
  await sleep(1000); // the students' sockets are gone on the server

  const phase = async (targets, wantPushes) => {
    const sent = new Map();
    arrivals = new Map();
    const t0 = ticks();
    const started = now();
    expecting = wantPushes;
    for (let i = 0; i < targets.length; i++) {
      const due = started + (i * 1000) / rate;
      if (due > now()) await sleep(due - now());
      const s = targets[i];
      await call(socket, "message:send", { conversationId: s.conversation, clientId: randomUUID(), body: "synthetic reminder load" });
      sent.set(String(s.conversation), now());
    }
    if (wantPushes) {
      const deadline = now() + 30_000;
      while (arrivals.size < targets.length && now() < deadline) await sleep(20);
    } else {
      await sleep(2000); // decisions are off the send path: let them finish before reading the CPU
    }
    const cpuMs = ((ticks() - t0) * 1000) / 100;
    const latencies = [...arrivals.entries()].filter(([d]) => sent.has(d)).map(([d, at]) => at - sent.get(d)).sort((a, b) => a - b);
    const pct = (p) => latencies.length ? +latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(1) : null;
    return { messages: targets.length, pushes: latencies.length, cpu_us_per_message: +((cpuMs * 1000) / targets.length).toFixed(0), p50_ms: pct(0.5), p99_ms: pct(0.99) };
  };
  const reminded = await phase(students.slice(0, N), true);
  const missing = N - reminded.pushes;
  const coalesced = await phase(students.slice(0, N), false);
  const deviceless = await phase(students.slice(N), false);
  socket.close();
  service.close();
  console.log(JSON.stringify({ label: opt.label || undefined, students: N, rate, reminded, coalesced, deviceless, missing, unexpected }));
  process.exit(missing || unexpected ? 1 : 0);
} catch (e) {
  fail(e);
}
