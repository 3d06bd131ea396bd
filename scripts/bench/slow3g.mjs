// Time to a live connection on an emulated slow 3G link (Chrome DevTools' preset: 400 ms
// round trip, 400 kbit/s each way), in Debian's Chromium driven by Playwright over CDP.
//
//   node scripts/bench/slow3g.mjs BASE_URL LABEL [RUNS]
//
// A fresh student opens their conversation with the demo psychiatrist; then, per run, a new
// browser context (empty cache) loads it: "first visit" is until the page is hydrated and
// its socket connected, "repeat visit" is the same in that context again (warm cache).
// Prints one line per measure with the median, in milliseconds.
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
const require = createRequire(new URL("../../end2end/package.json", import.meta.url));
const { chromium } = require("@playwright/test");

const [base, label = "haven", runsArg = "3"] = process.argv.slice(2);
const runs = Number(runsArg);
const SLOW_3G = { offline: false, latency: 400, downloadThroughput: 400_000 / 8, uploadThroughput: 400_000 / 8 };

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
const setup = await browser.newContext({ baseURL: base });
const username = `slow3g-${Date.now().toString(36)}`;
const registered = await setup.request.post("/api/auth/register", { data: { username, displayName: "Synthetic Slow", password: "synthetic-slow-3g" } });
if (!registered.ok()) throw new Error(`register: ${registered.status()}`);
const directory = await setup.newPage();
await directory.goto("/chat");
await directory.locator("html[data-hydrated]").waitFor({ state: "attached" });
await directory.getByRole("button", { name: /^Write to / }).first().click();
await directory.waitForURL(/\/chat\/\d+$/);
const conversation = new URL(directory.url()).pathname;
const storageState = await setup.storageState();
await setup.close();

async function live(page) {
  await page.locator("html[data-hydrated]").waitFor({ state: "attached", timeout: 120_000 });
  await page.waitForFunction(() => !document.querySelector(".connection.visible"), null, { timeout: 120_000 });
}

async function timed(page) {
  const start = Date.now();
  await page.goto(conversation, { waitUntil: "commit", timeout: 120_000 });
  await live(page);
  return Date.now() - start;
}

const first = [];
const repeat = [];
let bytes = 0;
for (let i = 0; i < runs; i++) {
  const context = await browser.newContext({ baseURL: base, storageState });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", SLOW_3G);
  let transferred = 0;
  cdp.on("Network.loadingFinished", (e) => (transferred += e.encodedDataLength));
  first.push(await timed(page));
  bytes = transferred;
  repeat.push(await timed(page));
  await context.close();
}
await browser.close();

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`${label}\tfirst visit\t${median(first)} ms\t(${first.join(", ")})\t${Math.round(bytes / 1024)} KiB over the wire`);
console.log(`${label}\trepeat visit\t${median(repeat)} ms\t(${repeat.join(", ")})`);
// For scripts/bench/targets.mjs: the figure of the site as built (precompressed).
if (process.env.BENCH_RUN && label === "after") {
  const result = { first_ms: median(first), repeat_ms: median(repeat), runs, kib: Math.round(bytes / 1024) };
  writeFileSync(join(process.env.BENCH_RUN, "slow3g.json"), JSON.stringify(result) + "\n");
}
