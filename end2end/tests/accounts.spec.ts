import { expect, test } from "@playwright/test";
import { hydrated, passRecoveryCode, PSYCHIATRIST, registerStudent, signIn, STUDENT_PASSWORD, uniqueName } from "./helpers";

test("a student registers and lands in the chat", async ({ page }) => {
  await registerStudent(page, uniqueName(), "Robin");
  await expect(page.getByText("No conversations yet.")).toBeVisible();
  await expect(page.getByRole("heading", { name: "Talk to a psychiatrist" })).toBeVisible();
  await expect(page).toHaveTitle("Haven");
});

test("the psychiatrist created with the CLI signs in on their page", async ({ page }) => {
  await signIn(page, "psychiatrist", PSYCHIATRIST.username, PSYCHIATRIST.password);
  await expect(page).toHaveURL(/\/chat$/);
  await expect(page.locator(".topbar .display-name")).toHaveText(PSYCHIATRIST.name);
  await expect(page.getByText("No student has written to you yet.", { exact: false })).toBeVisible();
});

test("each role's credentials fail on the other role's page, with a clear message", async ({ browser }) => {
  const student = await browser.newContext();
  const studentPage = await student.newPage();
  const username = uniqueName();
  await registerStudent(studentPage, username);
  await student.close();

  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, "psychiatrist", username, STUDENT_PASSWORD);
  await expect(page.getByRole("alert")).toContainText("This sign-in page is for psychiatrists");
  await expect(page).toHaveURL(/\/login\/psychiatrist/);

  await signIn(page, "student", PSYCHIATRIST.username, PSYCHIATRIST.password);
  await expect(page.getByRole("alert")).toContainText("This sign-in page is for students");
  await context.close();
});

test("a wrong password says so without telling whether the user exists", async ({ page }) => {
  await signIn(page, "student", uniqueName("ghost"), "not-the-right-password");
  await expect(page.getByRole("alert")).toHaveText("Incorrect username or password.");
});

test("signing out ends the session and /chat goes back to sign-in", async ({ page }) => {
  await registerStudent(page, uniqueName());
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login\/student$/);
  await page.goto("/chat");
  await expect(page).toHaveURL(/\/login\/student\?next=%2Fchat$/);
});

test("signed out, chat pages are redirected by the server and sign-in returns there", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const username = uniqueName();
  const setup = await (await browser.newContext()).newPage();
  await registerStudent(setup, username);
  await page.goto("/chat/settings");
  await expect(page).toHaveURL(/\/login\/student\?next=%2Fchat%2Fsettings$/);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(STUDENT_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/chat\/settings$/);
  await expect(page.getByRole("heading", { name: "Settings" })).toBeVisible();
  await context.close();
});

test("the register form checks a field as soon as it is left (hydrated code only)", async ({ page }) => {
  await page.goto("/register");
  await hydrated(page);
  const password = page.getByLabel("Password");
  await password.fill("short");
  await password.blur();
  // Shown without any submit: only the hydrated WASM can render this message.
  await expect(page.getByText("Passwords need at least 10 characters (5 more).")).toBeVisible();
  await expect(password).toHaveAttribute("aria-invalid", "true");
  await password.fill("now-long-enough");
  await expect(page.getByText("Passwords need at least 10 characters")).toHaveCount(0);
});

test("registration and sign-in work without JavaScript", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const username = uniqueName("nojs");
  await page.goto("/register");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Display name").fill("Plain Form");
  await page.getByLabel("Password").fill(STUDENT_PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await passRecoveryCode(page);
  await expect(page.locator(".topbar .display-name")).toHaveText("Plain Form");

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login\/student$/);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill("wrong-password-here");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Incorrect username or password.");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(STUDENT_PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/chat$/);
  await context.close();
});
