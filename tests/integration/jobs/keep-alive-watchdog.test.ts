import { http, HttpResponse } from "msw";
import { describe, expect, it } from "vitest";
import { createKeepAlive } from "../../../jobs/system/keep-alive";
import { defineJob } from "../../../lib/jobs/define";
import { runJob } from "../../../lib/jobs/run";
import { parseSchedules, type ScheduleEntry } from "../../../lib/jobs/schedules";
import { slotsBetween } from "../../../lib/jobs/slots";
import { server } from "../../mocks/server";
import { sql, testDeps, uniqueName } from "../../support/app";
import { VENDOR_ENV, vendors } from "../../support/vendors";

const QSTASH = "https://qstash.watchdog.test";
const noop = (name: string) => defineJob({ name, description: "watched", handler: async () => ({}) });

/** A registry of three watched jobs (unique names), a keep-alive over them, and QStash holding their schedules. */
function setup(now: Date, o: { paused?: string[]; missing?: string[]; env?: Record<string, string | undefined> } = {}) {
  const [a, b, c] = [uniqueName("wd-quarter"), uniqueName("wd-six"), uniqueName("wd-berlin")];
  const entries: ScheduleEntry[] = [
    { job: a, cron: "*/15 * * * *" },
    { job: b, cron: "0 */6 * * *" },
    { job: c, cron: "CRON_TZ=Europe/Berlin 0 9 * * *" },
  ];
  const schedules = parseSchedules(entries, [a, b, c]);
  const keepAlive = createKeepAlive({ schedules: () => schedules });
  const deps = { ...testDeps([keepAlive, noop(a), noop(b), noop(c)], [], { ...VENDOR_ENV, QSTASH_URL: QSTASH, ...o.env }), clock: () => now };
  server.use(
    // An empty DLQ: keep-alive reconciles dead letters too (tests/integration/dead-letters-qstash.test.ts).
    http.get(`${QSTASH}/v2/dlq`, () => HttpResponse.json({ messages: [] })),
    http.get(`${QSTASH}/v2/schedules`, () =>
      HttpResponse.json(
        entries
          .filter((e) => !o.missing?.includes(e.job))
          .map((e) => ({ scheduleId: `test-${e.job}`, cron: e.cron, createdAt: Date.parse("2035-01-01T00:00:00Z"), destination: `https://jobs.example.test/api/cron/${e.job}`, method: "POST", retries: 3, isPaused: o.paused?.includes(e.job) ?? false })),
      ),
    ),
  );
  return { jobs: { a, b, c }, schedules, run: () => runJob({ job: "keep-alive", payload: {}, trigger: "vercel" }, deps) };
}

/** Ledger rows as runs of a slot leave them: started a few seconds after the slot. */
async function ran(job: string, slots: Date[], o: { status?: string; durationMs?: number; stats?: object; messageId?: string } = {}) {
  if (!slots.length) return;
  await sql()`insert into job_runs ${sql()(
    slots.map((s) => ({
      job,
      trigger: "qstash",
      status: o.status ?? "succeeded",
      schedule_id: `test-${job}`,
      message_id: o.messageId ?? null,
      slot_at: s,
      started_at: new Date(s.getTime() + 2_000),
      finished_at: new Date(s.getTime() + 2_000 + (o.durationMs ?? 1_000)),
      duration_ms: o.durationMs ?? 1_000,
      stats: sql().json((o.stats ?? {}) as never),
      error: o.status === "failed" ? sql().json({ name: "ProviderError", message: "Stripe: HTTP 500: An unknown error occurred" }) : null,
    })),
  )}`;
}
/** The day's alert effects, by channel. */
const alerts = (day: string) => sql()`select key, job, status, attempts from effects where key like ${`alert:keep-alive:${day}:%`} order by key`;
const window = (now: Date, cron: string, tz = "UTC") => slotsBetween({ expression: cron, timezone: tz }, new Date(now.getTime() - 86_400_000), new Date(now.getTime() - 600_000));

describe("keep-alive watchdog", () => {
  it("alerts once, listing exactly the missed slots, the failed, slow and partial runs", async () => {
    const now = new Date("2035-02-10T06:00:00Z");
    const { jobs, run } = setup(now);
    const calls = vendors();
    const quarter = window(now, "*/15 * * * *");
    const missedA = [new Date("2035-02-09T14:15:00Z"), new Date("2035-02-09T14:30:00Z"), new Date("2035-02-10T05:45:00Z")];
    const slowSlot = new Date("2035-02-09T20:00:00Z");
    await ran(jobs.a, quarter.filter((s) => !missedA.some((m) => m.getTime() === s.getTime()) && s.getTime() !== slowSlot.getTime()));
    await ran(jobs.a, [slowSlot], { durationMs: 60_000 });
    // The usual duration: a week of 1 s runs before the window.
    await ran(jobs.a, Array.from({ length: 6 }, (_, i) => new Date(now.getTime() - (2 + i) * 86_400_000)));
    // b: 06:00 and 12:00 ran, 18:00 failed on every attempt, 00:00 never came.
    await ran(jobs.b, [new Date("2035-02-09T06:00:00Z"), new Date("2035-02-09T12:00:00Z")]);
    await ran(jobs.b, [new Date("2035-02-09T18:00:00Z")], { status: "failed", messageId: `msg-${jobs.b}` });
    // c: 09:00 Berlin (08:00 UTC in winter) ran, but 2 items failed.
    await ran(jobs.c, [new Date("2035-02-09T08:00:00Z")], { stats: { sent: 10, failed: 2 } });

    const out = await run();
    if (out.status !== "succeeded") throw new Error(`keep-alive ${out.status}: ${JSON.stringify(out)}`);
    expect(out.stats).toMatchObject({
      qstash: "ok",
      watchdog: { jobs: 3, expectedSlots: quarter.length + 4 + 1, missed: 4, failed: 1, slow: 1, partial: 1 },
      alert: "email: sent; slack: sent",
    });
    expect(calls.resend).toHaveLength(1);
    const email = calls.resend[0]!;
    expect(email).toMatchObject({ idempotencyKey: "alert:keep-alive:2035-02-10:email", body: { to: ["ops@example.test"], subject: "[cronlayer] watchdog: 4 missed runs, 1 failed, 1 slow, 1 with failed items" } });
    const lines = email.body.text.split("\n");
    expect(lines.filter((l) => l.startsWith(`- ${jobs.a}: `) || l.startsWith(`- ${jobs.b}: `) || l.startsWith(`- ${jobs.c}: `))).toEqual([
      `- ${jobs.a}: 3 missed: 2035-02-09T14:15:00Z, 2035-02-09T14:30:00Z, 2035-02-10T05:45:00Z`,
      `- ${jobs.b}: 1 missed: 2035-02-10T00:00:00Z`,
    ]);
    expect(email.body.text).toContain(`- ${jobs.b} at 2035-02-09T18:00:02Z (slot 2035-02-09T18:00:00Z), attempt 0, run `);
    expect(email.body.text).toContain("ProviderError: Stripe: HTTP 500: An unknown error occurred");
    expect(email.body.text).toMatch(new RegExp(`- ${jobs.a} at 2035-02-09T20:00:02Z took 60.0 s \\(usual 1.0 s\\)`));
    expect(email.body.text).toContain(`- ${jobs.c} at 2035-02-09T08:00:02Z: 2 failed, run `);
    expect(email.body.html).toContain("2035-02-10T05:45:00Z");
    expect(calls.slack).toHaveLength(1);
    expect(calls.slack[0]!.body.text).toContain(`${jobs.a}: 3 missed: 2035-02-09T14:15:00Z, 2035-02-09T14:30:00Z, 2035-02-10T05:45:00Z`);

    expect(await alerts("2035-02-10")).toEqual([
      { key: "alert:keep-alive:2035-02-10:email", job: "keep-alive", status: "succeeded", attempts: 1 },
      { key: "alert:keep-alive:2035-02-10:slack", job: "keep-alive", status: "succeeded", attempts: 1 },
    ]);

    // The same day again: nothing new goes out.
    expect(await run()).toMatchObject({ status: "succeeded", stats: { alert: "email: already claimed today; slack: already claimed today" } });
    expect(calls.resend).toHaveLength(1);
    expect(calls.slack).toHaveLength(1);
  });

  it("says the alert was recorded in the outbox, not sent, when the stack is local and has no vendor keys", async () => {
    const now = new Date("2035-06-14T06:00:00Z");
    const calls = vendors();
    const local = { APP_ENV: "local", APP_URL: "http://127.0.0.1:3000", RESEND_API_KEY: undefined, SLACK_WEBHOOK_URL: undefined };
    const out = await setup(now, { env: local }).run();
    expect(out).toMatchObject({ status: "succeeded", stats: { alert: "email: recorded in the outbox; slack: recorded in the outbox" } });
    expect(calls.resend).toEqual([]);
    expect(calls.slack).toEqual([]);
    const recorded = await sql()`select provider from provider_outbox where idempotency_key like 'alert:keep-alive:2035-06-14:%' order by provider`;
    expect(recorded.map((r) => r.provider)).toEqual(["resend", "slack"]);
  });

  it("fails the run when a channel fails, and tries only that channel again on a later run of the day", async () => {
    const now = new Date("2035-05-10T06:00:00Z");
    const calls = vendors({ slack: { respond: () => new HttpResponse("internal_error", { status: 500 }) } });
    // No runs recorded: every slot was missed, so there is something to say.
    const out = await setup(now).run();
    expect(out).toMatchObject({ status: "failed", error: { name: "ProviderError" } });
    expect(calls.resend).toHaveLength(1);
    expect(calls.slack).toHaveLength(1);
    // Slack may have posted it (a 5xx): unknown, due again after its backoff.
    expect(await alerts("2035-05-10")).toEqual([
      { key: "alert:keep-alive:2035-05-10:email", job: "keep-alive", status: "succeeded", attempts: 1 },
      { key: "alert:keep-alive:2035-05-10:slack", job: "keep-alive", status: "unknown", attempts: 1 },
    ]);

    const later = vendors();
    expect(await setup(new Date("2035-05-10T07:00:00Z")).run()).toMatchObject({ status: "succeeded", stats: { alert: "email: already claimed today; slack: sent" } });
    expect(later.resend).toEqual([]);
    expect(later.slack).toHaveLength(1);
    expect((await alerts("2035-05-10")).map((a) => `${a.status}/${a.attempts}`)).toEqual(["succeeded/1", "succeeded/2"]);
  });

  it("sends nothing when every slot ran and nothing failed", async () => {
    const now = new Date("2035-03-10T06:00:00Z");
    const { jobs, run } = setup(now);
    const calls = vendors();
    await ran(jobs.a, window(now, "*/15 * * * *"));
    await ran(jobs.b, window(now, "0 */6 * * *"));
    await ran(jobs.c, window(now, "0 9 * * *", "Europe/Berlin"));
    expect(await run()).toMatchObject({
      status: "succeeded",
      stats: { qstash: "ok", watchdog: { jobs: 3, missed: 0, failed: 0, slow: 0, partial: 0 }, alert: "none" },
    });
    expect(calls.resend).toEqual([]);
    expect(calls.slack).toEqual([]);
  });

  it("reports a missing or paused schedule once instead of its slots, and says when QStash is down", async () => {
    const now = new Date("2035-04-10T06:00:00Z");
    const s = setup(now);
    const { jobs } = s;
    await ran(jobs.a, window(now, "*/15 * * * *"));
    const calls = vendors();
    // b was never scheduled and c is paused: neither has runs, and neither is listed slot by slot.
    const schedule = (job: string, isPaused: boolean) => ({ scheduleId: `test-${job}`, cron: "x", createdAt: 0, destination: "x", method: "POST", retries: 3, isPaused });
    server.use(http.get(`${QSTASH}/v2/schedules`, () => HttpResponse.json([schedule(jobs.a, false), schedule(jobs.c, true)])));
    const out = await s.run();
    expect(out).toMatchObject({ status: "succeeded", stats: { qstash: { status: "degraded" }, watchdog: { missed: 0, expectedSlots: 96 } } });
    expect(calls.resend[0]!.body.subject).toBe("[cronlayer] watchdog: 2 other problems");
    expect(calls.resend[0]!.body.text).toContain(`- QStash: schedule test-${jobs.b} is missing in QStash: run pnpm qstash:schedule`);
    expect(calls.resend[0]!.body.text).toContain(`- QStash: schedule test-${jobs.c} is paused in QStash`);

    // QStash down: keep-alive still runs, says so, and expects every slot of the window.
    const later = new Date("2035-04-11T06:00:00Z");
    const down = setup(later);
    server.use(http.get(`${QSTASH}/v2/schedules`, () => HttpResponse.error()));
    await ran(down.jobs.a, window(later, "*/15 * * * *"));
    await ran(down.jobs.b, window(later, "0 */6 * * *"));
    const res = await down.run();
    expect(res).toMatchObject({ status: "succeeded", stats: { database: "ok", qstash: expect.stringMatching(/^unreachable: QStash at https:\/\/qstash.watchdog.test/), watchdog: { missed: 1 } } });
    const alert = calls.resend.at(-1)!.body.text;
    expect(alert).toContain(`- ${down.jobs.c}: 1 missed: 2035-04-10T07:00:00Z`); // 09:00 CEST
    expect(alert).toMatch(/- QStash unreachable, so every slot of the window is expected/);
  });
});
