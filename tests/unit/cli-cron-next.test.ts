import { describe, expect, it } from "vitest";
import { cronNextCommand } from "../../lib/cli/commands/cron-next";
import { createCliContext } from "../../lib/cli/context";
import { nextRuns, resolveCronSource } from "../../lib/cli/cron-next";
import { transitions } from "../../lib/cli/dst";
import { UsageError } from "../../lib/cli/errors";
import { memoryIo } from "../../lib/cli/io";
import { loadEnv } from "../../lib/env";
import { defineJob } from "../../lib/jobs/define";
import { createRegistry } from "../../lib/jobs/registry";

const noop = async () => ({});
const registry = createRegistry(
  [defineJob({ name: "daily-sales-summary", description: "t", handler: noop }), defineJob({ name: "call-form", description: "t", handler: noop })],
  [{ job: "daily-sales-summary", cron: "CRON_TZ=Europe/Lisbon 30 1 * * *" }],
);
const bare = (expression: string, zone: string) => ({ job: undefined, expression, zone, displayZone: zone });
const iso = (d: Date | null) => d?.toISOString() ?? null;

describe("cron:next across DST changes", () => {
  it('pnpm cron:next "30 1 * * *" --tz Europe/Lisbon -n 400 marks 2027-03-28 (skipped time) and 2027-10-31 (repeated time)', async () => {
    const io = memoryIo();
    const ctx = createCliContext({ env: loadEnv({ APP_ENV: "local" }), registry, io });
    expect(await cronNextCommand(ctx, "30 1 * * *", { tz: "Europe/Lisbon", count: "400", from: "2026-11-23T00:00:00Z", json: true })).toBe(0);
    const out = JSON.parse(io.stdout()) as { zone: string; runs: { n: number | null; at: string | null; local: string; mark: string | null; note: string | null }[] };
    expect(out.zone).toBe("Europe/Lisbon");
    expect(out.runs).toHaveLength(400);
    expect(out.runs[0]).toMatchObject({ n: 1, at: "2026-11-23T01:30:00.000Z", mark: null });
    expect(out.runs.at(-1)).toMatchObject({ n: 400, at: "2027-12-27T01:30:00.000Z" });
    const marked = out.runs.filter((r) => r.mark);
    // Exactly the two nights, nothing else in 400 days.
    expect(marked).toEqual([
      {
        n: 126,
        // 01:30 does not exist (01:00 -> 02:00): croner fires at 02:00 local, 01:00 UTC.
        at: "2027-03-28T01:00:00.000Z",
        local: "Sun 2027-03-28 02:00 +01:00 WEST",
        display: "Sun 2027-03-28 02:00 +01:00 WEST",
        mark: "gap-shifted",
        note: "DST: 01:30 does not exist on 2027-03-28 (clocks jump 01:00 -> 02:00, +00:00 WET -> +01:00 WEST); croner runs it at 02:00",
        // QStash gets no zone: the night is a cron pinned to its date, in force from 48 h before.
        utcCron: "0 1 28 3 *",
      },
      {
        n: 343,
        // 01:30 happens twice (00:30 UTC at +01:00 WEST, 01:30 UTC at +00:00 WET): croner fires at the first only.
        at: "2027-10-31T00:30:00.000Z",
        local: "Sun 2027-10-31 01:30 +01:00 WEST",
        display: "Sun 2027-10-31 01:30 +01:00 WEST",
        mark: "overlap-first",
        note: "DST: 01:30 happens twice on 2027-10-31 (clocks go back 02:00 -> 01:00, +01:00 WEST -> +00:00 WET); runs once, at the first (+01:00 WEST), not again at 01:30 +00:00 WET",
        utcCron: "30 0 30,31 10 *",
      },
    ]);
    // Every run names the UTC cron that fires it; most are the plain ones of each offset.
    expect(out.runs.filter((r) => !(r as { utcCron?: string }).utcCron)).toEqual([]);
    expect(new Set(out.runs.map((r) => (r as { utcCron?: string }).utcCron))).toContain("30 0 * 4-10 *");
    // The days around them are ordinary: 01:30 local, once.
    const at = (n: number) => out.runs.find((r) => r.n === n)!.at;
    expect([at(125), at(127), at(342), at(344)]).toEqual(["2027-03-27T01:30:00.000Z", "2027-03-29T00:30:00.000Z", "2027-10-30T00:30:00.000Z", "2027-11-01T01:30:00.000Z"]);
  });

  it("prints the table with the marks for an operator", async () => {
    const io = memoryIo();
    const ctx = createCliContext({ env: loadEnv({ APP_ENV: "local" }), registry, io });
    await cronNextCommand(ctx, "30 1 * * *", { tz: "Europe/Lisbon", count: 3, from: "2027-10-30T00:00:00Z" });
    expect(io.stdout()).toContain("30 1 * * * (At 01:30), read in Europe/Lisbon");
    expect(io.stdout()).toMatch(/│ 2 │ Sun 2027-10-31 00:30 │ Sun 2027-10-31 01:30 \+01:00 WEST │ 30 0 30,31 10 \* +│ DST: 01:30 happens twice/);
    expect(io.stdout()).toContain("QStash gets the UTC crons, not the zone");
    expect(io.stdout()).toContain("1 run(s) moved, skipped or repeated by a DST change");
  });

  it("shows times a DST jump swallows when croner does not move them (a named range)", () => {
    const rows = nextRuns(bare("*/15 1 * * *", "Europe/Lisbon"), 8, new Date("2027-03-27T00:00:00Z"));
    expect(rows.map((r) => [r.n, iso(r.at), r.mark])).toEqual([
      [1, "2027-03-27T01:00:00.000Z", null],
      [2, "2027-03-27T01:15:00.000Z", null],
      [3, "2027-03-27T01:30:00.000Z", null],
      [4, "2027-03-27T01:45:00.000Z", null],
      [null, null, "gap-skipped"],
      [null, null, "gap-skipped"],
      [null, null, "gap-skipped"],
      [null, null, "gap-skipped"],
      [5, "2027-03-29T00:00:00.000Z", null],
      [6, "2027-03-29T00:15:00.000Z", null],
      [7, "2027-03-29T00:30:00.000Z", null],
      [8, "2027-03-29T00:45:00.000Z", null],
    ]);
    expect(rows[4]).toMatchObject({ local: "2027-03-28 01:00 (does not exist)", note: "DST: does not exist (clocks jump 01:00 -> 02:00, +00:00 WET -> +01:00 WEST); croner does not run it" });
  });

  it("marks a repeated time as run once (a single named time) or twice (every hour)", () => {
    // 2027-11-07 in New York: 02:00 EDT -> 01:00 EST, so 01:00 happens at 05:00 and at 06:00 UTC.
    const daily = nextRuns(bare("0 1 * * *", "America/New_York"), 3, new Date("2027-11-06T00:00:00Z"));
    expect(daily.map((r) => [iso(r.at), r.mark])).toEqual([
      ["2027-11-06T05:00:00.000Z", null],
      ["2027-11-07T05:00:00.000Z", "overlap-first"],
      ["2027-11-08T06:00:00.000Z", null],
    ]);
    const hourly = nextRuns(bare("0 * * * *", "America/New_York"), 3, new Date("2027-11-07T04:30:00Z"));
    expect(hourly.map((r) => [iso(r.at), r.local, r.mark])).toEqual([
      ["2027-11-07T05:00:00.000Z", "Sun 2027-11-07 01:00 -04:00 EDT", "overlap-both"],
      ["2027-11-07T06:00:00.000Z", "Sun 2027-11-07 01:00 -05:00 EST", "overlap-both"],
      ["2027-11-07T07:00:00.000Z", "Sun 2027-11-07 02:00 -05:00 EST", null],
    ]);
    expect(hourly[0]!.note).toBe("DST: 01:00 happens twice on 2027-11-07 (clocks go back 02:00 -> 01:00, -04:00 EDT -> -05:00 EST); runs at both");
  });

  it("finds the two Lisbon changes of 2027 from luxon's offsets", () => {
    const t = transitions("Europe/Lisbon", new Date("2027-01-01T00:00:00Z"), new Date("2028-01-01T00:00:00Z"));
    expect(t.map((x) => [x.at.toISOString(), x.kind, x.offsetBefore, x.offsetAfter])).toEqual([
      ["2027-03-28T01:00:00.000Z", "gap", 0, 60],
      ["2027-10-31T01:00:00.000Z", "overlap", 60, 0],
    ]);
    expect(transitions("UTC", new Date("2027-01-01T00:00:00Z"), new Date("2028-01-01T00:00:00Z"))).toEqual([]);
  });

  it("reads a job in its own zone; --tz then only changes the zone shown", () => {
    expect(resolveCronSource("daily-sales-summary", registry, "Asia/Tokyo")).toEqual({ job: "daily-sales-summary", expression: "30 1 * * *", zone: "Europe/Lisbon", displayZone: "Asia/Tokyo" });
    expect(resolveCronSource("30 1 * * *", registry, undefined)).toMatchObject({ zone: "UTC", displayZone: "UTC" });
    expect(resolveCronSource("CRON_TZ=Europe/Berlin 0 9 * * 1-5", registry, "UTC")).toMatchObject({ expression: "0 9 * * 1-5", zone: "Europe/Berlin", displayZone: "UTC" });
  });

  it("says what is wrong with the argument (exit 2)", () => {
    const err = (input: string, tz?: string) => {
      try {
        resolveCronSource(input, registry, tz);
      } catch (e) {
        expect(e).toBeInstanceOf(UsageError);
        return (e as Error).message;
      }
      throw new Error("expected a usage error");
    };
    expect(err("call-form")).toBe('job "call-form" has no schedule in config/qstash.ts: it runs only when published, so it has no next run times.');
    expect(err("nope")).toBe('"nope" is neither a scheduled job (daily-sales-summary) nor a cron expression: quote a cron, e.g. pnpm cron:next "30 1 * * *".');
    expect(err("61 * * * *")).toMatch(/invalid cron "61 \* \* \* \*"/);
    expect(err("0 * * * *", "Mars/Olympus")).toMatch(/--tz: unknown time zone "Mars\/Olympus"/);
  });
});
