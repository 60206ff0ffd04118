import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import job from "../jobs/process-tasks";
import { jobRoute } from "@/lib/http/job-route";
import { runJob } from "@/lib/jobs/run";
import { resendError } from "../../../tests/mocks/resend";
import { bearerRequest, CRON_SECRET, params, sql, testDeps } from "../../../tests/support/app";
import { at, days, hours, VENDOR_ENV, vendors } from "../../../tests/support/vendors";

// Tasks are due by run_at <= now: every test runs at an earlier time than the one before, so no
// test sees another's tasks, and the audit-log sweep never reaches a later test's rows. The clock
// is set years back so that the sweeps never reach rows other test files write at the real time.
let clock = new Date("2016-07-01T04:00:00Z");
const deps = { ...testDeps([job], [{ job: job.name, cron: "0 4 * * *", overlap: "allow" }], VENDOR_ENV), clock: () => clock };
const run = () => runJob({ job: job.name, payload: {}, trigger: "cli" }, deps);

async function task(kind: string, payload: unknown, runAt: Date, maxAttempts = 3) {
  const [t] = await sql()`insert into admin_tasks (kind, payload, run_at, max_attempts) values (${kind}, ${sql().json(payload as never)}, ${runAt}, ${maxAttempts}) returning id`;
  return t!.id as string;
}
/** The task as its table keeps it, with its effect (the attempts, the error, when it is due again). */
const state = async (id: string) =>
  (await sql()`select t.status, t.finished_at, e.status as effect, e.attempts, e.max_attempts, e.last_error, e.next_attempt_at
                 from admin_tasks t left join effects e on e.key = 'task:' || t.id where t.id = ${id}`)[0]!;

describe("process-tasks", () => {
  it("runs due tasks once (key task:<id>), abandons bad ones at once, and prunes the audit log past retention", async () => {
    clock = new Date("2016-06-01T04:00:00Z");
    const calls = vendors();
    const email = await task("send-email", { to: "someone@example.test", subject: "Your export is ready", text: "Hello,\n\nIt is attached." }, at(clock, -hours(1)));
    const notice = await task("notify", { subscriberId: "user-42", workflowId: "account-review", data: { reason: "manual" } }, clock);
    const future = await task("send-email", { to: "later@example.test", subject: "Later", text: "x" }, at(clock, 60_000));
    const unknown = await task("launch-rockets", {}, at(clock, -days(1)));
    const invalid = await task("send-email", { to: "not-an-address", subject: "x", text: "x" }, at(clock, -days(1)));
    const actor = `test-${randomUUID()}`;
    await sql()`insert into audit_log (at, actor, action) values
      (${at(clock, -days(91))}, ${actor}, 'old'), (${at(clock, -days(90) - 1000)}, ${actor}, 'just old'), (${at(clock, -days(89))}, ${actor}, 'recent')`;

    expect(await run()).toMatchObject({ status: "succeeded", stats: { done: 2, failed: 2, abandoned: 2, auditDeleted: 2 } });
    expect(calls.resend).toHaveLength(1);
    expect(calls.resend[0]).toMatchObject({ idempotencyKey: `task:${email}`, body: { to: "someone@example.test", subject: "Your export is ready", text: "Hello,\n\nIt is attached." } });
    expect(calls.resend[0]!.body.html).toContain("It is attached.");
    expect(calls.novu).toHaveLength(1);
    expect(calls.novu[0]).toMatchObject({ idempotencyKey: `task:${notice}`, body: { name: "account-review", to: { subscriberId: "user-42" }, payload: { reason: "manual" }, transactionId: `task:${notice}` } });
    expect(await state(email)).toMatchObject({ status: "done", finished_at: clock, effect: "succeeded", attempts: 1 });
    expect(await state(future)).toMatchObject({ status: "pending", effect: null });
    expect(await state(unknown)).toMatchObject({ status: "failed", finished_at: clock, effect: "abandoned", attempts: 1, last_error: expect.stringMatching(/unknown task kind "launch-rockets"/) });
    expect(await state(invalid)).toMatchObject({ status: "failed", effect: "abandoned", last_error: expect.stringMatching(/invalid payload for send-email: to/) });
    expect((await sql()`select action from audit_log where actor = ${actor}`).map((r) => r.action)).toEqual(["recent"]);

    expect(await run()).toMatchObject({ status: "succeeded", stats: { done: 0, failed: 0, auditDeleted: 0 } });
    expect(calls.resend).toHaveLength(1);
    expect(calls.novu).toHaveLength(1);
  });

  it("runs each task once when two runs race", async () => {
    clock = new Date("2016-05-01T04:00:00Z");
    const calls = vendors({ resend: { delayMs: 10 } });
    const ids = await Promise.all(Array.from({ length: 10 }, (_, i) => task("send-email", { to: `n${i}@example.test`, subject: "s", text: "t" }, at(clock, -hours(1)))));
    const [a, b] = await Promise.all([run(), run()]);
    if (a.status !== "succeeded" || b.status !== "succeeded") throw new Error(`runs failed: ${a.status} ${b.status}`);
    expect((a.stats.done as number) + (b.stats.done as number)).toBe(10);
    expect(calls.resend.map((c) => c.idempotencyKey).sort()).toEqual(ids.map((id) => `task:${id}`).sort());
  });

  it("retries a failed task after its backoff in a later run, within the task's own max_attempts, then fails it", async () => {
    clock = new Date("2016-04-01T04:00:00Z");
    const t0 = clock;
    const flaky = await task("send-email", { to: "flaky@example.test", subject: "s", text: "t" }, at(clock, -hours(1)), 2);
    const rejected = await task("send-email", { to: "rejected@example.test", subject: "s", text: "t" }, at(clock, -hours(1)), 3);
    const fine = await task("send-email", { to: "fine@example.test", subject: "s", text: "t" }, at(clock, -hours(1)));
    let reject = true;
    const calls = vendors({
      resend: {
        respond: (c) =>
          c.body.to === "flaky@example.test" ? resendError(500, "internal_server_error", "Unexpected error")
          : c.body.to === "rejected@example.test" && reject ? resendError(422, "validation_error", "Invalid `to` field")
          : undefined,
      },
    });
    const sent = (id: string) => calls.resend.filter((c) => c.idempotencyKey === `task:${id}`).length;

    expect(await run()).toMatchObject({ stats: { done: 1, failed: 2, abandoned: 0 } });
    // A 5xx may have sent it (unknown), a 4xx did not (failed): both wait 30-60 min (BACKOFF_MS, jittered).
    for (const [id, effect] of [[flaky, "unknown"], [rejected, "failed"]] as const) {
      const s = await state(id);
      expect(s).toMatchObject({ status: "pending", finished_at: null, effect, attempts: 1 });
      expect((s.next_attempt_at as Date).getTime()).toBeGreaterThanOrEqual(at(t0, hours(0.5)).getTime());
      expect((s.next_attempt_at as Date).getTime()).toBeLessThanOrEqual(at(t0, hours(1)).getTime());
    }
    expect(await state(flaky)).toMatchObject({ max_attempts: 2, last_error: expect.stringMatching(/HTTP 500/) });
    expect(await state(rejected)).toMatchObject({ max_attempts: 3, last_error: expect.stringMatching(/HTTP 422/) });
    expect(await state(fine)).toMatchObject({ status: "done", effect: "succeeded" });

    expect(await run()).toMatchObject({ stats: { done: 0, failed: 0, skipped: 2 } }); // not due again yet
    expect([sent(flaky), sent(rejected), sent(fine)]).toEqual([1, 1, 1]);

    clock = at(t0, hours(1));
    reject = false;
    expect(await run()).toMatchObject({ stats: { done: 1, failed: 1, abandoned: 1 } });
    expect(await state(flaky)).toMatchObject({ status: "failed", finished_at: clock, effect: "abandoned", attempts: 2 });
    expect(await state(rejected)).toMatchObject({ status: "done", finished_at: clock, effect: "succeeded", attempts: 2, last_error: null });

    clock = at(t0, days(1));
    expect(await run()).toMatchObject({ stats: { done: 0, failed: 0 } });
    expect([sent(flaky), sent(rejected), sent(fine)]).toEqual([2, 2, 1]);
  });

  it("ends the run with 429 and Retry-After, and the task stays due", async () => {
    clock = new Date("2016-03-01T04:00:00Z");
    const id = await task("send-email", { to: "limited@example.test", subject: "s", text: "t" }, at(clock, -hours(1)));
    const limited = vendors({ resend: { respond: () => resendError(429, "rate_limit_exceeded", "Too many requests", { "retry-after": "9" }) } });
    const res = await jobRoute("cron", async () => deps).GET(bearerRequest(`/api/cron/${job.name}`, `Bearer ${CRON_SECRET}`), params(job.name));
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("9");
    expect(limited.resend).toHaveLength(1);
    // Never sent: the effect was released without a trace, and the task is as it was.
    expect(await state(id)).toMatchObject({ status: "pending", effect: null });
    const calls = vendors();
    expect(await run()).toMatchObject({ stats: { done: 1 } });
    expect(calls.resend.map((c) => c.idempotencyKey)).toEqual([`task:${id}`]);
  });
});
