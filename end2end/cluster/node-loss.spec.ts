import { BrowserContext, expect, test } from "@playwright/test";
import { execSync } from "node:child_process";
import { connected, PSYCHIATRIST, registerStudent, signIn, uniqueName } from "../tests/helpers";

/** Pins a browser to one node, as the balancer's own cookie would after its first visit. */
async function onNode(context: BrowserContext, node: "a" | "b", baseURL: string) {
  await context.addCookies([{ name: "haven_node", value: node, url: baseURL }]);
}

/** Kills the node listening on `port` without warning (kill -9), as a dying machine would. */
function killNode(port: number) {
  const listening = execSync(`ss -ltnpH "sport = :${port}"`).toString();
  const pid = Number(/pid=(\d+)/.exec(listening)?.[1]);
  expect(pid).toBeGreaterThan(0);
  process.kill(pid, "SIGKILL");
}

// Node a stays dead for the rest of the run: this file runs after balancer.spec.ts.
test("when a student's node dies, the browser reconnects to the other and nothing is lost", async ({ browser, baseURL }) => {
  const studentContext = await browser.newContext();
  await onNode(studentContext, "a", baseURL!);
  const student = await studentContext.newPage();
  await registerStudent(student, uniqueName(), "Sasha");
  await student.getByRole("button", { name: `Write to ${PSYCHIATRIST.name}` }).click();
  await expect(student).toHaveURL(/\/chat\/\d+$/);
  await connected(student);
  await student.getByLabel("Message").fill("Synthetic first words");
  await student.getByLabel("Message").press("Enter");

  const doctorContext = await browser.newContext();
  await onNode(doctorContext, "b", baseURL!);
  const doctor = await doctorContext.newPage();
  await signIn(doctor, "psychiatrist", PSYCHIATRIST.username, PSYCHIATRIST.password);
  await doctor.locator(".conversation", { hasText: "Sasha" }).getByRole("link").click();
  await expect(doctor.locator(".message.theirs", { hasText: "Synthetic first words" })).toHaveCount(1);
  await connected(doctor);

  killNode(Number(process.env.HAVEN_E2E_NODE_A_PORT ?? 3468));

  // Written while the node is gone: kept, then sent once the browser is back (on node b).
  await student.getByLabel("Message").fill("Synthetic words while my node was down");
  await student.getByLabel("Message").press("Enter");
  const mine = student.locator(".message.mine", { hasText: "Synthetic words while my node was down" });
  await expect(mine).toHaveAttribute("data-status", "sent", { timeout: 20_000 });
  await expect(doctor.locator(".message.theirs", { hasText: "Synthetic words while my node was down" })).toHaveCount(1);

  await doctor.getByLabel("Message").fill("Synthetic answer from node b");
  await doctor.getByLabel("Message").press("Enter");
  await expect(student.locator(".message.theirs", { hasText: "Synthetic answer from node b" })).toHaveCount(1);
  await expect(mine).toHaveCount(1);
  expect((await studentContext.cookies()).find((c) => c.name === "haven_node")?.value).toBe("b");

  await studentContext.close();
  await doctorContext.close();
});
