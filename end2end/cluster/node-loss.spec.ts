import { expect, test } from "@playwright/test";
import { execSync } from "node:child_process";
import { nodeOf, psychiatristOnNode, send, studentOnNode } from "./helpers";

/** Kills the node listening on `port` without warning (kill -9), as a dying machine would. */
function killNode(port: number) {
  const listening = execSync(`ss -ltnpH "sport = :${port}"`).toString();
  const pid = Number(/pid=(\d+)/.exec(listening)?.[1]);
  expect(pid).toBeGreaterThan(0);
  process.kill(pid, "SIGKILL");
}

// Node a stays dead for the rest of the run: this file runs after balancer.spec.ts.
test("when a student's node dies, the browser reconnects to the other and nothing is lost", async ({ browser, baseURL }) => {
  const student = await studentOnNode(browser, baseURL!, "a", "Sasha", "Synthetic first words");
  const doctor = await psychiatristOnNode(browser, baseURL!, "b", "Sasha", "Synthetic first words");

  killNode(3468); // node a (end2end/serve-cluster.sh)

  // Written while the node is gone: kept, then sent once the browser is back (on node b).
  await send(student.page, "Synthetic words while my node was down");
  const mine = student.page.locator(".message.mine", { hasText: "Synthetic words while my node was down" });
  await expect(mine).toHaveAttribute("data-status", "sent", { timeout: 20_000 });
  await expect(doctor.page.locator(".message.theirs", { hasText: "Synthetic words while my node was down" })).toHaveCount(1);

  await send(doctor.page, "Synthetic answer from node b");
  await expect(student.page.locator(".message.theirs", { hasText: "Synthetic answer from node b" })).toHaveCount(1);
  await expect(mine).toHaveCount(1);
  expect(await nodeOf(student.context)).toBe("b");
  await student.context.close();
  await doctor.context.close();
});
