import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import job from "../../../jobs/marketplace/process-tasks";
import { jobRoute } from "../../../lib/http/job-route";
import { runJob } from "../../../lib/jobs/run";
import { resendError } from "../../mocks/resend";
import { bearerRequest, CRON_SECRET, params, sql, testDeps } from "../../support/app";
import { at, days, hours, VENDOR_ENV, vendors } from "../../support/marketplace";

// Tasks are due by run_at <= now: every test runs at an earlier time than the one before, so no
// test sees another's tasks. Audit rows are only written by the first test.
let clock = new Date("2036-06-01T04:00:00Z");
const deps = { ...testDeps([job], [{ job: job.name, cron: "0 4 * * *", overlap: "allow" }], VENDOR_ENV), clock: () => clock };
const run = () => runJob({ job: job.name, payload: {}, trigger: "cli" }, deps);

async function task(kind: string, payload: unknown, runAt: Date, maxAttempts = 3) {
  const [t] = await sql()`insert into admin_tasks (kind, payload, run_at, max_attempts) values (${kind}, ${sql().json(payload as never)}, ${runAt}, ${maxAttempts}) returning id`;
  return t!.id as string;
}
const state = async (id: string) =>
  (await sql()`select status, attempts, run_at, last_error, finished_at from admin_tasks where id = ${id}`)[0]!;

describe("process-tasks", () => {
  it("runs due tasks once (key task:<id>), fails bad ones for good, and prunes the audit log past retention", async () => {
    clock = new Date("2036-06-01T04:00:00Z");
    const calls = vendors();
    const email = await task("send-email", { to: "someone@example.test", subject: "Your export is ready", text: "Hello,\n\nIt is attached." }, at(clock, -hours(1)));
    const notice = await task("notify", { subscriberId: "user-42", workflowId: "account-review", data: { reason: "manual" } }, clock);
    const future = await task("send-email", { to: "later@example.test", subject: "Later", text: "x" }, at(clock, 60_000));
    const unknown = await task("launch-rockets", {}, at(clock, -days(1)));
    const invalid = await task("send-email", { to: "not-an-address", subject: "x", text: "x" }, at(clock, -days(1)));
    const actor = `test-${randomUUID()}`;
    await sql()`insert into audit_log (at, actor, action) values
      (${at(clock, -days(91))}, ${actor}, 'old'), (${at(clock, -days(90) - 1000)}, ${actor}, 'just old'), (${at(clock, -days(89))}, ${actor}, 'recent')`;

    expect(await run()).toMatchObject({ status: "succeeded", stats: { done: 2, failed: 2, auditDeleted: 2 } });
    expect(calls.resend).toHaveLength(1);
    expect(calls.resend[0]).toMatchObject({ idempotencyKey: `task:${email}`, body: { to: "someone@example.test", subject: "Your export is ready", text: "Hello,\n\nIt is attached." } });
    expect(calls.resend[0]!.body.html).toContain("It is attached.");
    expect(calls.novu).toHaveLength(1);
    expect(calls.novu[0]).toMatchObject({ idempotencyKey: `task:${notice}`, body: { name: "account-review", to: { subscriberId: "user-42" }, payload: { reason: "manual" }, transactionId: `task:${notice}` } });
    expect(await state(email)).toMatchObject({ status: "done", attempts: 1, finished_at: clock });
    expect(await state(future)).toMatchObject({ status: "pending", attempts: 0 });
    expect(await state(unknown)).toMatchObject({ status: "failed", attempts: 1, last_error: expect.stringMatching(/unknown task kind "launch-rockets"/) });
    expect(await state(invalid)).toMatchObject({ status: "failed", last_error: expect.stringMatching(/invalid payload for send-email: to/) });
    expect((await sql()`select action from audit_log where actor = ${actor}`).map((r) => r.action)).toEqual(["recent"]);

    expect(await run()).toMatchObject({ status: "succeeded", stats: { done: 0, failed: 0, auditDeleted: 0 } });
    expect(calls.resend).toHaveLength(1);
  });

  it("runs each task once when two runs race", async () => {
    clock = new Date("2036-05-01T04:00:00Z");
    const calls = vendors({ resend: { delayMs: 10 } });
    const ids = await Promise.all(Array.from({ length: 10 }, (_, i) => task("send-email", { to: `n${i}@example.test`, subject: "s", text: "t" }, at(clock, -hours(1)))));
    const [a, b] = await Promise.all([run(), run()]);
    if (a.status !== "succeeded" || b.status !== "succeeded") throw new Error(`runs failed: ${a.status} ${b.status}`);
    expect((a.stats.done as number) + (b.stats.done as number)).toBe(10);
    expect(calls.resend.map((c) => c.idempotencyKey).sort()).toEqual(ids.map((id) => `task:${id}`).sort());
  });

  it("retries a task whose provider failed after a backoff, and gives up after max attempts", async () => {
    clock = new Date("2036-04-01T04:00:00Z");
    const flaky = await task("send-email", { to: "flaky@example.test", subject: "s", text: "t" }, at(clock, -hours(1)), 2);
    const fine = await task("send-email", { to: "fine@example.test", subject: "s", text: "t" }, at(clock, -hours(1)));
    const calls = vendors({ resend: { respond: (c) => (c.body.to === "flaky@example.test" ? resendError(500, "internal_server_error", "Unexpected error") : undefined) } });
    expect(await run()).toMatchObject({ stats: { done: 1, failed: 1 } });
    expect(await state(flaky)).toMatchObject({ status: "pending", attempts: 1, run_at: at(clock, hours(1)), last_error: expect.stringMatching(/HTTP 500/) });
    expect(await state(fine)).toMatchObject({ status: "done" });

    expect(await run()).toMatchObject({ stats: { done: 0, failed: 0 } }); // not due again yet
    clock = at(clock, hours(1));
    expect(await run()).toMatchObject({ stats: { done: 0, failed: 1 } });
    expect(await state(flaky)).toMatchObject({ status: "failed", attempts: 2, finished_at: clock });
    expect(calls.resend.filter((c) => c.idempotencyKey === `task:${flaky}`)).toHaveLength(2);
  });

  it("ends the run with 429 and Retry-After, and the task stays due", async () => {
    clock = new Date("2036-03-01T04:00:00Z");
    const id = await task("send-email", { to: "limited@example.test", subject: "s", text: "t" }, at(clock, -hours(1)));
    vendors({ resend: { respond: () => resendError(429, "rate_limit_exceeded", "Too many requests", { "retry-after": "9" }) } });
    const res = await jobRoute("cron", async () => deps).GET(bearerRequest(`/api/cron/${job.name}`, `Bearer ${CRON_SECRET}`), params(job.name));
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("9");
    expect(await state(id)).toMatchObject({ status: "pending", attempts: 0 });
    const calls = vendors();
    expect(await run()).toMatchObject({ stats: { done: 1 } });
    expect(calls.resend.map((c) => c.idempotencyKey)).toEqual([`task:${id}`]);
  });
});
