import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { ProviderError, RetryAfterError } from "../../lib/errors";
import type { JobContext } from "../../lib/jobs/define";
import { runEffects, type EffectOptions } from "../../lib/jobs/effects";
import { createLogger } from "../../lib/log";
import { sql, testDeps } from "../support/app";

// The helper on its own, against the real effects table: what every job's exactly-once rests on.
const deps = testDeps([]);
afterAll(() => deps.db.close());

const retryRuns: Date[] = [];

/** A run of `job` at `now`, as executeRun would give it. */
function ctx(job: string, now: Date, signal = new AbortController().signal): JobContext<unknown> {
  return {
    payload: {},
    db: deps.db,
    redis: undefined,
    env: deps.env,
    log: createLogger("silent"),
    providers: undefined as never,
    now,
    signal,
    run: { id: randomUUID(), job, trigger: "cli", attempt: 0, messageId: undefined, scheduleId: undefined, slotAt: undefined },
    settleDb: deps.db,
    lease: { check() {} },
    runAgainAt: async (at) => void retryRuns.push(at),
  };
}

/** Items 0..n-1 as a keyset-paged due query. */
const dueOf = (n: number) => async ({ after, limit }: { after: number | undefined; limit: number }) =>
  Array.from({ length: n }, (_, i) => i).filter((i) => after === undefined || i > after).slice(0, limit);

/** The provider edge: every call that left the app, by key. */
function edge() {
  const calls: string[] = [];
  return { calls, count: (key: string) => calls.filter((k) => k === key).length };
}

const opts = (job: string, work: EffectOptions<number, unknown>["work"], extra: Partial<EffectOptions<number, unknown>> = {}): EffectOptions<number, unknown> => ({
  due: dueOf(10),
  key: (i) => `${job}:${i}`,
  work,
  pageSize: 4,
  ...extra,
});

const effect = async (key: string) => (await sql()`select status, attempts, next_attempt_at, last_error, result, run_id from effects where key = ${key}`)[0];

describe("runEffects", () => {
  it("20 concurrent runs over the same due items make each effect once", async () => {
    const job = `concurrent-${randomUUID().slice(0, 6)}`;
    const out = edge();
    const now = new Date();
    const runs = await Promise.all(
      Array.from({ length: 20 }, () =>
        runEffects(ctx(job, now), opts(job, async (i, e) => {
          out.calls.push(e.key);
          await new Promise((r) => setTimeout(r, 5));
          return { id: `obj_${i}` };
        }, { due: dueOf(50), pageSize: 7, concurrency: 3 })),
      ),
    );
    expect(out.calls).toHaveLength(50);
    for (let i = 0; i < 50; i++) expect(out.count(`${job}:${i}`)).toBe(1);
    expect(runs.reduce((n, r) => n + r.succeeded, 0)).toBe(50);
    expect(runs.reduce((n, r) => n + r.succeeded + r.skipped, 0)).toBe(20 * 50);
    const rows = await sql()`select status, count(*)::int as n from effects where job = ${job} group by status`;
    expect(rows).toEqual([{ status: "succeeded", n: 50 }]);
    expect(await effect(`${job}:7`)).toMatchObject({ status: "succeeded", attempts: 1, result: { id: "obj_7" } });
  });

  it("a rejected effect is retried by a later run after its backoff, never by the same run, and abandoned after its last attempt", async () => {
    const job = `backoff-${randomUUID().slice(0, 6)}`;
    const out = edge();
    const reject = async (_i: number, e: { key: string }) => {
      out.calls.push(e.key);
      throw new ProviderError("Vendor", "HTTP 422: invalid account", 422);
    };
    const t0 = new Date("2031-01-01T00:00:00Z");
    const first = await runEffects(ctx(job, t0), opts(job, reject, { due: dueOf(1), maxAttempts: 3, backoffMs: 60_000 }));
    expect(first).toMatchObject({ failed: 1, succeeded: 0 });
    expect(first.retryAt!.getTime()).toBeGreaterThanOrEqual(t0.getTime() + 30_000);
    expect(first.retryAt!.getTime()).toBeLessThanOrEqual(t0.getTime() + 60_000);
    expect(retryRuns).toContainEqual(first.retryAt);
    const row = await effect(`${job}:0`);
    expect(row).toMatchObject({ status: "failed", attempts: 1, last_error: expect.stringContaining("invalid account") });

    // Before its backoff passes nothing is claimed; after it, attempt 2 waits about twice as long.
    expect(await runEffects(ctx(job, new Date(t0.getTime() + 20_000)), opts(job, reject, { due: dueOf(1), maxAttempts: 3 }))).toMatchObject({ skipped: 1, failed: 0 });
    const t1 = new Date(t0.getTime() + 61_000);
    const second = await runEffects(ctx(job, t1), opts(job, reject, { due: dueOf(1), maxAttempts: 3, backoffMs: 60_000 }));
    expect(second.failed).toBe(1);
    expect(second.retryAt!.getTime() - t1.getTime()).toBeGreaterThanOrEqual(60_000);
    const third = await runEffects(ctx(job, new Date(t0.getTime() + 3 * 3_600_000)), opts(job, reject, { due: dueOf(1), maxAttempts: 3 }));
    expect(third).toMatchObject({ abandoned: 1, failed: 0 });
    expect(await runEffects(ctx(job, new Date(t0.getTime() + 86_400_000)), opts(job, reject, { due: dueOf(1), maxAttempts: 3 }))).toMatchObject({ skipped: 1 });
    expect(out.calls).toHaveLength(3);
    expect(await effect(`${job}:0`)).toMatchObject({ status: "abandoned", attempts: 3 });
  });

  it("a rate limit stops the run: the page is settled, what did not start is released and the next run makes it", async () => {
    const job = `limited-${randomUUID().slice(0, 6)}`;
    const out = edge();
    const now = new Date();
    await expect(
      runEffects(ctx(job, now), opts(job, async (i, e) => {
        out.calls.push(e.key);
        if (i === 5) throw new RetryAfterError("slow down", 30);
      }, { concurrency: 1 })),
    ).rejects.toBeInstanceOf(RetryAfterError);
    expect(out.calls).toEqual([0, 1, 2, 3, 4, 5].map((i) => `${job}:${i}`));
    // Made: 0-4. Item 5 and 6, 7 (same page, not started) leave no trace; 8, 9 were never claimed.
    const rows = await sql()`select key, status from effects where job = ${job} order by key`;
    expect(rows.map((r) => `${r.key}=${r.status}`)).toEqual([0, 1, 2, 3, 4].map((i) => `${job}:${i}=succeeded`));
    const next = await runEffects(ctx(job, now), opts(job, async (_i, e) => void out.calls.push(e.key)));
    expect(next).toMatchObject({ succeeded: 5, skipped: 5 });
    for (let i = 0; i < 10; i++) expect(out.count(`${job}:${i}`)).toBe(i === 5 ? 2 : 1);
  });

  it("an unknown outcome is reconciled before it is tried again: found means succeeded, without a second call", async () => {
    const job = `unknown-${randomUUID().slice(0, 6)}`;
    const out = edge();
    const made = new Set<string>();
    const work = async (i: number, e: { key: string }) => {
      out.calls.push(e.key);
      made.add(e.key);
      if (i < 2) throw new ProviderError("Vendor", "HTTP 502: bad gateway", 502); // made, but the answer was lost
      return { id: `obj_${i}` };
    };
    const reconcile = async (i: number, e: { key: string }) => (made.has(e.key) ? { id: `found_${i}` } : undefined);
    const t0 = new Date("2031-02-01T00:00:00Z");
    expect(await runEffects(ctx(job, t0), opts(job, work, { due: dueOf(3), reconcile }))).toMatchObject({ unknown: 2, succeeded: 1 });
    expect(await effect(`${job}:0`)).toMatchObject({ status: "unknown", attempts: 1 });
    made.delete(`${job}:1`); // the vendor never made this one after all

    const later = await runEffects(ctx(job, new Date(t0.getTime() + 25 * 3_600_000)), opts(job, async (i, e) => (out.calls.push(e.key), { id: `obj_${i}` }), { due: dueOf(3), reconcile }));
    expect(later).toMatchObject({ succeeded: 2, reconciled: 1, skipped: 1 });
    expect(out.count(`${job}:0`)).toBe(1);
    expect(out.count(`${job}:1`)).toBe(2);
    expect(await effect(`${job}:0`)).toMatchObject({ status: "succeeded", attempts: 2, result: { id: "found_0" } });
  });

  it("a run asks for a retry run only for its own effects, not while another payload's effect waits out its backoff", async () => {
    const job = `per-payload-${randomUUID().slice(0, 6)}`;
    const t0 = new Date("2031-02-01T00:00:00Z");
    const one = (item: number, work: EffectOptions<number, unknown>["work"]) => opts(job, work, { due: async ({ after }) => (after === undefined ? [item] : []), backoffMs: 60_000 });
    const failing = await runEffects(ctx(job, t0), one(0, async () => { throw new ProviderError("Vendor", "HTTP 422: invalid", 422); }));
    expect(failing.retryAt).toBeDefined();
    const before = retryRuns.length;
    // Another message of the same job, whose own effect is made: it publishes nothing.
    const done = await runEffects(ctx(job, new Date(t0.getTime() + 1_000)), one(1, async () => ({ id: "ok" })));
    expect(done).toMatchObject({ succeeded: 1, retryAt: undefined });
    expect(retryRuns.length).toBe(before);
  });

  it("an unknown outcome without reconcile is abandoned for a person, never tried blindly again, unless the job declares a safe retry", async () => {
    const job = `unknown-${randomUUID().slice(0, 6)}`;
    const out = edge();
    const lost = async (_i: number, e: { key: string }) => {
      out.calls.push(e.key);
      throw new ProviderError("Vendor", "HTTP 503: unavailable", 503);
    };
    const t0 = new Date("2031-04-01T00:00:00Z");
    expect(await runEffects(ctx(job, t0), opts(job, lost, { due: dueOf(1), backoffMs: 1_000 }))).toMatchObject({ unknown: 1 });
    const later = new Date(t0.getTime() + 3_600_000);
    expect(await runEffects(ctx(job, later), opts(job, lost, { due: dueOf(1) }))).toMatchObject({ abandoned: 1 });
    expect(out.count(`${job}:0`)).toBe(1);
    expect(await effect(`${job}:0`)).toMatchObject({ status: "abandoned", last_error: expect.stringContaining("can neither look it up at the provider nor retry it safely") });

    // A provider that keeps the first request per key may be asked again.
    const keyed = `keyed-${randomUUID().slice(0, 6)}`;
    expect(await runEffects(ctx(keyed, t0), opts(keyed, lost, { due: dueOf(1), backoffMs: 1_000, onUnknown: "retry-with-key" }))).toMatchObject({ unknown: 1 });
    expect(await runEffects(ctx(keyed, later), opts(keyed, async () => ({ id: "ok" }), { due: dueOf(1), onUnknown: "retry-with-key" }))).toMatchObject({ succeeded: 1 });
  });

  it("a claim whose run died is taken over once its lease passes, and reconciled first", async () => {
    const job = `dead-${randomUUID().slice(0, 6)}`;
    const t0 = new Date("2031-03-01T00:00:00Z");
    const dead = ctx(job, t0);
    await deps.db.rpc("effects_claim", { p_job: job, p_run_id: dead.run.id, p_now: t0, p_lease_ms: 60_000, p_items: [{ key: `${job}:0` }] });
    const reconciled: string[] = [];
    const reconcile = async (_i: number, e: { key: string }) => void reconciled.push(e.key);
    const work = async () => ({ id: "obj" });
    expect(await runEffects(ctx(job, new Date(t0.getTime() + 30_000)), opts(job, work, { due: dueOf(1), reconcile }))).toMatchObject({ skipped: 1 });
    expect(await runEffects(ctx(job, new Date(t0.getTime() + 61_000)), opts(job, work, { due: dueOf(1), reconcile }))).toMatchObject({ succeeded: 1 });
    expect(reconciled).toEqual([`${job}:0`]);
  });

  it("an aborted run starts nothing more and releases its claims", async () => {
    const job = `aborted-${randomUUID().slice(0, 6)}`;
    const ac = new AbortController();
    const out = edge();
    await expect(
      runEffects(ctx(job, new Date(), ac.signal), opts(job, async (i, e) => {
        out.calls.push(e.key);
        if (i === 1) ac.abort(new Error("timeout"));
      }, { concurrency: 1 })),
    ).rejects.toThrow("timeout");
    expect(out.calls).toEqual([`${job}:0`, `${job}:1`]);
    expect((await sql()`select key from effects where job = ${job} order by key`).map((r) => r.key)).toEqual([`${job}:0`, `${job}:1`]);
  });
});
