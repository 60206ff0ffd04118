import { expect, it } from "vitest";
import { publishJob } from "../../../lib/qstash/publish";
import { createRequestOf, desiredSchedules } from "../../../lib/qstash/desired";
import { JOB, ops, PASSWORD, registry, runs, shot, shotFirstScreen, signIn } from "./stack";

/** Sign-in first (every other part runs signed in); the phone check of the jobs table. */
export function signInTests() {  it("refuses a wrong password: no session cookie, the form again with the reason", async () => {
    const { page, context } = ops;
    await signIn("not-the-password");
    expect(page.url()).toContain("/ops/login?error=wrong");
    await expect.poll(() => page.textContent("[role=alert]")).toContain("Wrong password");
    expect((await context.cookies()).map((c) => c.name)).not.toContain("cronlayer_ops");
    await shot("01-login-refused");
  });

  it("signs in with OPS_PASSWORD: an HttpOnly, SameSite=Strict session cookie with an expiry, then the jobs table", async () => {
    const { page, context } = ops;
    await signIn(PASSWORD);
    expect(new URL(page.url()).pathname).toBe("/ops");
    const cookie = (await context.cookies()).find((c) => c.name === "cronlayer_ops");
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/" });
    const hours = (cookie!.expires * 1000 - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(11.9);
    expect(hours).toBeLessThanOrEqual(12);
    const row = page.locator(`#jobs tr[data-job="${JOB}"]`);
    await expect.poll(() => row.textContent()).toContain("Every 15 minutes");
    expect(await row.textContent()).toContain("UTC");
    expect(await page.locator("#jobs tbody tr").count()).toBe(registry.jobs.size);
    await shot("02-jobs");
  });

  it("fits a phone screen: the page does not scroll sideways, the table scrolls in its box", async () => {
    const { page } = ops;
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    const widths = await page.evaluate(() => ({ doc: document.documentElement.scrollWidth, view: window.innerWidth }));
    expect(widths.doc).toBeLessThanOrEqual(widths.view);
    await shot("03-jobs-phone");
    await page.setViewportSize({ width: 1600, height: 900 });
  });

}

/** Run now, CSRF, dead letters, drift and pause: the console's first actions. */
export function actionTests() {
  it("runs a job now after a confirmation, recorded with trigger manual, and shows the run", async () => {
    const { page } = ops;
    expect(await runs("manual")).toHaveLength(0);
    await page.goto(`${ops.app.url}/ops/jobs/${JOB}`);
    await page.click("text=Run now…");
    expect(await runs("manual")).toHaveLength(0); // asking is not running
    await Promise.all([page.waitForURL(/\/ops\/runs\//), page.click("text=Yes, run now")]);
    const [run, ...more] = await runs("manual");
    expect(more).toHaveLength(0);
    expect(run!.status).toBe("succeeded");
    // The run's own page, with the outcome as a notice.
    expect(new URL(page.url()).pathname).toBe(`/ops/runs/${run!.id}`);
    expect(await page.textContent("[role=status]")).toContain("run succeeded");
    expect(await page.textContent("#run-facts")).toContain("manual");
    await shot("04-job-run");
    await page.goto(`${ops.app.url}/ops/jobs/${JOB}`);
    expect(await page.locator(`#runs tr[data-run="${run!.id}"]`).getAttribute("data-trigger")).toBe("manual");
  });

  it("refuses an action without the CSRF token, or with another one, and runs nothing", async () => {
    const { page } = ops;
    const before = (await runs("manual")).length;
    const none = await page.request.post(`${ops.app.url}/ops/actions/run`, { form: { job: JOB }, maxRedirects: 0 });
    expect(none.status()).toBe(403);
    const forged = await page.request.post(`${ops.app.url}/ops/actions/run`, { form: { job: JOB, csrf: "A".repeat(43) }, maxRedirects: 0 });
    expect(forged.status()).toBe(403);
    // From another site the Origin alone refuses it.
    const csrf = await page.getAttribute("input[name=csrf]", "value");
    const cross = await page.request.post(`${ops.app.url}/ops/actions/run`, { form: { job: JOB, csrf: csrf! }, headers: { origin: "https://evil.example" }, maxRedirects: 0 });
    expect(cross.status()).toBe(403);
    // Without the cookie the token alone is worth nothing.
    const anonymous = await fetch(`${ops.app.url}/ops/actions/run`, { method: "POST", body: new URLSearchParams({ job: JOB, csrf: csrf! }), redirect: "manual" });
    expect(anonymous.status).toBe(401);
    expect(await runs("manual")).toHaveLength(before);
  });

  it("opens a dead letter with its body and last response, and replays it to the same job with a new message", async () => {
    const { page, client, qstash, env } = ops;
    const { messageId } = await publishJob({ env, registry, client }, "keep-alive", {}, { retries: 0 });
    await expect.poll(async () => (await client.dlq.listMessages()).messages.find((m) => m.messageId === messageId), { timeout: 15_000 }).toBeDefined();
    const dead = (await client.dlq.listMessages()).messages.find((m) => m.messageId === messageId)!;
    const keepAliveRuns = (await runs("qstash", "keep-alive")).length;

    await page.goto(`${ops.app.url}/ops/dead-letters`);
    await page.click(`#dead-letters tr[data-dlq="${dead.dlqId}"] >> text=${dead.dlqId}`);
    const detail = page.locator("#dead-letter");
    expect(await detail.textContent()).toContain(`/api/jobs/keep-alive`);
    expect(await detail.textContent()).toMatch(/fetch failed|ECONNREFUSED|Unable to connect/i);
    await shot("05-dead-letter");

    await Promise.all([page.waitForURL(/notice=/), detail.locator("text=Replay").click()]);
    const notice = await page.textContent("[role=status]");
    expect(notice).toContain(`replayed ${dead.dlqId} as message`);
    const replayed = /as message (\S+)/.exec(notice!)![1]!;
    expect(replayed).not.toBe(messageId);
    // Delivered to the same job (it fails again, for the same reason) and gone from the DLQ under its old id.
    await expect.poll(async () => (await runs("qstash", "keep-alive")).length, { timeout: 15_000 }).toBe(keepAliveRuns + 1);
    const events = qstash.state.events.filter((e) => e.messageId === replayed);
    expect(events[0]).toMatchObject({ state: "CREATED" });
    await expect.poll(async () => (await client.dlq.listMessages()).messages.find((m) => m.messageId === replayed)?.url, { timeout: 15_000 }).toBe(dead.url);
    expect((await client.dlq.listMessages()).messages.some((m) => m.dlqId === dead.dlqId)).toBe(false);
    await shot("06-dead-letters-after-replay");
    await page.goto(`${ops.app.url}/ops`);
    await shot("07-jobs-after-runs");
  });

  it("flags a schedule missing in QStash, then pauses and resumes it once created", async () => {
    const { page, client, env } = ops;
    await page.goto(`${ops.app.url}/ops`);
    expect(await page.textContent(`#jobs tr[data-job="${JOB}"]`)).toContain("drifted: missing in QStash");
    const desired = desiredSchedules(registry, env).find((d) => d.job === JOB)!;
    await client.schedules.create(createRequestOf(desired));
    await page.reload();
    const row = await page.textContent(`#jobs tr[data-job="${JOB}"]`);
    expect(row).toContain("active");
    expect(row).not.toContain("drift");
    await page.goto(`${ops.app.url}/ops/jobs/${JOB}`);
    await Promise.all([page.waitForURL(/notice=/), page.click("text=Pause schedule")]);
    expect((await client.schedules.get(desired.scheduleId)).isPaused).toBe(true);
    await page.goto(`${ops.app.url}/ops`);
    expect(await page.textContent(`#jobs tr[data-job="${JOB}"]`)).toContain("paused");
    await page.goto(`${ops.app.url}/ops/jobs/${JOB}`);
    await Promise.all([page.waitForURL(/notice=/), page.click("text=Resume schedule")]);
    expect((await client.schedules.get(desired.scheduleId)).isPaused).toBe(false);
    // Every schedule in QStash, as after pnpm qstash:schedule: no drift left to flag.
    for (const d of desiredSchedules(registry, env)) await client.schedules.create(createRequestOf(d));
    await page.goto(`${ops.app.url}/ops`);
    expect(await page.textContent("#jobs")).not.toContain("drift");
    // The first screen only (the README's picture comes from pnpm test:first-hour, a healthy local stack).
    await shotFirstScreen("07-jobs-first-screen");
  });

}

/** Last: sign-out ends the session every other part used. */
export function signOutTests() {
  it("signs out: the cookie is gone and the console sends you to the sign-in again", async () => {
    const { page, context } = ops;
    await page.goto(`${ops.app.url}/ops`);
    await Promise.all([page.waitForURL(/signed_out/), page.click("text=Sign out")]);
    expect((await context.cookies()).map((c) => c.name)).not.toContain("cronlayer_ops");
    await page.goto(`${ops.app.url}/ops/dead-letters`);
    expect(new URL(page.url()).pathname).toBe("/ops/login");
    await shot("08-signed-out");
  });
}
