// Every page and socket operation at one size of history (scripts/bench/scale.sh): one
// client, warm, one operation at a time, each timed from the request to its last byte (or
// to its ack / last replayed message) on loopback, so the figure is the server's time plus
// a fraction of a millisecond. Prints one line per operation: p50 and p99 in milliseconds.
//
//   node scripts/bench/scale.mjs BASE_URL [RUNS]
//
// The accounts are those of `haven seed-demo --history` (docs/benchmarks.md).
import { createRequire } from "node:module";
import { randomUUID } from "node:crypto";
const require = createRequire(new URL("../../package.json", import.meta.url));
const { io } = require("socket.io-client");

const [base, runsArg = "200"] = process.argv.slice(2);
const RUNS = Number(runsArg);
const WARMUP = Number(process.env.WARMUP ?? 20);
const PASSWORD = "bench-password";

async function login(username, role) {
  const res = await fetch(`${base}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password: PASSWORD, role }),
  });
  if (res.status !== 200) throw new Error(`login ${username}: ${res.status}`);
  const cookie = res.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  return { username, cookie, id: (await res.json()).user?.id };
}

function connect(account, auth) {
  return io(base, {
    path: "/socket.io/",
    transports: ["websocket"],
    extraHeaders: { cookie: account.cookie, origin: base },
    reconnection: false,
    forceNew: true,
    auth,
  });
}

function connected(socket) {
  return new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
}

async function get(account, path) {
  const res = await fetch(`${base}${path}`, { headers: { cookie: account.cookie } });
  const body = await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status}`);
  return body.byteLength;
}

async function serverFn(account, name, form) {
  const res = await fetch(`${base}/api/form/${name}`, {
    method: "POST",
    headers: { cookie: account.cookie, "content-type": "application/x-www-form-urlencoded" },
    body: form,
  });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`${name}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** Runs `once` WARMUP + RUNS times; answers p50 and p99 of the timed runs, in ms. */
async function measure(once) {
  const times = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const start = process.hrtime.bigint();
    await once(i);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (i >= WARMUP) times.push(ms);
  }
  times.sort((a, b) => a - b);
  const at = (q) => times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)];
  return { p50: at(0.5), p99: at(0.99) };
}

function row(name, { p50, p99 }, note = "") {
  console.log(`${name.padEnd(44)} ${p50.toFixed(1).padStart(8)} ${p99.toFixed(1).padStart(8)}  ${note}`);
}

const student = await login("hist-s1", "student");
const busiest = await login("hist-p0", "psychiatrist");
const longStudent = await login("hist-s0", "student");
const catchUp = await login("hist-p1", "psychiatrist");

console.log(`${"operation".padEnd(44)} ${"p50 ms".padStart(8)} ${"p99 ms".padStart(8)}`);

// Pages.
row("GET /chat, student (directory of 60)", await measure(() => get(student, "/chat")));
row("GET /chat, busiest psychiatrist (sidebar)", await measure(() => get(busiest, "/chat")));
// The sidebar's page (before issue 25: the whole list, an array).
const listOf = (answer) => (Array.isArray(answer) ? answer : answer.conversations);
const list = listOf(await serverFn(longStudent, "conversations", ""));
const long = list.find((c) => c.peer.displayName === "Dr. Synthetic 0");
row("GET /chat/<id>, 2,000-message conversation", await measure(() => get(longStudent, `/chat/${long.id}`)));
const newest = long.lastMessage.id;
row(
  "history page (before), same conversation",
  await measure((i) => serverFn(longStudent, "conversation", `id=${long.id}&before=${newest - 500 - (i % 100)}`)),
);
row("GET /chat/settings, student (access record)", await measure(() => get(longStudent, "/chat/settings")));
row("GET /account/export.json, 2,000 messages", await measure(() => get(longStudent, "/account/export.json")));

// Sockets.
const behind = listOf(await serverFn(catchUp, "conversations", ""));
const newestOfCatchUp = Math.max(...behind.map((c) => c.lastMessage?.id ?? 0));
// The 20 newest conversations hold the newest 200 messages: 200 behind is before them all.
const lastSeenId = newestOfCatchUp - 200;
// The fewest messages a catch-up delivered (all 200, unless some were lost: then the
// run waited 5 s for them and says so).
let replayed = 200;
row(
  "handshake + catch-up, 200 behind in 20 conversations",
  await measure(async () => {
    const socket = connect(catchUp, { lastSeenId });
    let n = 0;
    await new Promise((resolve, reject) => {
      const gaveUp = setTimeout(resolve, 5000);
      socket.on("message:new", () => {
        n += 1;
        if (n === 200) {
          clearTimeout(gaveUp);
          resolve();
        }
      });
      socket.once("connect_error", reject);
      socket.once("sync:reload", () => reject(new Error("sync:reload")));
    });
    replayed = Math.min(replayed, n);
    socket.disconnect();
  }),
  `(${replayed} of 200 arrived)`,
);

const opener = connect(student);
await connected(opener);
const peerId = listOf(await serverFn(student, "conversations", ""))[0].peer.id;
row(
  "conversation:open",
  await measure(async () => {
    const ack = await opener.emitWithAck("conversation:open", { peerId });
    if (!ack.ok) throw new Error(JSON.stringify(ack));
  }),
);
const conversationId = (await opener.emitWithAck("conversation:open", { peerId })).conversation.id;
row(
  "message:send to ack",
  await measure(async () => {
    const ack = await opener.emitWithAck("message:send", {
      conversationId,
      clientId: randomUUID(),
      body: "Synthetic benchmark message.",
    });
    if (!ack.ok) throw new Error(JSON.stringify(ack));
  }),
);
opener.disconnect();
process.exit(0);
