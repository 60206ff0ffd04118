import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import type { Db } from "../../lib/db/types";
import { RetryAfterError } from "../../lib/errors";
import type { JobContext } from "../../lib/jobs/define";
import { runEffects, type EffectOptions } from "../../lib/jobs/effects";
import { createLogger } from "../../lib/log";
import { sql, testDeps } from "../support/app";

// runEffects with `lookahead`: the next page claimed and the last settled while a page is worked,
// against the real effects table. What must not change: each effect once, a stop settles its page,
// and a page claimed ahead that was never worked is handed back.
const deps = testDeps([]);
afterAll(() => deps.db.close());

/** The database with every call written to `events` as it starts and ends; `fail` makes a call fail instead. */
function recorded(events: string[], fail?: (fn: string, n: number) => boolean): Db {
  const calls = new Map<string, number>();
  return {
    ...deps.db,
    rpc: async <T,>(fn: string, args?: Record<string, unknown>) => {
      const n = (calls.get(fn) ?? 0) + 1;
      calls.set(fn, n);
      events.push(`${fn}:${n}:start`);
      try {
        if (fail?.(fn, n)) throw new Error(`${fn} call ${n} failed (the test's database)`);
        return await deps.db.rpc<T>(fn, args);
      } finally {
        events.push(`${fn}:${n}:end`);
      }
    },
  };
}

function ctx(job: string, db: Db, lines: string[] = []): JobContext<unknown> {
  return {
    payload: {},
    db,
    redis: undefined,
    env: deps.env,
    log: createLogger("warn", {}, (line) => void lines.push(line)),
    providers: undefined as never,
    now: new Date(),
    signal: new AbortController().signal,
    run: { id: randomUUID(), job, trigger: "cli", attempt: 0, messageId: undefined, scheduleId: undefined, slotAt: undefined },
    settleDb: db,
    lease: { check() {} },
    runAgainAt: async () => {},
  };
}

const dueOf = (n: number) => async ({ after, limit }: { after: number | undefined; limit: number }) =>
  Array.from({ length: n }, (_, i) => i).filter((i) => after === undefined || i > after).slice(0, limit);

const ahead = (job: string, work: EffectOptions<number, unknown>["work"], extra: Partial<EffectOptions<number, unknown>> = {}): EffectOptions<number, unknown> => ({
  due: dueOf(10),
  key: (i) => `${job}:${i}`,
  work,
  pageSize: 4,
  concurrency: 2,
  onUnknown: "retry-with-key",
  lookahead: true,
  ...extra,
});

const rows = async (job: string) =>
  (await sql()`select key, status from effects where job = ${job} order by key`).map((r) => `${String(r.key).split(":")[1]}=${r.status}`);

describe("runEffects with lookahead", () => {
  it("claims page N+1 and settles page N-1 while page N is worked", async () => {
    const job = `ahead-${randomUUID().slice(0, 6)}`;
    const events: string[] = [];
    const work = async (i: number) => {
      events.push(`work:${i}:start`);
      await new Promise((r) => setTimeout(r, 30));
      events.push(`work:${i}:end`);
      return { id: i };
    };
    const counts = await runEffects(ctx(job, recorded(events)), ahead(job, work));
    expect(counts).toMatchObject({ succeeded: 10, skipped: 0, released: 0 });
    const at = (e: string) => events.indexOf(e);
    // Pages: 0-3, 4-7, 8-9. Page 2's claim ends before page 1's work does; page 1 settles while page 2 is worked.
    expect(at("effects_claim:2:end")).toBeLessThan(at("work:3:end"));
    expect(at("effects_claim:3:start")).toBeLessThan(at("work:7:end"));
    expect(at("effects_finish:1:start")).toBeLessThan(at("work:7:end"));
    expect(at("effects_finish:1:start")).toBeGreaterThan(at("work:3:end"));
    // Each page settles after its own work, in page order.
    expect(at("effects_finish:2:start")).toBeGreaterThan(at("work:7:end"));
    expect(at("effects_finish:3:start")).toBeGreaterThan(at("work:9:end"));
    expect(await rows(job)).toEqual(Array.from({ length: 10 }, (_, i) => `${i}=succeeded`).sort());
  });

  it("20 concurrent runs over the same due items make each effect once", async () => {
    const job = `ahead-many-${randomUUID().slice(0, 6)}`;
    const made: string[] = [];
    const runs = await Promise.all(
      Array.from({ length: 20 }, () =>
        runEffects(ctx(job, deps.db), ahead(job, async (i, e) => {
          made.push(e.key);
          await new Promise((r) => setTimeout(r, 3));
          return { id: i };
        }, { due: dueOf(50), pageSize: 7, concurrency: 3 })),
      ),
    );
    expect(made.sort()).toEqual(Array.from({ length: 50 }, (_, i) => `${job}:${i}`).sort());
    expect(runs.reduce((n, r) => n + r.succeeded, 0)).toBe(50);
    expect(runs.reduce((n, r) => n + r.succeeded + r.skipped, 0)).toBe(20 * 50);
    expect(await sql()`select count(*)::int as n from effects where job = ${job} and status <> 'succeeded'`).toEqual([{ n: 0 }]);
  });

  it("a stop settles its page and hands back the page claimed ahead; the next run makes the rest once", async () => {
    const job = `ahead-stop-${randomUUID().slice(0, 6)}`;
    const made: number[] = [];
    const limited = async (i: number) => {
      if (i === 5) throw new RetryAfterError("slow down", 30);
      made.push(i);
      await new Promise((r) => setTimeout(r, 10));
      return { id: i };
    };
    await expect(runEffects(ctx(job, deps.db), ahead(job, limited, { concurrency: 1 }))).rejects.toBeInstanceOf(RetryAfterError);
    // 0-4 made; 5-7 never started and 8-9 (claimed ahead) never worked: first attempts leave no row.
    expect(made).toEqual([0, 1, 2, 3, 4]);
    expect(await rows(job)).toEqual(["0=succeeded", "1=succeeded", "2=succeeded", "3=succeeded", "4=succeeded"]);

    const counts = await runEffects(ctx(job, deps.db), ahead(job, async (i) => (made.push(i), { id: i })));
    expect(counts).toMatchObject({ succeeded: 5, skipped: 5 });
    expect(made).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("a settle that fails fails the run; the page worked meanwhile is still recorded and the page claimed ahead handed back", async () => {
    const job = `ahead-settle-${randomUUID().slice(0, 6)}`;
    const events: string[] = [];
    const db = recorded(events, (fn, n) => fn === "effects_finish" && n === 1);
    const run = ctx(job, db);
    await expect(runEffects(run, ahead(job, async (i) => ({ id: i }), { due: dueOf(12) }))).rejects.toThrow("effects_finish call 1 failed");
    // Page 1 (0-3) stays claimed by the run (taken over as unknown once it is closed), page 2 (4-7)
    // was worked while page 1 settled and is recorded, page 3 (8-11) was claimed ahead and handed back.
    expect(await rows(job)).toEqual(["0=claimed", "1=claimed", "2=claimed", "3=claimed", "4=succeeded", "5=succeeded", "6=succeeded", "7=succeeded"]);
    expect(events.filter((e) => e.startsWith("effects_claim") && e.endsWith("end"))).toHaveLength(3);
  });

  it("a stop with its own page's settle failing throws the stop and says the settle failed", async () => {
    const job = `ahead-both-${randomUUID().slice(0, 6)}`;
    const lines: string[] = [];
    const db = recorded([], (fn, n) => fn === "effects_finish" && n === 2);
    const limited = async (i: number) => {
      if (i === 5) throw new RetryAfterError("slow down", 30);
      return { id: i };
    };
    await expect(runEffects(ctx(job, db, lines), ahead(job, limited, { concurrency: 1 }))).rejects.toBeInstanceOf(RetryAfterError);
    const failed = lines.map((l) => JSON.parse(l) as { event: string; error?: string }).filter((l) => l.event === "effects.settle_failed");
    expect(failed).toEqual([expect.objectContaining({ error: expect.stringContaining("effects_finish call 2 failed") })]);
    // Page 1 recorded; page 2 (4 made, 5-7 not) left claimed by the run; page 3, claimed ahead, handed back.
    expect(await rows(job)).toEqual(["0=succeeded", "1=succeeded", "2=succeeded", "3=succeeded", "4=claimed", "5=claimed", "6=claimed", "7=claimed"]);
  });
});
