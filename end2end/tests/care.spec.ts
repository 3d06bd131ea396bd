import { Browser, expect, Page, test } from "@playwright/test";
import { hydrated, PSYCHIATRIST, registerStudent, signIn, uniqueName } from "./helpers";

/** The short crisis notice: a landmark named "Urgent help", the urgent lines, the full list. */
async function expectCrisisNotice(page: Page) {
  const notice = page.getByRole("complementary", { name: "Urgent help" });
  await expect(notice).toContainText("Not for emergencies");
  await expect(notice.locator('a[href="tel:999"]')).toHaveCount(1);
  await expect(notice.getByRole("link", { name: "All crisis lines and hours" })).toHaveAttribute("href", "/help");
}

test("the crisis notice is on every screen, with JavaScript", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  for (const path of ["/", "/login/student", "/register"]) {
    await page.goto(path);
    await hydrated(page);
    await expectCrisisNotice(page);
  }
  await registerStudent(page, uniqueName(), "Quinn Crisis");
  await expectCrisisNotice(page); // the directory
  await page.getByRole("button", { name: `Write to ${PSYCHIATRIST.name}` }).click();
  await expect(page).toHaveURL(/\/chat\/\d+$/);
  await expectCrisisNotice(page); // a conversation
  await page.getByRole("link", { name: "All crisis lines and hours" }).click();
  await expect(page).toHaveURL(/\/help$/);
  await expect(page.getByRole("heading", { name: "Samaritans" })).toBeVisible();
  await context.close();
});

test("the crisis notice and the full list work without JavaScript", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  for (const path of ["/", "/login/psychiatrist"]) {
    await page.goto(path);
    await expectCrisisNotice(page);
  }
  await page.getByRole("link", { name: "All crisis lines and hours" }).click();
  await expect(page).toHaveURL(/\/help$/);
  await expect(page.locator(".crisis-card h2")).toHaveCount(5);
  await expect(page.getByRole("link", { name: "116 123" })).toHaveAttribute("href", "tel:116123");
  await context.close();
});

test("a psychiatrist's office hours and leave are what students see", async ({ browser }) => {
  const doctorContext = await browser.newContext();
  const doctor = await doctorContext.newPage();
  await signIn(doctor, "psychiatrist", PSYCHIATRIST.username, PSYCHIATRIST.password);
  await expect(doctor).toHaveURL(/\/chat$/);
  await doctor.getByRole("link", { name: "Availability" }).click();
  await expect(doctor).toHaveURL(/\/chat\/availability$/);
  await hydrated(doctor);
  await doctor.getByLabel("Away until").fill("2099-12-02");
  await doctor.getByLabel("A note for students").fill("On leave, back in December");
  await doctor.getByRole("button", { name: "Save" }).click();
  await expect(doctor.locator(".availability-now")).toContainText("Away, back on Wednesday 2 December");

  const studentContext = await browser.newContext();
  const student = await studentContext.newPage();
  await registerStudent(student, uniqueName(), "Sol Hours");
  const card = student.locator(".person", { hasText: PSYCHIATRIST.name });
  await expect(card.locator(".availability")).toContainText("Away, back on Wednesday 2 December");
  await expect(card).toContainText("On leave, back in December");

  // Back from leave: the shared psychiatrist is left as the other tests expect.
  await doctor.getByLabel("Away until").fill("");
  await doctor.getByLabel("A note for students").fill("");
  await doctor.getByRole("button", { name: "Save" }).click();
  await expect(doctor.locator(".availability-now")).toContainText("No office hours set");
  await doctorContext.close();
  await studentContext.close();
});

/** Records every system notification the page shows, and makes the tab count as hidden. */
async function recordNotifications(browser: Browser) {
  const context = await browser.newContext();
  await context.grantPermissions(["notifications"]);
  await context.addInitScript(() => {
    const Original = window.Notification;
    (window as any).__notes = [];
    class Recorded extends Original {
      constructor(title: string, options?: NotificationOptions) {
        super(title, options);
        (window as any).__notes.push({ title, body: options?.body ?? "" });
      }
    }
    (window as any).Notification = Recorded;
    Object.defineProperty(document, "hidden", { get: () => true });
  });
  return context;
}

test("notifications name nobody by default, names only when chosen, and turn off", async ({ browser }) => {
  const doctorContext = await recordNotifications(browser);
  const doctor = await doctorContext.newPage();
  await signIn(doctor, "psychiatrist", PSYCHIATRIST.username, PSYCHIATRIST.password);
  await expect(doctor).toHaveURL(/\/chat$/);

  const studentContext = await browser.newContext();
  const student = await studentContext.newPage();
  await registerStudent(student, uniqueName(), "Ellis Private");
  await student.getByRole("button", { name: `Write to ${PSYCHIATRIST.name}` }).click();
  await expect(student).toHaveURL(/\/chat\/\d+$/);
  await hydrated(student);
  const send = async (text: string) => {
    await student.getByLabel("Message").fill(text);
    await student.getByLabel("Message").press("Enter");
    await expect(student.locator(".message.mine[data-status=sent]", { hasText: text })).toHaveCount(1);
  };
  await send("first words");
  await doctor.reload();
  await hydrated(doctor);
  await expect(doctor.locator(".conversation", { hasText: "Ellis Private" })).toHaveCount(1);
  const notes = () => doctor.evaluate(() => (window as any).__notes as { title: string; body: string }[]);
  const setting = doctor.getByLabel("Notifications");
  await expect(setting).toHaveValue("private");

  await send("secret words one");
  await expect.poll(async () => (await notes()).length).toBe(1);
  expect((await notes())[0]).toEqual({ title: "New message — Haven", body: "" });

  await setting.selectOption("names");
  await send("secret words two");
  await expect.poll(async () => (await notes()).length).toBe(2);
  expect((await notes())[1]).toEqual({ title: "New message from Ellis Private — Haven", body: "" });

  await setting.selectOption("off");
  await send("secret words three");
  await doctor.waitForTimeout(1000);
  expect((await notes()).length).toBe(2);
  expect(JSON.stringify(await notes())).not.toContain("secret");
  await setting.selectOption("private"); // the shared psychiatrist's browser is thrown away anyway
  await doctorContext.close();
  await studentContext.close();
});

/** The shared psychiatrist's leave, set or cleared on the availability page. */
async function setLeave(doctor: Page, backOn: string) {
  await doctor.goto("/chat/availability");
  await hydrated(doctor);
  await doctor.getByLabel("Away until").fill(backOn);
  await doctor.getByRole("button", { name: "Save" }).click();
  await expect(doctor.locator(".availability-now")).toContainText(backOn ? "Away, back on" : "No office hours set");
}

/** Opens the conversation with the shared psychiatrist and sends `text`. */
async function writeToDoctor(student: Page, text: string) {
  if (!/\/chat\/\d+$/.test(student.url())) {
    await student.getByRole("button", { name: `Write to ${PSYCHIATRIST.name}` }).click();
    await expect(student).toHaveURL(/\/chat\/\d+$/);
  }
  await hydrated(student);
  await student.getByLabel("Message").fill(text);
  await student.getByLabel("Message").press("Enter");
  await expect(student.locator(".message.mine[data-status=sent]", { hasText: text })).toHaveCount(1);
}

test("a student writing while the psychiatrist is away sees one notice with when they are back", async ({ browser }) => {
  const doctorContext = await browser.newContext();
  const doctor = await doctorContext.newPage();
  await signIn(doctor, "psychiatrist", PSYCHIATRIST.username, PSYCHIATRIST.password);
  await expect(doctor).toHaveURL(/\/chat$/);
  await setLeave(doctor, "2099-12-02");

  const studentContext = await browser.newContext();
  const student = await studentContext.newPage();
  await registerStudent(student, uniqueName(), "Noor Night");
  await student.getByRole("button", { name: `Write to ${PSYCHIATRIST.name}` }).click();
  // Before writing, the empty conversation says who reads it and when.
  await expect(student.locator(".first-message")).toContainText(`Only ${PSYCHIATRIST.name} reads what you write here`);
  await expect(student.locator(".first-message")).toContainText("Away, back on Wednesday 2 December");
  await writeToDoctor(student, "I can't sleep tonight");
  const notice = student.locator("li.message.notice");
  await expect(notice).toHaveCount(1);
  await expect(notice).toContainText("Automatic notice from Haven — not a reply");
  await expect(notice).toContainText("back on Wednesday 2 December");
  // The crisis lines inside the notice are one tap away, as in the banner.
  await expect(notice.getByRole("link", { name: "116 123" })).toHaveAttribute("href", "tel:116123");
  await expect(notice.getByRole("link", { name: "every crisis line and its hours" })).toHaveAttribute("href", "/help");
  await expect(student.locator(".conversation-header")).toContainText("Away, back on Wednesday 2 December");
  // Signed in while away is no promise: no green dot beside "Away".
  const status = student.locator(".conversation-header .status-line");
  await expect(status).toContainText("online, but outside office hours");
  await expect(status.locator(".dot.on")).toHaveCount(0);
  // Triage: the psychiatrist's list previews what the student wrote, not the notice, live
  // and after a reload.
  const preview = doctor.locator(".conversation", { hasText: "Noor Night" }).locator(".preview");
  await expect(preview).toHaveText("I can't sleep tonight");
  await doctor.reload();
  await expect(preview).toHaveText("I can't sleep tonight");

  // Not repeated, and still there after a reload.
  await writeToDoctor(student, "still awake");
  await student.reload();
  await hydrated(student);
  await expect(notice).toHaveCount(1);

  await setLeave(doctor, "");
  await doctorContext.close();
  await studentContext.close();
});

test("a psychiatrist sorts the students by who has waited longest", async ({ browser }) => {
  const names = ["Ada Waiting-Longest", "Ben Waiting-Less"];
  for (const name of names) {
    const context = await browser.newContext();
    const student = await context.newPage();
    await registerStudent(student, uniqueName(), name);
    await writeToDoctor(student, `hello from ${name}`);
    await context.close();
  }
  const doctorContext = await browser.newContext();
  const doctor = await doctorContext.newPage();
  await signIn(doctor, "psychiatrist", PSYCHIATRIST.username, PSYCHIATRIST.password);
  await expect(doctor).toHaveURL(/\/chat$/);
  await hydrated(doctor);
  for (const name of names) {
    await expect(doctor.locator(".conversation-list li", { hasText: name })).toHaveCount(1);
  }
  const order = async () => {
    const listed = await doctor.locator(".conversation-list li").allInnerTexts();
    return names.map((name) => listed.findIndex((text) => text.includes(name)));
  };
  // Most recent first by default; the one who wrote first is waiting longest.
  let [first, second] = await order();
  expect(first).toBeGreaterThan(second);
  await doctor.getByLabel("Longest waiting first").check();
  [first, second] = await order();
  expect(first).toBeLessThan(second);
  await expect(doctor.locator(".conversation-list li", { hasText: names[0] })).toContainText("Awaiting reply");

  // The home's count of students awaiting a reply follows as they write, without a reload.
  const waiting = doctor.locator("main .empty-state");
  const counted = (await waiting.innerText()).match(/(\d+) students are awaiting a reply/);
  expect(counted).not.toBeNull();
  const context = await browser.newContext();
  const student = await context.newPage();
  await registerStudent(student, uniqueName(), "Cy Waiting-Newest");
  await writeToDoctor(student, "hello from Cy");
  await expect(waiting).toContainText(`${Number(counted![1]) + 1} students are awaiting a reply`);
  await context.close();
  await doctorContext.close();
});
