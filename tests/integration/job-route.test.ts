import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { EnvError } from "../../lib/env";
import { NonRetryableError, RetryAfterError } from "../../lib/errors";
import { defineJob } from "../../lib/jobs/define";
import { jobRoute } from "../../lib/http/job-route";
import { bearerRequest, CRON_SECRET, ledger, params, qstashRequest, testDeps, uniqueName } from "../support/app";

const n = {
  ok: uniqueName("ok"),
  typed: uniqueName("typed"),
  fatal: uniqueName("fatal"),
  limited: uniqueName("limited"),
  slow: uniqueName("slow"),
  sched: uniqueName("sched"),
};
const seen: { signalAborted?: boolean } = {};
const jobs = [
  defineJob({ name: n.ok, description: "t", overlap: "allow", handler: async ({ run }) => ({ sent: 8, failed: 0, trigger: run.trigger }) }),
  defineJob({
    name: n.typed,
    description: "t",
    overlap: "allow",
    payload: z.object({ formId: z.uuid(), attempt: z.number().int().default(1) }),
    handler: async ({ payload }) => ({ formId: payload.formId, attempt: payload.attempt }),
  }),
  defineJob({ name: n.fatal, description: "t", handler: async () => Promise.reject(new NonRetryableError("expert has no connected account")) }),
  defineJob({ name: n.limited, description: "t", handler: async () => Promise.reject(new RetryAfterError("Stripe rate limit", 42.2)) }),
  defineJob({
    name: n.slow,
    description: "t",
    timeoutMs: 100,
    handler: async ({ signal }) => {
      await new Promise((r) => setTimeout(r, 400));
      seen.signalAborted = signal.aborted;
      return { never: true };
    },
  }),
  defineJob({ name: n.sched, description: "t", overlap: "allow", handler: async ({ run }) => ({ slot: run.slotAt?.toISOString() ?? null }) }),
];
const deps = testDeps(jobs, [{ job: n.sched, cron: "*/5 * * * *" }, { job: n.ok, cron: "0 * * * *" }]);
const jobsRoute = jobRoute("jobs", async () => deps);
const cronRoute = jobRoute("cron", async () => deps);
const post = (job: string, body = "{}", opts = {}) => jobsRoute.POST(qstashRequest(`/api/jobs/${job}`, body, opts), params(job));

describe("job routes: answers in QStash's terms", () => {
  it("answers 200 with runId, status and stats, and records the run", async () => {
    const res = await post(n.ok, "{}", { messageId: "msg_ok" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { runId: string; status: string; stats: unknown };
    expect(body).toEqual({ runId: expect.any(String), status: "succeeded", stats: { sent: 8, failed: 0, trigger: "qstash" } });
    const [row] = await ledger(n.ok);
    expect(row).toMatchObject({ id: body.runId, trigger: "qstash", status: "succeeded", message_id: "msg_ok", attempt: 0, stats: body.stats });
    expect(row!.duration_ms).toBeGreaterThanOrEqual(0);
  });

  it("answers 404 for an unknown job, and for a one-time job on the cron route", async () => {
    const unknown = await jobsRoute.POST(qstashRequest("/api/jobs/nope", "{}"), params("nope"));
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: 'unknown job "nope" at /api/jobs' });
    const notScheduled = await cronRoute.POST(qstashRequest(`/api/cron/${n.typed}`, "{}"), params(n.typed));
    expect(notScheduled.status).toBe(404);
    expect(await ledger(n.typed)).toHaveLength(0);
  });

  it("answers 489 non-retryable naming the field for a bad payload, and runs nothing", async () => {
    const res = await post(n.typed, JSON.stringify({ formId: "not-a-uuid" }));
    expect(res.status).toBe(489);
    expect(res.headers.get("upstash-nonretryable-error")).toBe("true");
    const body = (await res.json()) as { error: string; issues: { path: string }[] };
    expect(body.error).toMatch(/^invalid payload: formId: /);
    expect(body.issues.map((i) => i.path)).toEqual(["formId"]);
    const notJson = await post(n.typed, "{oops");
    expect(notJson.status).toBe(489);
    expect(((await notJson.json()) as { error: string }).error).toMatch(/not JSON/);
    expect(await ledger(n.typed)).toHaveLength(0);
  });

  it("passes the parsed payload (with defaults) to the handler", async () => {
    const formId = "7b0e3a52-5d1e-4a53-9d38-7f7e8b1c2d3e";
    const res = await post(n.typed, JSON.stringify({ formId }));
    expect(await res.json()).toMatchObject({ status: "succeeded", stats: { formId, attempt: 1 } });
  });

  it("maps NonRetryableError to 489 + Upstash-NonRetryable-Error and records the failure", async () => {
    const res = await post(n.fatal);
    expect(res.status).toBe(489);
    expect(res.headers.get("upstash-nonretryable-error")).toBe("true");
    expect(await res.json()).toMatchObject({ status: "failed", name: "NonRetryableError", error: "expert has no connected account" });
    expect((await ledger(n.fatal))[0]).toMatchObject({ status: "failed", error: { name: "NonRetryableError" } });
  });

  it("maps RetryAfterError to 429 + Retry-After in whole seconds", async () => {
    const res = await post(n.limited);
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("43");
    expect((await ledger(n.limited))[0]?.status).toBe("failed");
  });

  it("answers a run past its timeout with 500, aborts its signal, and records a TimeoutError once the handler settles", async () => {
    const res = await post(n.slow);
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ status: "failed", name: "TimeoutError" });
    // Answered at the timeout, while the handler (which ignores its signal) still holds the run.
    expect(seen.signalAborted).toBeUndefined();
    await expect.poll(async () => (await ledger(n.slow))[0]?.status, { timeout: 5000 }).toBe("failed");
    const [row] = await ledger(n.slow);
    expect(row).toMatchObject({ status: "failed", error: { name: "TimeoutError" } });
    expect(row!.duration_ms).toBeGreaterThanOrEqual(390);
    expect(seen.signalAborted).toBe(true);
  });

  it("records the slot and lag of a scheduled delivery", async () => {
    const res = await cronRoute.POST(qstashRequest(`/api/cron/${n.sched}`, "{}", { scheduleId: `test-${n.sched}` }), params(n.sched));
    const { stats } = (await res.json()) as { stats: { slot: string } };
    const slot = new Date(stats.slot);
    expect(slot.getUTCMinutes() % 5).toBe(0);
    expect(slot.getUTCSeconds()).toBe(0);
    expect(Date.now() - slot.getTime()).toBeLessThan(5 * 60_000);
    const [row] = await ledger(n.sched);
    expect(row).toMatchObject({ schedule_id: `test-${n.sched}`, trigger: "qstash" });
    expect(row!.slot_at?.toISOString()).toBe(stats.slot);
    // bigint: postgres.js reads it as a string.
    expect(Number(row!.lag_ms)).toBeGreaterThanOrEqual(0);
    expect(Number(row!.lag_ms)).toBeLessThan(5 * 60_000);
  });

  it("runs by hand with GET + Bearer (trigger manual) and as Vercel cron (trigger vercel)", async () => {
    const manual = await cronRoute.GET(bearerRequest(`/api/cron/${n.ok}`, `Bearer ${CRON_SECRET}`), params(n.ok));
    expect(await manual.json()).toMatchObject({ status: "succeeded", stats: { trigger: "manual" } });
    const vercel = await cronRoute.GET(bearerRequest(`/api/cron/${n.ok}`, `Bearer ${CRON_SECRET}`, { userAgent: "vercel-cron/1.0" }), params(n.ok));
    expect(await vercel.json()).toMatchObject({ status: "succeeded", stats: { trigger: "vercel" } });
    const rows = await ledger(n.ok);
    expect(rows.map((r) => r.trigger)).toEqual(expect.arrayContaining(["manual", "vercel"]));
    expect(rows.find((r) => r.trigger === "vercel")!.slot_at).not.toBeNull();
  });

  it("answers 500 with what to check when the database is down, and QStash will retry", async () => {
    const down = testDeps(jobs, [], { DATABASE_URL: "postgres://postgres@127.0.0.1:1/nowhere" });
    const res = await jobRoute("jobs", async () => down).POST(qstashRequest(`/api/jobs/${n.ok}`, "{}"), params(n.ok));
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: string }).error).toMatch(/could not open the run: .*ECONNREFUSED.*diagnostics/s);
  });

  it("answers 500 naming only the variables to set when the configuration is invalid, and runs nothing", async () => {
    const broken = jobRoute("jobs", async () => {
      throw new EnvError(["QSTASH_CURRENT_SIGNING_KEY is required in production: Upstash console -> QStash -> Signing keys (current)"]);
    });
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const res = await broken.POST(qstashRequest(`/api/jobs/${n.ok}`, "{}"), params(n.ok));
    expect(res.status).toBe(500);
    const { error } = (await res.json()) as { error: string };
    expect(error).toMatch(/configuration is incomplete: set QSTASH_CURRENT_SIGNING_KEY\. Nothing was run/);
    expect(error).not.toMatch(/Upstash console/);
    // The server log has it in full.
    expect(errors.mock.calls.flat().join("\n")).toMatch(/QSTASH_CURRENT_SIGNING_KEY is required in production: Upstash console/);
    errors.mockRestore();
  });
});
