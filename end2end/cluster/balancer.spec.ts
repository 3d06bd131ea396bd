import { expect, test } from "@playwright/test";
import { nodeOf, psychiatristOnNode, send, studentOnNode } from "./helpers";

test("through the balancer, a student on one node and a psychiatrist on the other talk live", async ({ browser, baseURL }) => {
  // The psychiatrist's sidebar (node b) gets the student's words (node a) live.
  const student = await studentOnNode(browser, baseURL!, "a", "Rowan", "Synthetic hello from node a");
  const doctor = await psychiatristOnNode(browser, baseURL!, "b", "Rowan", "Synthetic hello from node a");

  // The reply crosses back.
  await send(doctor.page, "Synthetic reply from node b");
  await expect(student.page.locator(".message.theirs", { hasText: "Synthetic reply from node b" })).toHaveCount(1);

  // Each stayed on its node: the balancer kept the cookie as set.
  expect(await nodeOf(student.context)).toBe("a");
  expect(await nodeOf(doctor.context)).toBe("b");
  await student.context.close();
  await doctor.context.close();
});
