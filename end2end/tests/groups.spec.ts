import AxeBuilder from "@axe-core/playwright";
import { expect, Page, test } from "@playwright/test";
import { connected, psychiatrist, studentInConversation, uniqueName } from "./helpers";

/** axe-core's WCAG 2.1 A/AA rules and best practices on the page as it is. */
async function expectNoAxeViolations(page: Page, what: string) {
  const results = await new AxeBuilder({ page }).analyze();
  const found = results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  expect(found, `axe on ${what}`).toEqual([]);
}

async function send(page: Page, text: string) {
  await page.getByLabel("Message").fill(text);
  await page.getByLabel("Message").press("Enter");
}

test("a psychiatrist leads a group: invitations, an alias, live talk, moderation", async ({ browser }) => {
  // Three browsers and two full accessibility analyses: more than the default 30 s.
  test.setTimeout(120_000);
  const doctor = await psychiatrist(browser);
  const gale = await studentInConversation(browser, "Gale Groupwise");
  const ives = await studentInConversation(browser, "Ives Groupwise");
  // Each wrote to the psychiatrist first: they are the psychiatrist's students.
  await send(gale.page, "synthetic: hello from gale");
  await send(ives.page, "synthetic: hello from ives");
  await expect(doctor.page.locator(".conversation", { hasText: "Gale Groupwise" })).toHaveCount(1);
  await expect(doctor.page.locator(".conversation", { hasText: "Ives Groupwise" })).toHaveCount(1);

  const name = uniqueName("Exam stress");
  const form = doctor.page.locator(".new-group");
  await form.getByText("New support group").click();
  await form.getByLabel("Name").fill(name);
  await form.getByLabel("Description").fill("Synthetic: a weekly space to talk about exams.");
  await form.getByRole("button", { name: "Create the group" }).click();
  await expect(doctor.page).toHaveURL(/\/chat\/\d+$/);
  await expect(doctor.page.locator(".group-header h1")).toHaveText(name);
  await connected(doctor.page);
  const groupUrl = doctor.page.url();

  for (const student of ["Gale Groupwise", "Ives Groupwise"]) {
    await doctor.page.getByLabel("Invite a student").selectOption({ label: student });
    await doctor.page.getByRole("button", { name: "Invite", exact: true }).click();
    await expect(doctor.page.locator(".group-invite [role=status]")).toHaveText("Invitation sent.");
  }

  // Both see the invitation live, with what the group is and who leads it.
  const galeInvite = gale.page.locator(".invitation", { hasText: name });
  await expect(galeInvite).toContainText("Synthetic: a weekly space to talk about exams.");
  await expect(galeInvite).toContainText("led by Dr. Edda Synthetic");
  await galeInvite.getByLabel("Show me in this group as").fill("Quiet Fox");
  await galeInvite.getByRole("button", { name: "Join" }).click();
  await expect(gale.page).toHaveURL(groupUrl);
  await connected(gale.page);

  const ivesInvite = ives.page.locator(".invitation", { hasText: name });
  await ivesInvite.getByRole("button", { name: "Join" }).click();
  await expect(ives.page).toHaveURL(groupUrl);
  await connected(ives.page);
  await expect(ives.page.locator(".quiet-line", { hasText: "Ives Groupwise joined the group" })).toHaveCount(1);

  // They talk in real time; each line says who wrote it, by the name they chose.
  await send(gale.page, "synthetic: hi everyone");
  const atIves = ives.page.locator(".message.theirs", { hasText: "synthetic: hi everyone" });
  await expect(atIves).toHaveCount(1);
  await expect(atIves.locator(".author")).toHaveText("Quiet Fox");
  await expect(gale.page.locator(".message.mine", { hasText: "synthetic: hi everyone" })).toHaveAttribute("data-status", "sent");
  await expect(doctor.page.locator(".message.theirs", { hasText: "synthetic: hi everyone" })).toHaveCount(1);
  await send(ives.page, "synthetic: hi fox");
  await expect(gale.page.locator(".message.theirs .author", { hasText: "Ives Groupwise" })).toHaveCount(1);
  // "Seen by": Ives read Gale's message.
  await expect(gale.page.locator(".message.mine", { hasText: "synthetic: hi everyone" }).locator(".status"))
    .toHaveText(/Seen by [12]/);
  // Ives never sees the name behind Gale's alias.
  await expect(ives.page.locator("body")).not.toContainText("Gale");
  // The leader does.
  await doctor.page.locator(".group-members summary").click();
  await expect(doctor.page.locator(".group-members")).toContainText("Quiet Fox (Gale Groupwise)");

  // The group's screens, as a student and as the leader, pass axe-core.
  await expectNoAxeViolations(gale.page, "a group, as a student");
  await expectNoAxeViolations(doctor.page, "a group, as its leader");

  // The leader removes a message: gone for everyone, live.
  await send(ives.page, "synthetic: an unkind remark");
  const unkind = doctor.page.locator(".message", { hasText: "synthetic: an unkind remark" });
  await unkind.getByRole("button", { name: "Remove" }).click();
  await expect(gale.page.locator(".message", { hasText: "synthetic: an unkind remark" })).toHaveCount(0);
  await expect(gale.page.locator(".message .erased", { hasText: "Message removed" })).toHaveCount(1);

  // And removes a member: told at once, gone from their sidebar; the others see the line.
  await doctor.page.locator(".group-members li", { hasText: "Ives Groupwise" }).getByRole("button", { name: "Remove" }).click();
  await expect(ives.page.getByText("You are no longer in this group")).toBeVisible();
  await expect(ives.page.locator(".conversation", { hasText: name })).toHaveCount(0);
  await expect(gale.page.locator(".quiet-line", { hasText: "Ives Groupwise was removed from the group" })).toHaveCount(1);

  await gale.context.close();
  await ives.context.close();
  await doctor.context.close();
});
