import { expect, test } from "@playwright/test";
import { hydrated, PSYCHIATRIST, registerStudent, signIn, STUDENT_PASSWORD, uniqueName } from "./helpers";

test("a student sees who opened their conversation, downloads it, and deletes their account", async ({ browser }) => {
  const studentContext = await browser.newContext();
  const student = await studentContext.newPage();
  const hydrationErrors: string[] = [];
  student.on("console", (m) => {
    if (m.type() === "error") hydrationErrors.push(m.text());
  });
  await registerStudent(student, uniqueName(), "Robin Leaving");
  await student.getByRole("button", { name: `Write to ${PSYCHIATRIST.name}` }).click();
  await expect(student).toHaveURL(/\/chat\/\d+$/);
  await hydrated(student);
  await student.getByLabel("Message").fill("words only I should keep");
  await student.getByLabel("Message").press("Enter");
  await expect(student.locator(".message.mine[data-status=sent]")).toHaveCount(1);

  const doctorContext = await browser.newContext();
  const doctor = await doctorContext.newPage();
  await signIn(doctor, "psychiatrist", PSYCHIATRIST.username, PSYCHIATRIST.password);
  await expect(doctor).toHaveURL(/\/chat$/);
  await doctor.locator(".conversation", { hasText: "Robin Leaving" }).getByRole("link").click();
  await expect(doctor.locator(".message.theirs .body").last()).toHaveText("words only I should keep");
  await expect(doctor.locator(".about-student")).toContainText("1 conversation in Haven");

  // Settings: the access record, without addresses.
  await student.getByRole("link", { name: "Settings" }).click();
  await expect(student).toHaveURL(/\/chat\/settings$/);
  await hydrated(student);
  await expect(student.locator(".access-list")).toContainText(`${PSYCHIATRIST.name} (psychiatrist) opened your conversation`);

  const [download] = await Promise.all([
    student.waitForEvent("download"),
    student.getByRole("link", { name: "Download as JSON" }).click(),
  ]);
  const exported = JSON.parse(await (await download.createReadStream()).toArray().then((c) => Buffer.concat(c).toString()));
  expect(exported.conversations).toHaveLength(1);
  expect(exported.conversations[0].messages[0]).toMatchObject({ from: "you", body: "words only I should keep" });

  // A wrong password deletes nothing; the right one signs out everywhere.
  await student.getByLabel("Your password, to confirm").fill("not my password");
  await student.getByRole("button", { name: "Delete my account" }).click();
  await expect(student.getByText("That is not your password.")).toBeVisible();
  await student.getByLabel("Your password, to confirm").fill(STUDENT_PASSWORD);
  await student.getByRole("button", { name: "Delete my account" }).click();
  await expect(student.getByText("Your account was deleted.")).toBeVisible();
  await student.goto("/chat");
  await expect(student).toHaveURL(/\/login\/student/);

  await doctor.reload();
  await expect(doctor.locator(".conversation-header h1")).toHaveText("Deleted account");
  await expect(doctor.locator(".message.theirs .body")).toHaveText("Message deleted with the account");
  await expect(doctor.locator(".about-student")).toContainText("deleted their account");
  expect(hydrationErrors.filter((e) => /hydrat/i.test(e))).toEqual([]);
  await studentContext.close();
  await doctorContext.close();
});
