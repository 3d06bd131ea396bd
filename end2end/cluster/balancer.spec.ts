import { BrowserContext, expect, test } from "@playwright/test";
import { connected, PSYCHIATRIST, registerStudent, signIn, uniqueName } from "../tests/helpers";

/** Pins a browser to one node, as the balancer's own cookie would after its first visit. */
async function onNode(context: BrowserContext, node: "a" | "b", baseURL: string) {
  await context.addCookies([{ name: "haven_node", value: node, url: baseURL }]);
}

test("through the balancer, a student on one node and a psychiatrist on the other talk live", async ({ browser, baseURL }) => {
  const studentContext = await browser.newContext();
  await onNode(studentContext, "a", baseURL!);
  const student = await studentContext.newPage();
  await registerStudent(student, uniqueName(), "Rowan");
  await student.getByRole("button", { name: `Write to ${PSYCHIATRIST.name}` }).click();
  await expect(student).toHaveURL(/\/chat\/\d+$/);
  await connected(student);

  const doctorContext = await browser.newContext();
  await onNode(doctorContext, "b", baseURL!);
  const doctor = await doctorContext.newPage();
  await signIn(doctor, "psychiatrist", PSYCHIATRIST.username, PSYCHIATRIST.password);
  await connected(doctor);

  await student.getByLabel("Message").fill("Synthetic hello from node a");
  await student.getByLabel("Message").press("Enter");
  await expect(student.locator(".message.mine", { hasText: "Synthetic hello from node a" })).toHaveAttribute("data-status", "sent");

  // The psychiatrist's sidebar (node b) gets it live; the reply crosses back.
  const entry = doctor.locator(".conversation", { hasText: "Rowan" });
  await expect(entry).toContainText("Synthetic hello from node a");
  await entry.getByRole("link").click();
  await expect(doctor.locator(".message.theirs", { hasText: "Synthetic hello from node a" })).toHaveCount(1);
  await doctor.getByLabel("Message").fill("Synthetic reply from node b");
  await doctor.getByLabel("Message").press("Enter");
  await expect(student.locator(".message.theirs", { hasText: "Synthetic reply from node b" })).toHaveCount(1);

  // Each stayed on its node: the balancer kept the cookie as set.
  const cookie = async (context: BrowserContext) =>
    (await context.cookies()).find((c) => c.name === "haven_node")?.value;
  expect(await cookie(studentContext)).toBe("a");
  expect(await cookie(doctorContext)).toBe("b");

  await studentContext.close();
  await doctorContext.close();
});
