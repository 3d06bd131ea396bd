import { expect, Page, test } from "@playwright/test";
import { hydrated, psychiatrist, registerStudent, studentInConversation, uniqueName } from "./helpers";

async function send(page: Page, text: string) {
  await page.getByLabel("Message").fill(text);
  await page.getByLabel("Message").press("Enter");
}

/** Starts counting which items of the message list change (any node added, removed or
 * edited inside them, or the item itself coming or going). */
async function watchList(page: Page) {
  await page.evaluate(() => {
    const list = document.querySelector("ol.messages")!;
    const touched = new Set<Node>();
    (window as any).__touched = touched;
    const itemOf = (node: Node | null): Node | null => {
      while (node && node.parentNode !== list) node = node.parentNode;
      return node;
    };
    new MutationObserver((records) => {
      for (const r of records) {
        if (r.target === list) {
          r.addedNodes.forEach((n) => touched.add(n));
          r.removedNodes.forEach((n) => touched.add(n));
        } else {
          const item = itemOf(r.target);
          if (item) touched.add(item);
        }
      }
    }).observe(list, { childList: true, subtree: true, characterData: true, attributes: true });
  });
}

async function touchedItems(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...((window as any).__touched as Set<Node>)]
      .filter((n) => n.nodeType === Node.ELEMENT_NODE)
      .map((n) => (n as Element).textContent ?? ""),
  );
}

test("one incoming message changes one item of the conversation's live region", async ({ browser }) => {
  const doctor = await psychiatrist(browser);
  const student = await studentInConversation(browser, "Quinn Quiet");
  for (const text of ["first line", "second line", "third line"]) {
    await send(student.page, text);
    await expect(student.page.locator(".message.mine[data-status=sent]", { hasText: text })).toHaveCount(1);
  }
  await doctor.page.locator(".conversation", { hasText: "Quinn Quiet" }).getByRole("link").click();
  const theirs = doctor.page.locator(".message.theirs");
  await expect(theirs).toHaveCount(3);

  await watchList(doctor.page);
  await send(student.page, "a fourth, new line");
  await expect(doctor.page.locator(".message.theirs", { hasText: "a fourth, new line" })).toHaveCount(1);
  // Let the new line's own clock settle (it turns into local time once rendered).
  await expect(doctor.page.locator(".message.theirs").last().locator(".meta")).not.toBeEmpty();
  const touched = await touchedItems(doctor.page);
  expect(touched.length, JSON.stringify(touched)).toBe(1);
  expect(touched[0]).toContain("a fourth, new line");

  // The sender's own list: only the new line changes while it is sent and confirmed (the
  // psychiatrist leaves first, so no receipt moves meanwhile).
  await expect(student.page.locator(".message.mine", { hasText: "a fourth, new line" }).locator(".status")).toHaveText("Seen");
  await doctor.context.close();
  await watchList(student.page);
  await send(student.page, "and a fifth");
  await expect(student.page.locator(".message.mine[data-status=sent]", { hasText: "and a fifth" })).toHaveCount(1);
  const mine = (await touchedItems(student.page)).filter((t) => !t.includes("and a fifth"));
  expect(mine, "no other line of the sender changed").toEqual([]);
  await student.context.close();
});

test("offline is explained: the banner says why, a waiting message says what it waits for, others' status is not shown as current", async ({ browser }) => {
  const doctor = await psychiatrist(browser);
  const student = await studentInConversation(browser, "Olive Offline");
  const status = student.page.locator(".conversation-header .status-line");
  await expect(status).toHaveAttribute("data-online", "true");

  await student.context.setOffline(true);
  await expect(student.page.locator(".connection.visible")).toContainText("You are offline");
  await expect(status).toHaveAttribute("data-online", "unknown");
  await expect(status.locator(".dot.on")).toHaveCount(0);
  await send(student.page, "written while offline");
  const line = student.page.locator(".message.mine", { hasText: "written while offline" });
  await expect(line).toHaveAttribute("data-status", "sending");
  await expect(line.locator(".status")).toHaveText("waiting for a connection");

  await student.context.setOffline(false);
  await expect(line).toHaveAttribute("data-status", "sent", { timeout: 30_000 });
  await expect(student.page.locator(".connection.visible")).toHaveCount(0);
  await expect(status).toHaveAttribute("data-online", "true");
  await doctor.context.close();
  await student.context.close();
});

/** A student in a conversation with `count` messages already sent. */
async function withHistory(browser: import("@playwright/test").Browser, name: string, count: number) {
  const student = await studentInConversation(browser, name);
  for (let i = 1; i <= count; i++) await send(student.page, `earlier line ${i}`);
  await expect(student.page.locator(".message.mine[data-status=sent]")).toHaveCount(count, { timeout: 30_000 });
  return student;
}

for (const [what, viewport, deviceScaleFactor] of [
  ["at 200% zoom on a laptop", { width: 640, height: 400 }, 2],
  ["on a phone with its keyboard open", { width: 390, height: 508 }, 3],
] as const) {
  test(`the conversation works ${what}`, async ({ browser }) => {
    const student = await withHistory(browser, "Zoe Zoomed", 12);
    const context = await browser.newContext({ viewport, deviceScaleFactor, storageState: await student.context.storageState() });
    const page = await context.newPage();
    await page.goto(student.url);
    await hydrated(page);
    const box = page.getByLabel("Message");
    const sendButton = page.getByRole("button", { name: "Send" });
    // The composer and Send are on screen, with at least three messages above them.
    await expect(box).toBeInViewport();
    await box.fill("typed while zoomed");
    await expect(sendButton).toBeInViewport({ ratio: 1 });
    for (const n of [12, 11, 10]) {
      await expect(page.locator(".message", { hasText: `earlier line ${n}` }).last()).toBeInViewport({ ratio: 1 });
    }
    // The rest of the history is reachable by scrolling.
    const first = page.locator(".message", { hasText: "earlier line 1" }).first();
    await expect(first).not.toBeInViewport();
    await first.scrollIntoViewIfNeeded();
    await expect(first).toBeInViewport();
    // And sending still lands on screen.
    await box.press("Enter");
    await expect(page.locator(".message.mine[data-status=sent]", { hasText: "typed while zoomed" })).toBeInViewport();
    await context.close();
    await student.context.close();
  });
}

test("before the app has loaded, a conversation opens at its newest message and Enter sends", async ({ browser }) => {
  const student = await withHistory(browser, "Pia Patient", 30);
  // A first visit on this device (no service worker yet, which would serve the WASM from
  // its cache past the route below), signed in as the student.
  const firstVisit = await browser.newContext({
    serviceWorkers: "block",
    storageState: await student.context.storageState(),
  });
  const page = await firstVisit.newPage();
  // The app never arrives: the page stays the server's plain form.
  await page.route(/\.wasm(\?|$)/, (route) => route.abort());
  await page.goto(student.url);
  // The body exactly: "earlier line 3" followed by a time like "0:39" reads the same.
  const newest = page.locator(".message", { has: page.locator("p.body", { hasText: /^earlier line 30$/ }) });
  await expect(newest).toBeInViewport();
  await page.getByLabel("Message").fill("sent before the app loaded");
  await page.getByLabel("Message").press("Enter");
  await expect(page).toHaveURL(/#m-\d+$/);
  await expect(page.locator(".message", { hasText: "sent before the app loaded" })).toBeInViewport();
  await expect(page.locator("html[data-hydrated]")).toHaveCount(0);
  await firstVisit.close();
  await student.context.close();
});

test("a psychiatrist's order stays after a reload; on a phone the top bar keeps the name", async ({ browser }) => {
  const doctor = await psychiatrist(browser);
  const toggle = doctor.page.getByLabel("Longest waiting first");
  await expect(toggle).not.toBeChecked();
  await toggle.check();
  await doctor.page.reload();
  await hydrated(doctor.page);
  await expect(toggle).toBeChecked();
  await toggle.uncheck();
  await doctor.page.reload();
  await hydrated(doctor.page);
  await expect(toggle).not.toBeChecked();
  await doctor.context.close();

  const student = await studentInConversation(browser, "Phoebe Phone");
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, storageState: await student.context.storageState() });
  const page = await phone.newPage();
  await page.goto("/chat");
  await hydrated(page);
  await expect(page.locator(".topbar .display-name")).toBeVisible();
  const settings = page.locator(".topbar").getByRole("link", { name: "Settings" });
  // One line: its height is one line of text, not two.
  const box = await settings.boundingBox();
  expect(box!.height).toBeLessThan(30);
  await phone.close();
  await student.context.close();
});

test("on a narrow phone the recovery code stays on one line, within the screen", async ({ browser }) => {
  for (const width of [320, 390]) {
    const context = await browser.newContext({ viewport: { width, height: 640 } });
    const page = await context.newPage();
    await registerStudent(page, uniqueName(), "Nadia Narrow", async (page) => {
      const code = page.locator("#recovery-code");
      // The line each character sits on.
      const lines = await code.evaluate((code) => {
        const text = [...code.childNodes].find((n) => n.nodeType === Node.TEXT_NODE && (n as Text).length >= 20) as Text;
        const tops = [...text.data].map((_, i) => {
          const range = document.createRange();
          range.setStart(text, i);
          range.setEnd(text, i + 1);
          return Math.round(range.getBoundingClientRect().top);
        });
        return new Set(tops).size;
      });
      expect(lines, `one line at ${width} px`).toBe(1);
      const box = (await code.boundingBox())!;
      expect(box.x + box.width).toBeLessThanOrEqual(width);
    });
    await context.close();
  }
});
