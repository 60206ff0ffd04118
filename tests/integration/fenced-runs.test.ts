import { describe, expect, it } from "vitest";
import { DbError, type Db } from "../../lib/db/types";
import { defineJob } from "../../lib/jobs/define";
import { runEffects } from "../../lib/jobs/effects";
import { runJob } from "../../lib/jobs/run";
import { sql, testDeps, uniqueName } from "../support/app";

/**
 * Two holes the simulation (tests/sim) found, as plain examples: a run stopped by its timeout
 * still records its page, and a run that cannot renew its lease stops making effects before
 * another run may take them.
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const effects = async (job: string) =>
  Object.fromEntries((await sql()<{ key: string; status: string }[]>`select key, status from effects where job = ${job}`).map((r) => [r.key, r.status]));

describe("a run stopped by its timeout", () => {
  it("records what completed as succeeded, what was cut off as unknown, and releases what never started", async () => {
    const name = uniqueName("timeout-page");
    const job = defineJob({
      name,
      description: "t",
      timeoutMs: 300,
      async handler(ctx) {
        await runEffects<string, unknown>(ctx, {
          due: async ({ after }) => (after ? [] : ["a", "b", "c"]),
          key: (i) => `${name}:${i}`,
          concurrency: 1,
          onUnknown: "retry-with-key",
          // a answers at once; b hangs until the run's signal stops it; c never starts.
          work: (i) => (i === "a" ? Promise.resolve({ id: "a" }) : new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)))),
        });
      },
    });
    const out = await runJob({ job: name, payload: {}, trigger: "cli" }, testDeps([job]));
    expect(out).toMatchObject({ status: "failed", error: { name: "TimeoutError" } });
    expect(await effects(name)).toEqual({ [`${name}:a`]: "succeeded", [`${name}:b`]: "unknown" });
  });
});

describe("a run that cannot renew its lease", () => {
  it("stops making effects at half its lease, so the run that takes its job over never makes one twice", { timeout: 20_000 }, async () => {
    const name = uniqueName("fenced");
    const made = new Map<string, number>();
    const madeAt: { key: string; at: number }[] = [];
    const job = defineJob({
      name,
      description: "t",
      timeoutMs: 10_000,
      async handler(ctx) {
        const c = await runEffects<number, unknown>(ctx, {
          due: async ({ after, limit }) => Array.from({ length: 40 }, (_, i) => i).filter((i) => after === undefined || i > after).slice(0, limit),
          key: (i) => `${name}:${i}`,
          pageSize: 40,
          concurrency: 1,
          onUnknown: "retry",
          work: async (_i, e) => {
            made.set(e.key, (made.get(e.key) ?? 0) + 1);
            madeAt.push({ key: e.key, at: performance.now() });
            await sleep(40);
          },
        });
        return { succeeded: c.succeeded };
      },
    });
    const base = testDeps([job]);
    // The first run's connection cannot renew its lease (a slow or stuck path); everything else works.
    const cut: Db = { ...base.db, kind: base.db.kind, rpc: (fn, args, o) => (fn === "job_run_renew" ? Promise.reject(new DbError(fn, "connection refused")) : base.db.rpc(fn, args, o)) };
    const lease = { leaseMs: 1_000, renewMs: 300 };
    const started = performance.now();
    const first = runJob({ job: name, payload: {}, trigger: "cli" }, { ...base, db: cut, lease });
    await sleep(1_200);
    // Past the first run's lease: the next run takes the job and the claims over.
    const second = await runJob({ job: name, payload: {}, trigger: "cli" }, { ...base, lease });
    expect(second).toMatchObject({ status: "succeeded" });
    expect(await first).toMatchObject({ status: "failed", error: { name: "LeaseLostError" } });
    expect([...made.entries()].filter(([, n]) => n > 1)).toEqual([]);
    expect(made.size).toBe(40);
    // Nothing left the first run after half its lease (the fence), with room for a slow timer.
    const firstRun = madeAt.filter((m) => m.at < started + 1_200);
    expect(firstRun.filter((m) => m.at > started + 500 + 100)).toEqual([]);
    expect(Object.values(await effects(name)).every((s) => s === "succeeded")).toBe(true);
  });
});
