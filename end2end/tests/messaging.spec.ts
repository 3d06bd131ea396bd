import { Browser, expect, Page, test } from "@playwright/test";
import { connected, hydrated, psychiatrist, PSYCHIATRIST, registerStudent, signIn, STUDENT_PASSWORD, studentInConversation, uniqueName } from "./helpers";

/** A freshly registered student on the directory, socket connected. */
async function newStudent(browser: Browser, displayName: string) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await registerStudent(page, uniqueName(), displayName);
  await connected(page);
  return { context, page };
}


async function send(page: Page, text: string) {
  await page.getByLabel("Message").fill(text);
  await page.getByLabel("Message").press("Enter");
}

test("a tab goes live over a WebSocket at once, without polling first", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const polls: string[] = [];
  const sockets: string[] = [];
  page.on("request", (request) => {
    if (request.url().includes("/socket.io/")) polls.push(request.url());
  });
  page.on("websocket", (socket) => sockets.push(socket.url()));
  await registerStudent(page, uniqueName(), "Wren");
  await connected(page);
  await expect.poll(() => sockets.some((url) => url.includes("/socket.io/") && url.includes("transport=websocket"))).toBe(true);
  // socket.io's default opens with polling requests and upgrades later: two round trips more.
  expect(polls).toEqual([]);
  await context.close();
});

test("a student and a psychiatrist talk in real time, sidebars and tabs follow", async ({ browser }) => {
  const doctor = await psychiatrist(browser);
  const student = await studentInConversation(browser, "Avery");

  await send(student.page, "Hello, is anyone there?");
  const mine = student.page.locator(".message.mine", { hasText: "Hello, is anyone there?" });
  await expect(mine).toHaveCount(1);
  await expect(mine).toHaveAttribute("data-status", "sent");

  // The psychiatrist's sidebar gets the new conversation live, with preview and unread count.
  const entry = doctor.page.locator(".conversation", { hasText: "Avery" });
  await expect(entry).toContainText("Hello, is anyone there?");
  await expect(entry.locator(".unread")).toHaveText("1");
  await entry.getByRole("link").click();
  await expect(doctor.page.locator(".message.theirs", { hasText: "Hello, is anyone there?" })).toHaveCount(1);
  await expect(entry.locator(".unread")).toHaveCount(0);

  await send(doctor.page, "I'm here. How are you feeling tonight?");
  await expect(student.page.locator(".message.theirs", { hasText: "How are you feeling tonight?" })).toHaveCount(1);

  // A second tab of the student sees the student's own messages once.
  const secondTab = await student.context.newPage();
  await secondTab.goto(student.url);
  await connected(secondTab);
  await send(student.page, "Sent from my first tab");
  await expect(secondTab.locator(".message.mine", { hasText: "Sent from my first tab" })).toHaveCount(1);
  await expect(doctor.page.locator(".message", { hasText: "Sent from my first tab" })).toHaveCount(1);

  // Sidebar order: the most recent conversation first, its preview updated.
  const first = doctor.page.locator(".conversation").first();
  await expect(first).toContainText("Avery");
  await expect(first).toContainText("Sent from my first tab");

  // A reload keeps the history.
  await student.page.reload();
  await connected(student.page);
  await expect(student.page.locator(".message")).toHaveCount(3);

  await student.context.close();
  await doctor.context.close();
});

test("a message written offline is delivered exactly once when the connection returns", async ({ browser }) => {
  const doctor = await psychiatrist(browser);
  const student = await studentInConversation(browser, "Blake");
  await send(student.page, "first, while online");
  await expect(student.page.locator(".message.mine[data-status=sent]")).toHaveCount(1);
  await doctor.page.locator(".conversation", { hasText: "Blake" }).getByRole("link").click();
  await connected(doctor.page);

  await student.context.setOffline(true);
  await send(student.page, "written while offline");
  const offline = student.page.locator(".message.mine", { hasText: "written while offline" });
  await expect(offline).toHaveCount(1);
  await student.context.setOffline(false);

  await expect(offline).toHaveAttribute("data-status", "sent", { timeout: 30_000 });
  await expect(doctor.page.locator(".message", { hasText: "written while offline" })).toHaveCount(1, { timeout: 30_000 });
  await doctor.page.reload();
  await expect(doctor.page.locator(".message", { hasText: "written while offline" })).toHaveCount(1);

  await student.context.close();
  await doctor.context.close();
});

test("a message over 4000 characters is refused with a clear message", async ({ browser }) => {
  const student = await studentInConversation(browser, "Casey");
  await student.page.getByLabel("Message").fill("a".repeat(4001));
  await expect(student.page.getByText("Too long: 4001 / 4000 characters")).toBeVisible();
  await expect(student.page.getByRole("button", { name: "Send" })).toBeDisabled();
  await student.page.getByLabel("Message").press("Enter");
  await expect(student.page.locator(".message")).toHaveCount(0);
  await student.context.close();
});

test("without JavaScript the composer still sends (after a reload)", async ({ browser }) => {
  const student = await studentInConversation(browser, "Drew");
  // Enough history to scroll.
  for (let i = 1; i <= 30; i++) await send(student.page, `earlier line ${i}`);
  await expect(student.page.locator(".message.mine[data-status=sent]")).toHaveCount(30, { timeout: 30_000 });
  await student.context.close();
  // The same account without JavaScript: plain form posts all the way.
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto("/login/student");
  await page.getByLabel("Username").fill(student.username);
  await page.getByLabel("Password").fill(STUDENT_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.goto(student.url);
  await page.getByLabel("Message").fill("sent by a plain form");
  await page.getByRole("button", { name: "Send" }).click();
  // Back at the message just sent (`#m-<id>`), not at the top of the history.
  await expect(page).toHaveURL(new RegExp(`^${student.url}#m-\\d+$`));
  const sent = page.locator(".message", { hasText: "sent by a plain form" });
  await expect(sent).toHaveCount(1);
  await expect(sent).toBeInViewport();
  await expect(page.locator(".message", { hasText: "earlier line 1" }).first()).not.toBeInViewport();
  await context.close();
});

test("history pages in when scrolling up; a new message while scrolled up shows a pill", async ({ browser }) => {
  const doctor = await psychiatrist(browser);
  const student = await studentInConversation(browser, "Emery");
  for (let i = 1; i <= 60; i++) {
    await send(student.page, `line ${i}`);
  }
  await expect(student.page.locator(".message.mine[data-status=sent]")).toHaveCount(60, { timeout: 30_000 });

  // The server renders the latest 50; the view starts at the bottom.
  await student.page.reload();
  await connected(student.page);
  await expect(student.page.locator(".message")).toHaveCount(50);
  await expect(student.page.locator(".message").last()).toContainText("line 60");
  await expect(student.page.locator(".message").last()).toBeInViewport();

  // Scrolling to the top loads the 10 older ones, oldest first.
  await student.page.locator(".messages").evaluate((el) => el.scrollTo(0, 0));
  await expect(student.page.locator(".message")).toHaveCount(60);
  await expect(student.page.locator(".message").first()).toContainText("line 1");

  // Scrolled up, a new message does not move the view: a pill offers to jump.
  await student.page.locator(".messages").evaluate((el) => el.scrollTo(0, 0));
  await doctor.page.locator(".conversation", { hasText: "Emery" }).getByRole("link").click();
  await connected(doctor.page);
  await send(doctor.page, "Take your time, I'm reading.");
  const pill = student.page.getByRole("button", { name: "New messages ↓" });
  await expect(pill).toBeVisible();
  await pill.click();
  await expect(student.page.locator(".message", { hasText: "Take your time" })).toBeInViewport();
  await expect(pill).toHaveCount(0);

  await student.context.close();
  await doctor.context.close();
});

test("the directory shows whether a psychiatrist is online, live", async ({ browser }) => {
  const doctor = await psychiatrist(browser);
  const { context, page } = await newStudent(browser, "Finley");
  const card = page.locator(".person", { hasText: PSYCHIATRIST.name });
  await expect(card.locator(".status-line")).toHaveAttribute("data-online", "true");
  // The server-rendered page already shows it (before any socket).
  const html = await (await page.request.get("/chat")).text();
  expect(html).toContain('data-online="true"');
  await doctor.context.close();
  // Offline after the grace period (5 s by default).
  await expect(card.locator(".status-line")).toHaveAttribute("data-online", "false", { timeout: 15_000 });
  await context.close();
});

test("someone who left while this tab was offline shows when they left, once it is back", async ({ browser }) => {
  const doctor = await psychiatrist(browser);
  const { context, page } = await newStudent(browser, "Rowan");
  const status = page.locator(".person", { hasText: PSYCHIATRIST.name }).locator(".status-line");
  await expect(status).toHaveAttribute("data-online", "true");

  await context.setOffline(true);
  await expect(page.locator(".connection.visible")).toContainText("You are offline");
  // Until the socket notices (a missed ping), then it reconnects in vain.
  await expect(page.locator(".connection")).toHaveAttribute("data-socket", "reconnecting", { timeout: 60_000 });
  await doctor.context.close();
  // The server counts the psychiatrist gone after its grace period (5 s by default),
  // while this tab cannot hear it.
  await page.waitForTimeout(7_000);
  await context.setOffline(false);
  await connected(page);
  await expect(status).toHaveAttribute("data-online", "false");
  await expect(status).toContainText("last seen");
  await context.close();
});

test("presence, typing, Seen, unread count and tab title between two people", async ({ browser }) => {
  const doctor = await psychiatrist(browser);
  const student = await studentInConversation(browser, "Harper");
  // The shared test psychiatrist may have unread messages from other tests.
  const before = Number((await doctor.page.title()).match(/^\((\d+)\) /)?.[1] ?? 0);
  const titleWith = (n: number) => (n === 0 ? /^[^(]/ : new RegExp(`^\\(${n}\\) `));
  await send(student.page, "Are you there?");
  await expect(student.page.locator(".message.mine[data-status=sent]")).toHaveCount(1);

  // The psychiatrist's sidebar and tab title count the unread message.
  const entry = doctor.page.locator(".conversation", { hasText: "Harper" });
  await expect(entry.locator(".unread")).toHaveText("1");
  await expect(doctor.page).toHaveTitle(titleWith(before + 1));

  // A second tab of the psychiatrist counts it too…
  const otherTab = await doctor.context.newPage();
  await otherTab.goto("/chat");
  await connected(otherTab);
  const otherEntry = otherTab.locator(".conversation", { hasText: "Harper" });
  await expect(otherEntry.locator(".unread")).toHaveText("1");

  // Opening the conversation reads it: the student sees "Seen", the count and title clear.
  await entry.getByRole("link").click();
  await connected(doctor.page);
  // …and clears it when the first tab reads the conversation.
  await expect(otherEntry.locator(".unread")).toHaveCount(0);
  await expect(otherTab).toHaveTitle(titleWith(before));
  await otherTab.close();
  await expect(student.page.locator(".message.mine .status")).toHaveText("Seen");
  await expect(student.page.locator(".message.mine .status")).toHaveAttribute("title", /^Seen \S/);
  await expect(doctor.page).toHaveTitle(titleWith(before));
  await expect(entry.locator(".unread")).toHaveCount(0);

  // The psychiatrist sees the student online; typing shows and clears.
  const status = doctor.page.locator(".conversation-header .status-line");
  await expect(status).toHaveAttribute("data-online", "true");
  await student.page.getByLabel("Message").pressSequentially("I wanted to ask");
  await expect(doctor.page.getByText("Harper is typing…")).toBeVisible();
  await student.page.getByLabel("Message").press("Enter");
  await expect(doctor.page.getByText("Harper is typing…")).toHaveCount(0);
  await expect(doctor.page.locator(".message.theirs", { hasText: "I wanted to ask" })).toHaveCount(1);

  // A reload never shows the student offline; closing the tab does, after the grace period.
  await student.page.reload();
  await connected(student.page);
  await expect(status).toHaveAttribute("data-online", "true");
  await doctor.page.waitForTimeout(6000);
  await expect(status).toHaveAttribute("data-online", "true");
  await student.context.close();
  await expect(status).toHaveAttribute("data-online", "false", { timeout: 15_000 });
  await expect(status).toContainText("last seen just now");

  // And comes online again when the student signs back in.
  const back = await browser.newContext();
  const again = await back.newPage();
  await signIn(again, "student", student.username, STUDENT_PASSWORD);
  await expect(again).toHaveURL(/\/chat$/);
  await expect(status).toHaveAttribute("data-online", "true");
  await back.close();
  await doctor.context.close();
});

test("notifications are offered by a button, never asked for on page load", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  let asked = false;
  await page.exposeFunction("__permissionAsked", () => (asked = true));
  await page.addInitScript(() => {
    const original = Notification.requestPermission.bind(Notification);
    Notification.requestPermission = (...args) => {
      (window as any).__permissionAsked();
      return original(...args);
    };
  });
  await registerStudent(page, uniqueName(), "Jordan");
  await connected(page);
  const button = page.getByRole("button", { name: "Notify me of new messages" });
  await expect(button).toBeVisible();
  expect(asked).toBe(false);
  await button.click();
  await expect.poll(() => asked).toBe(true);
  await context.close();
});

/** Holds the e2e server's SQLite write lock (Python's sqlite3, another process) until
 * released: the server's writer cannot commit meanwhile, as on a stalled disk. */
async function holdWrites() {
  const { spawn } = await import("node:child_process");
  const path = await import("node:path");
  const file = path.resolve(__dirname, "../.e2e/haven.db");
  const script = "import sqlite3, sys\n" +
    "c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)\n" +
    "c.execute('BEGIN IMMEDIATE')\nprint('held', flush=True)\nsys.stdin.read()\nc.execute('ROLLBACK')\n";
  const child = spawn("python3", ["-c", script, file], { stdio: ["pipe", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (d) => String(d).includes("held") && resolve());
    child.on("exit", (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
  return async () => {
    const exited = new Promise((resolve) => child.on("exit", resolve));
    child.stdin.end();
    await exited;
  };
}

/** A number from the server's `/metrics` (0 when the line is absent). */
async function metric(page: Page, line: string): Promise<number> {
  const text = await (await page.request.get("/metrics")).text();
  const found = text.split("\n").find((l) => l.startsWith(line + " "));
  return found ? Number(found.slice(line.length + 1)) : 0;
}

test("a message the busy server refuses stays sending and goes through once it catches up", async ({ browser }) => {
  const doctor = await psychiatrist(browser);
  const student = await studentInConversation(browser, "Rowan");
  await send(student.page, "Before the rush");
  await expect(student.page.locator(".message.mine[data-status=sent]")).toHaveCount(1);
  await doctor.page.locator(".conversation", { hasText: "Rowan" }).getByRole("link").click();
  await expect(doctor.page.locator(".message.theirs", { hasText: "Before the rush" })).toHaveCount(1);
  const busyBefore = await metric(doctor.page, 'haven_errors_total{code="busy"}');

  // The writer cannot commit (its lock is held): the student's next message waits in it, and
  // the server falls behind. (Released within the writer's 5 s patience, so it is kept.)
  const release = await holdWrites();
  await send(student.page, "Taken, waiting for the disk");
  await expect.poll(() => metric(doctor.page, "haven_behind_seconds")).toBeGreaterThan(0.1);
  // Someone else's message now is refused at once...
  await send(doctor.page, "Refused busy, offered again");
  await expect.poll(() => metric(doctor.page, 'haven_errors_total{code="busy"}')).toBeGreaterThan(busyBefore);
  // ...and they see it sending, with nothing to do: refused is not failed.
  const refused = doctor.page.locator(".message.mine", { hasText: "Refused busy, offered again" });
  await expect(refused).toHaveAttribute("data-status", "sending");
  await expect(doctor.page.locator(".message.mine[data-status=failed]")).toHaveCount(0);

  await release();
  // The browser offers it again by itself; each message arrives once, in order, on both sides.
  await expect(refused).toHaveAttribute("data-status", "sent", { timeout: 20_000 });
  await expect(student.page.locator(".message.mine[data-status=sent]")).toHaveCount(2);
  await expect(student.page.locator(".message")).toHaveText([
    /Before the rush/, /Taken, waiting for the disk/, /Refused busy, offered again/,
  ]);
  await expect(doctor.page.locator(".message")).toHaveText([
    /Before the rush/, /Taken, waiting for the disk/, /Refused busy, offered again/,
  ]);
  await doctor.context.close();
  await student.context.close();
});
