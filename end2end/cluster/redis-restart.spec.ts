import { BrowserContext, expect, test } from "@playwright/test";
import { execSync } from "node:child_process";
import { connected, PSYCHIATRIST, registerStudent, signIn, uniqueName } from "../tests/helpers";

const REDIS_PORT = 3470; // end2end/serve-cluster.sh

async function onNode(context: BrowserContext, node: "a" | "b", baseURL: string) {
  await context.addCookies([{ name: "haven_node", value: node, url: baseURL }]);
}

// Runs after node-loss.spec.ts: only node b is left, and both browsers are on it.
test("when Redis restarts, the browsers are sent to reconnect, catch up, and talk live again", async ({ browser, baseURL }) => {
  const studentContext = await browser.newContext();
  await onNode(studentContext, "b", baseURL!);
  const student = await studentContext.newPage();
  await registerStudent(student, uniqueName(), "Kai");
  await student.getByRole("button", { name: `Write to ${PSYCHIATRIST.name}` }).click();
  await expect(student).toHaveURL(/\/chat\/\d+$/);
  await connected(student);
  await student.getByLabel("Message").fill("Synthetic before the outage");
  await student.getByLabel("Message").press("Enter");

  const doctorContext = await browser.newContext();
  await onNode(doctorContext, "b", baseURL!);
  const doctor = await doctorContext.newPage();
  await signIn(doctor, "psychiatrist", PSYCHIATRIST.username, PSYCHIATRIST.password);
  await doctor.locator(".conversation", { hasText: "Kai" }).getByRole("link").click();
  await expect(doctor.locator(".message.theirs", { hasText: "Synthetic before the outage" })).toHaveCount(1);
  await connected(doctor);

  // Redis goes away: within its bound the node sends its sockets away and refuses them.
  execSync(`redis-cli -p ${REDIS_PORT} shutdown nosave`);
  await expect(student.locator(".connection.visible")).toHaveCount(1, { timeout: 15_000 });
  await student.getByLabel("Message").fill("Synthetic during the outage");
  await student.getByLabel("Message").press("Enter");

  // Redis is back (empty): the browsers retry, get in, catch up, and live delivery resumes.
  execSync(`redis-server --port ${REDIS_PORT} --bind 127.0.0.1 --save "" --appendonly no --daemonize yes`);
  await connected(student);
  await connected(doctor);
  const during = student.locator(".message.mine", { hasText: "Synthetic during the outage" });
  await expect(during).toHaveAttribute("data-status", "sent", { timeout: 20_000 });
  await expect(doctor.locator(".message.theirs", { hasText: "Synthetic during the outage" })).toHaveCount(1);
  await doctor.getByLabel("Message").fill("Synthetic after the outage");
  await doctor.getByLabel("Message").press("Enter");
  await expect(student.locator(".message.theirs", { hasText: "Synthetic after the outage" })).toHaveCount(1);
  await expect(during).toHaveCount(1);

  await studentContext.close();
  await doctorContext.close();
  execSync(`redis-cli -p ${REDIS_PORT} shutdown nosave`);
});
