import { Browser, expect, Page } from "@playwright/test";

export const PSYCHIATRIST = { username: "dr.e2e", password: "synthetic-e2e-password", name: "Dr. Edda Synthetic" };
export const STUDENT_PASSWORD = "synthetic-student-pass";

let counter = 0;
/** A fresh synthetic username for each test. */
export function uniqueName(prefix = "stu"): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}`;
}

/** Waits until the WASM has hydrated the page (the app marks <html data-hydrated>). */
export async function hydrated(page: Page) {
  await expect(page.locator("html[data-hydrated]")).toHaveCount(1);
}

/**
 * Registers a student through the form, passes the recovery code screen (`atRecoveryCode`
 * may look at it first) and waits for the chat. Answers the recovery code shown.
 */
export async function registerStudent(
  page: Page,
  username: string,
  displayName = "Synthetic Student",
  atRecoveryCode?: (page: Page) => Promise<void>,
): Promise<string> {
  await page.goto("/register");
  await hydrated(page);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Display name").fill(displayName);
  await page.getByLabel("Password").fill(STUDENT_PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  const code = await passRecoveryCode(page, atRecoveryCode);
  await expect(page.locator(".topbar .display-name")).toHaveText(displayName);
  return code;
}

/** On the recovery code screen: reads the code, says it is saved, and waits for the chat. */
export async function passRecoveryCode(page: Page, atRecoveryCode?: (page: Page) => Promise<void>): Promise<string> {
  await expect(page).toHaveURL(/\/chat\/recovery-code$/);
  const code = (await page.locator("#recovery-code").textContent())!.trim();
  expect(code).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){4}$/);
  if (atRecoveryCode) await atRecoveryCode(page);
  await page.getByRole("button", { name: "I have saved it, continue" }).click();
  await expect(page).toHaveURL(/\/chat$/);
  return code;
}

/** Signs in on a role's page. */
export async function signIn(page: Page, role: "student" | "psychiatrist", username: string, password: string) {
  await page.goto(`/login/${role}`);
  await hydrated(page);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** Hydrated and the socket connected (no banner). */
export async function connected(page: Page) {
  await hydrated(page);
  await expect(page.locator(".connection.visible")).toHaveCount(0);
}

/** A new student (own browser context) in a conversation with the test psychiatrist. */
export async function studentInConversation(browser: Browser, displayName: string) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const username = uniqueName();
  await registerStudent(page, username, displayName);
  await page.getByRole("button", { name: `Write to ${PSYCHIATRIST.name}` }).click();
  await expect(page).toHaveURL(/\/chat\/\d+$/);
  await connected(page);
  return { context, page, url: page.url(), username };
}

export async function psychiatrist(browser: Browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, "psychiatrist", PSYCHIATRIST.username, PSYCHIATRIST.password);
  await expect(page).toHaveURL(/\/chat$/);
  await connected(page);
  return { context, page };
}

