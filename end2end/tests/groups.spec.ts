import { expect, Page, test } from "@playwright/test";
import { connected, psychiatrist, studentInConversation, uniqueName } from "./helpers";

async function send(page: Page, text: string) {
  await page.getByLabel("Message").fill(text);
  await page.getByLabel("Message").press("Enter");
}

test("a psychiatrist leads a group: invitations, an alias, live talk, moderation", async ({ browser }) => {
  const doctor = await psychiatrist(browser);
  const harper = await studentInConversation(browser, "Harper Synthetic");
  const jules = await studentInConversation(browser, "Jules Synthetic");
  // Each wrote to the psychiatrist first: they are the psychiatrist's students.
  await send(harper.page, "synthetic: hello from harper");
  await send(jules.page, "synthetic: hello from jules");
  await expect(doctor.page.locator(".conversation", { hasText: "Harper Synthetic" })).toHaveCount(1);
  await expect(doctor.page.locator(".conversation", { hasText: "Jules Synthetic" })).toHaveCount(1);

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

  for (const student of ["Harper Synthetic", "Jules Synthetic"]) {
    await doctor.page.getByLabel("Invite a student").selectOption({ label: student });
    await doctor.page.getByRole("button", { name: "Invite", exact: true }).click();
    await expect(doctor.page.locator(".group-invite [role=status]")).toHaveText("Invitation sent.");
  }

  // Both see the invitation live, with what the group is and who leads it.
  const harperInvite = harper.page.locator(".invitation", { hasText: name });
  await expect(harperInvite).toContainText("Synthetic: a weekly space to talk about exams.");
  await expect(harperInvite).toContainText("led by Dr. Edda Synthetic");
  await harperInvite.getByLabel("Show me in this group as").fill("Quiet Fox");
  await harperInvite.getByRole("button", { name: "Join" }).click();
  await expect(harper.page).toHaveURL(groupUrl);
  await connected(harper.page);

  const julesInvite = jules.page.locator(".invitation", { hasText: name });
  await julesInvite.getByRole("button", { name: "Join" }).click();
  await expect(jules.page).toHaveURL(groupUrl);
  await connected(jules.page);
  await expect(jules.page.locator(".quiet-line", { hasText: "Jules Synthetic joined the group" })).toHaveCount(1);

  // They talk in real time; each line says who wrote it, by the name they chose.
  await send(harper.page, "synthetic: hi everyone");
  const atJules = jules.page.locator(".message.theirs", { hasText: "synthetic: hi everyone" });
  await expect(atJules).toHaveCount(1);
  await expect(atJules.locator(".author")).toHaveText("Quiet Fox");
  await expect(harper.page.locator(".message.mine", { hasText: "synthetic: hi everyone" })).toHaveAttribute("data-status", "sent");
  await expect(doctor.page.locator(".message.theirs", { hasText: "synthetic: hi everyone" })).toHaveCount(1);
  await send(jules.page, "synthetic: hi fox");
  await expect(harper.page.locator(".message.theirs .author", { hasText: "Jules Synthetic" })).toHaveCount(1);
  // "Seen by": Jules read Harper's message.
  await expect(harper.page.locator(".message.mine", { hasText: "synthetic: hi everyone" }).locator(".status"))
    .toHaveText(/Seen by [12]/);
  // Jules never sees the name behind Harper's alias.
  await expect(jules.page.locator("body")).not.toContainText("Harper");
  // The leader does.
  await doctor.page.locator(".group-members summary").click();
  await expect(doctor.page.locator(".group-members")).toContainText("Quiet Fox (Harper Synthetic)");

  // The leader removes a message: gone for everyone, live.
  await send(jules.page, "synthetic: an unkind remark");
  const unkind = doctor.page.locator(".message", { hasText: "synthetic: an unkind remark" });
  await unkind.getByRole("button", { name: "Remove" }).click();
  await expect(harper.page.locator(".message", { hasText: "synthetic: an unkind remark" })).toHaveCount(0);
  await expect(harper.page.locator(".message .erased", { hasText: "Message removed" })).toHaveCount(1);

  // And removes a member: told at once, gone from their sidebar; the others see the line.
  await doctor.page.locator(".group-members li", { hasText: "Jules Synthetic" }).getByRole("button", { name: "Remove" }).click();
  await expect(jules.page.getByText("You are no longer in this group")).toBeVisible();
  await expect(jules.page.locator(".conversation", { hasText: name })).toHaveCount(0);
  await expect(harper.page.locator(".quiet-line", { hasText: "Jules Synthetic was removed from the group" })).toHaveCount(1);

  await harper.context.close();
  await jules.context.close();
  await doctor.context.close();
});
