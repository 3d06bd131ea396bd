import { Browser, BrowserContext, expect, Page } from "@playwright/test";
import { connected, PSYCHIATRIST, registerStudent, signIn, uniqueName } from "../tests/helpers";

export type Node = "a" | "b";

/** Pins a browser to one node, as the balancer's own cookie would after its first visit. */
export async function onNode(context: BrowserContext, node: Node, baseURL: string) {
  await context.addCookies([{ name: "haven_node", value: node, url: baseURL }]);
}

/** A new student pinned to `node`, who writes `firstWords` to the test psychiatrist. */
export async function studentOnNode(browser: Browser, baseURL: string, node: Node, name: string, firstWords: string) {
  const context = await browser.newContext();
  await onNode(context, node, baseURL);
  const page = await context.newPage();
  await registerStudent(page, uniqueName(), name);
  await page.getByRole("button", { name: `Write to ${PSYCHIATRIST.name}` }).click();
  await expect(page).toHaveURL(/\/chat\/\d+$/);
  await connected(page);
  await send(page, firstWords);
  await expect(page.locator(".message.mine", { hasText: firstWords })).toHaveAttribute("data-status", "sent");
  return { context, page };
}

/** The test psychiatrist pinned to `node`, in the conversation with `student`, having read `firstWords`. */
export async function psychiatristOnNode(browser: Browser, baseURL: string, node: Node, student: string, firstWords: string) {
  const context = await browser.newContext();
  await onNode(context, node, baseURL);
  const page = await context.newPage();
  await signIn(page, "psychiatrist", PSYCHIATRIST.username, PSYCHIATRIST.password);
  const entry = page.locator(".conversation", { hasText: student });
  await expect(entry).toContainText(firstWords);
  await entry.getByRole("link").click();
  await expect(page.locator(".message.theirs", { hasText: firstWords })).toHaveCount(1);
  await connected(page);
  return { context, page };
}

/** Types `text` into the composer and sends it. */
export async function send(page: Page, text: string) {
  await page.getByLabel("Message").fill(text);
  await page.getByLabel("Message").press("Enter");
}

/** The node a browser's balancer cookie names now. */
export async function nodeOf(context: BrowserContext) {
  return (await context.cookies()).find((c) => c.name === "haven_node")?.value;
}
