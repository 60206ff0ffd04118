import { describe, expect, it } from "vitest";
import { parseCron, slotOf } from "../../lib/jobs/schedules";
import { missedSlots, slotsBetween } from "../../lib/jobs/slots";

const spec = (cron: string) => parseCron(cron, "test");
const iso = (ds: Date[]) => ds.map((d) => d.toISOString());

describe("slotsBetween", () => {
  it("lists ticks in [from, to): the start is in, the end is out", () => {
    const s = slotsBetween(spec("*/15 * * * *"), new Date("2026-11-23T10:00:00Z"), new Date("2026-11-23T11:00:00Z"));
    expect(iso(s)).toEqual(["2026-11-23T10:00:00.000Z", "2026-11-23T10:15:00.000Z", "2026-11-23T10:30:00.000Z", "2026-11-23T10:45:00.000Z"]);
    expect(slotsBetween(spec("0 */2 * * *"), new Date("2026-11-23T10:00:01Z"), new Date("2026-11-23T12:00:00Z"))).toEqual([]);
  });

  it("follows the schedule's zone across a DST change", () => {
    // 09:00 in Berlin is 07:00 UTC in summer time and 08:00 UTC after the clocks go back (25 Oct 2026).
    const s = slotsBetween(spec("CRON_TZ=Europe/Berlin 0 9 * * *"), new Date("2026-10-23T00:00:00Z"), new Date("2026-10-28T00:00:00Z"));
    expect(iso(s)).toEqual([
      "2026-10-23T07:00:00.000Z",
      "2026-10-24T07:00:00.000Z",
      "2026-10-25T08:00:00.000Z",
      "2026-10-26T08:00:00.000Z",
      "2026-10-27T08:00:00.000Z",
    ]);
    // 02:30 does not exist on 29 March 2026 in Berlin: the tick comes at 03:00 CEST (01:00 UTC).
    expect(iso(slotsBetween(spec("CRON_TZ=Europe/Berlin 30 2 * * *"), new Date("2026-03-28T00:00:00Z"), new Date("2026-03-30T00:00:00Z")))).toEqual([
      "2026-03-28T01:30:00.000Z",
      "2026-03-29T01:00:00.000Z",
    ]);
  });

  it("agrees with slotOf: a run arriving for a slot records exactly that slot", () => {
    for (const cron of ["*/15 * * * *", "0 */6 * * *", "CRON_TZ=Europe/Berlin 30 2 * * *", "CRON_TZ=America/New_York 0 * * * *"]) {
      const s = spec(cron);
      for (const slot of slotsBetween(s, new Date("2026-03-07T00:00:00Z"), new Date("2026-03-10T00:00:00Z"))) {
        expect(slotOf(s, slot)).toEqual(slot);
        expect(slotOf(s, new Date(slot.getTime() + 42_000))).toEqual(slot);
      }
    }
  });

  it("refuses a window with more slots than the limit, saying how many", () => {
    expect(() => slotsBetween(spec("* * * * *"), new Date("2026-01-01T00:00:00Z"), new Date("2026-01-02T00:00:00Z"), 100)).toThrow(/more than 100 slots/);
  });
});

describe("missedSlots", () => {
  it("returns the expected slots no run recorded, whatever form the recorded ones take", () => {
    const expected = slotsBetween(spec("0 * * * *"), new Date("2026-11-23T00:00:00Z"), new Date("2026-11-23T04:00:00Z"));
    const missed = missedSlots(expected, ["2026-11-23T00:00:00+00:00", new Date("2026-11-23T02:00:00Z"), "2026-11-22T23:00:00Z"]);
    expect(iso(missed)).toEqual(["2026-11-23T01:00:00.000Z", "2026-11-23T03:00:00.000Z"]);
  });
});

describe("watchdog alert", () => {
  it("lists up to 24 missed slots of a job one by one, then says how many more and the last", async () => {
    const { watchdogAlert } = await import("../../lib/emails/watchdog-alert");
    const slots = slotsBetween(spec("* * * * *"), new Date("2026-11-23T00:00:00Z"), new Date("2026-11-23T01:00:00Z"));
    const f = { from: new Date("2026-11-22T06:00:00.123Z"), to: new Date("2026-11-23T06:00:00.123Z"), jobs: 1, expectedSlots: 60, missed: [{ job: "minutely", slots }], failures: [], slow: [], partial: [] };
    const { subject, text } = watchdogAlert(f, []);
    expect(subject).toBe("[cronlayer] watchdog: 60 missed runs");
    expect(text).toContain("from 2026-11-22T06:00:00Z to 2026-11-23T06:00:00Z (1 jobs, 60 slots expected)");
    expect(text).toContain("- minutely: 60 missed: 2026-11-23T00:00:00Z, 2026-11-23T00:01:00Z,");
    expect(text).toContain("2026-11-23T00:23:00Z … and 36 more, the last at 2026-11-23T00:59:00Z");
  });
});
