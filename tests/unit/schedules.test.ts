import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { catalog, composeRegistry } from "../../config/app";
import { defineJob } from "../../lib/jobs/define";
import { createRegistry } from "../../lib/jobs/registry";
import { parseSchedules, slotOf } from "../../lib/jobs/schedules";

const jobs = ["a", "b"];
const error = (entries: Parameters<typeof parseSchedules>[0]) => {
  try {
    parseSchedules(entries, jobs);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error("expected an error");
};

describe("config/qstash.ts parsing", () => {
  it("names the entry and the fix for each mistake", () => {
    expect(error([{ job: "a", cron: "61 * * * *" }])).toMatchInlineSnapshot(
      `"config/qstash.ts entry 1 (job "a"): invalid cron "61 * * * *" (Invalid value for minute: 61). Use five fields: minute hour day-of-month month day-of-week, e.g. "*/15 * * * *"."`,
    );
    expect(error([{ job: "a", cron: "* * * * * *" }])).toMatch(/entry 1 \(job "a"\): invalid cron .*requires exactly 5 parts/);
    expect(error([{ job: "a", cron: "CRON_TZ=Mars/Olympus 0 9 * * *" }])).toMatchInlineSnapshot(
      `"config/qstash.ts entry 1 (job "a"): unknown time zone "Mars/Olympus". Use an IANA name such as Europe/Berlin or America/New_York."`,
    );
    expect(error([{ job: "a", cron: "0 * * * *" }, { job: "a", cron: "5 * * * *" }])).toMatchInlineSnapshot(
      `"config/qstash.ts entry 2 (job "a"): job "a" is scheduled twice. Schedule ids are <prefix>-<job>: keep one entry per job."`,
    );
    expect(error([{ job: "c", cron: "0 * * * *" }])).toMatchInlineSnapshot(
      `"config/qstash.ts entry 1 (job "c"): unknown job "c". Define it in a product's jobs/ and list it in its defineProduct (products/<name>/index.ts), or fix the name. Known jobs: a, b."`,
    );
    expect(error([{ job: "a", cron: "CRON_TZ=Europe/Berlin 0 6 * * *", via: "vercel" }])).toMatch(/Vercel cron runs in UTC only/);
    expect(error([{ job: "a", cron: "0 * * * *", retries: 99 }])).toMatch(/retries must be a whole number from 0 to 20/);
    expect(error([{ job: "a", cron: "0 * * * *", catchUp: { window: "soon" } }])).toMatch(/catchUp.window must be a duration such as "15m"/);
    expect(error([{ job: "a", cron: "0 * * * *", catchUp: { window: "5m" } }])).toMatch(/shorter than 15m: the watchdog \(every 10 minutes\) could never use it/);
    expect(error([{ job: "a", cron: "0 * * * *", catchUp: { window: "30d" } }])).toMatch(/longer than 7 days.*pnpm job:backfill/);
    expect(error([{ job: "a", cron: "0 * * * *", pauseAfterFailures: 0 }])).toMatch(/pauseAfterFailures must be a whole number from 1 to 100/);
  });

  it("gives every schedule a catch-up window of one period, within [15 min, 1 day], unless told", () => {
    const of = (cron: string, extra: object = {}) => parseSchedules([{ job: "a", cron, ...extra }], jobs)[0]!.catchUp;
    expect(of("*/5 * * * *")).toEqual({ windowMs: 15 * 60_000, each: false });
    expect(of("0 */2 * * *")).toEqual({ windowMs: 2 * 3_600_000, each: false });
    expect(of("0 9,17 * * *")).toEqual({ windowMs: 8 * 3_600_000, each: false });
    expect(of("0 3 1 * *")).toEqual({ windowMs: 24 * 3_600_000, each: false });
    expect(of("CRON_TZ=Asia/Kolkata 0 18 * * *", { catchUp: { window: "2d", each: true } })).toEqual({ windowMs: 2 * 86_400_000, each: true });
    expect(of("0 * * * *", { catchUp: false })).toEqual({ windowMs: 0, each: false });
    expect(of("0 * * * *", { catchUp: { window: 0 } })).toEqual({ windowMs: 0, each: false });
  });

  it("takes overlap buffer-one only where a waiting tick is delivered again (QStash, with retries)", () => {
    expect(parseSchedules([{ job: "a", cron: "*/5 * * * *", overlap: "buffer-one" }], jobs)[0]!.overlap).toBe("buffer-one");
    expect(error([{ job: "a", cron: "0 6 * * *", via: "vercel", overlap: "buffer-one" }])).toMatch(/entry 1 \(job "a"\): overlap "buffer-one" waits by being delivered again, and Vercel cron never delivers again/);
    expect(error([{ job: "a", cron: "*/5 * * * *", retries: 0, overlap: "buffer-one" }])).toMatch(/set retries to at least 1, or use overlap "skip"/);
    expect(error([{ job: "a", cron: "*/5 * * * *", overlap: "queue" as never }])).toMatch(/unknown overlap "queue". Use skip, allow, buffer-one/);
    // The job's own buffer-one, under an entry that does not override it, is checked the same way.
    const job = defineJob({ name: "a", description: "t", overlap: "buffer-one", handler: async () => ({}) });
    expect(() => createRegistry([job], [{ job: "a", cron: "*/5 * * * *", retries: 0 }])).toThrow(/entry 1 \(job "a"\): overlap "buffer-one" .*set retries to at least 1/);
    expect(createRegistry([job], [{ job: "a", cron: "*/5 * * * *", retries: 0, overlap: "skip" }]).settingsOf("a").overlap).toBe("skip");
    expect(() => defineJob({ name: "b", description: "t", overlap: "later" as never, handler: async () => ({}) })).toThrow(/Job "b": unknown overlap "later"/);
  });

  it("splits CRON_TZ and fills defaults", () => {
    const [s] = parseSchedules([{ job: "a", cron: "  CRON_TZ=Asia/Kolkata   0 18 * * * " }], jobs);
    expect(s).toMatchObject({ cron: "CRON_TZ=Asia/Kolkata 0 18 * * *", expression: "0 18 * * *", timezone: "Asia/Kolkata", via: "qstash", retries: 3, priority: "medium" });
  });

  it("finds the slot of a run in the schedule's zone", () => {
    const s = { expression: "0 18 * * *", timezone: "Asia/Kolkata" };
    // 18:00 in Kolkata is 12:30 UTC.
    expect(slotOf(s, new Date("2026-11-23T12:31:10Z"))?.toISOString()).toBe("2026-11-23T12:30:00.000Z");
    expect(slotOf(s, new Date("2026-11-23T12:30:00Z"))?.toISOString()).toBe("2026-11-23T12:30:00.000Z");
    expect(slotOf(s, new Date("2026-11-23T12:29:59Z"))?.toISOString()).toBe("2026-11-22T12:30:00.000Z");
  });

  it("keeps vercel.json in step with the registry's Vercel job", () => {
    const vercel = JSON.parse(readFileSync("vercel.json", "utf8")) as { crons: { path: string; schedule: string }[] };
    const expected = composeRegistry(catalog).schedules.filter((s) => s.via === "vercel").map((s) => ({ path: `/api/cron/${s.job}`, schedule: s.cron }));
    expect(vercel.crons).toEqual(expected);
    expect(vercel.crons).toEqual([{ path: "/api/cron/keep-alive", schedule: "0 6 * * *" }]);
  });
});
