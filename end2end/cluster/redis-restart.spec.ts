import { expect, test } from "@playwright/test";
import { execSync } from "node:child_process";
import { connected } from "../tests/helpers";
import { psychiatristOnNode, send, studentOnNode } from "./helpers";

const REDIS_PORT = 3470; // end2end/serve-cluster.sh

// Runs after node-loss.spec.ts: only node b is left, and both browsers are on it.
test("when Redis restarts, the browsers are sent to reconnect, catch up, and talk live again", async ({ browser, baseURL }) => {
  const student = await studentOnNode(browser, baseURL!, "b", "Kai", "Synthetic before the outage");
  const doctor = await psychiatristOnNode(browser, baseURL!, "b", "Kai", "Synthetic before the outage");

  // Redis goes away: within its bound the node sends its sockets away and refuses them.
  execSync(`redis-cli -p ${REDIS_PORT} shutdown nosave`);
  await expect(student.page.locator(".connection.visible")).toHaveCount(1, { timeout: 15_000 });
  await send(student.page, "Synthetic during the outage");

  // Redis is back (empty): the browsers get in again, catch up, and live delivery resumes.
  execSync(`redis-server --port ${REDIS_PORT} --bind 127.0.0.1 --save "" --appendonly no --daemonize yes`);
  await connected(student.page);
  await connected(doctor.page);
  const during = student.page.locator(".message.mine", { hasText: "Synthetic during the outage" });
  await expect(during).toHaveAttribute("data-status", "sent", { timeout: 20_000 });
  await expect(doctor.page.locator(".message.theirs", { hasText: "Synthetic during the outage" })).toHaveCount(1);
  await send(doctor.page, "Synthetic after the outage");
  await expect(student.page.locator(".message.theirs", { hasText: "Synthetic after the outage" })).toHaveCount(1);
  await expect(during).toHaveCount(1);

  await student.context.close();
  await doctor.context.close();
  execSync(`redis-cli -p ${REDIS_PORT} shutdown nosave`);
});
