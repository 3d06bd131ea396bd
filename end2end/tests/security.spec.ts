import { BrowserContext, expect, Page, test } from "@playwright/test";
import { hydrated, PSYCHIATRIST, registerStudent, signIn, uniqueName } from "./helpers";

/** Markup that would run if it ever reached the page as HTML. */
const MARKUP = `</script><script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">`;

/**
 * A context whose pages record every Content-Security-Policy violation (the DOM event and
 * the console's report) and every dialog, so a test can assert there were none.
 */
async function watched(context: BrowserContext) {
  const problems: string[] = [];
  await context.addInitScript(() => {
    (window as any).__csp = [];
    document.addEventListener("securitypolicyviolation", (e) => {
      (window as any).__csp.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  const page = await context.newPage();
  page.on("console", (msg) => {
    if (/Content Security Policy|Refused to/i.test(msg.text())) problems.push(msg.text());
  });
  page.on("dialog", (dialog) => {
    problems.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  return { page, problems };
}

async function noViolations(page: Page, problems: string[]) {
  const fromDom = await page.evaluate(() => (window as any).__csp as string[]);
  expect([...problems, ...fromDom]).toEqual([]);
  expect(await page.evaluate(() => (window as any).__pwned)).toBeUndefined();
}

test("every page hydrates and works under the CSP, and markup in a message stays text", async ({ browser }) => {
  const studentContext = await browser.newContext();
  const student = await watched(studentContext);
  await student.page.goto("/");
  await expect(student.page.getByRole("heading").first()).toBeVisible();
  await hydrated(student.page);
  await registerStudent(student.page, uniqueName(), "Csp Student");
  await student.page.getByRole("button", { name: `Write to ${PSYCHIATRIST.name}` }).click();
  await expect(student.page).toHaveURL(/\/chat\/\d+$/);
  await hydrated(student.page);
  await expect(student.page.locator(".connection.visible")).toHaveCount(0);

  await student.page.getByLabel("Message").fill(MARKUP);
  await student.page.getByLabel("Message").press("Enter");
  const mine = student.page.locator(".message.mine .body", { hasText: "window.__pwned=1" });
  await expect(mine).toHaveText(MARKUP);
  await expect(student.page.locator(".message.mine").last()).toHaveAttribute("data-status", "sent");
  // The title names nobody.
  await expect(student.page).toHaveTitle("Conversation · Haven");

  const doctorContext = await browser.newContext();
  const doctor = await watched(doctorContext);
  await signIn(doctor.page, "psychiatrist", PSYCHIATRIST.username, PSYCHIATRIST.password);
  await expect(doctor.page).toHaveURL(/\/chat$/);
  await doctor.page.locator(".conversation", { hasText: "Csp Student" }).getByRole("link").click();
  await expect(doctor.page.locator(".message.theirs .body").last()).toHaveText(MARKUP);
  await hydrated(doctor.page);
  // Reloaded, the same message comes from the server-rendered HTML and hydration data.
  await doctor.page.reload();
  await hydrated(doctor.page);
  await expect(doctor.page.locator(".message.theirs .body").last()).toHaveText(MARKUP);
  await expect(doctor.page.locator("img[onerror]")).toHaveCount(0);

  for (const path of ["/login/student", "/login/psychiatrist", "/register"]) {
    const visitorContext = await browser.newContext();
    const visitor = await watched(visitorContext);
    await visitor.page.goto(path);
    await hydrated(visitor.page);
    await noViolations(visitor.page, visitor.problems);
    await visitorContext.close();
  }
  await noViolations(student.page, student.problems);
  await noViolations(doctor.page, doctor.problems);
  await studentContext.close();
  await doctorContext.close();
});
