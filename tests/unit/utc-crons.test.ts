import { Cron } from "croner";
import { describe, expect, it } from "vitest";
import { list, pins, plain, utcCronsFor, zonedInstants, ZonedCronError } from "../../lib/time/utc-crons";

const DAY = 86_400_000;
const ZONES = ["Europe/Lisbon", "America/New_York", "Australia/Sydney", "Pacific/Chatham"];

/** Every instant in [from, to) that any of the UTC crons fires. */
function fired(crons: readonly string[], from: number, to: number): number[] {
  const out = new Set<number>();
  for (const c of crons) {
    const cron = new Cron(c, { mode: "5-part", timezone: "UTC", paused: true });
    for (let at = cron.nextRun(new Date(from - 1)); at && at.getTime() < to; at = cron.nextRun(at)) out.add(at.getTime());
  }
  return [...out].sort((a, b) => a - b);
}

/**
 * keep-alive's day: the crons it installs at 06:00 UTC must fire exactly croner's zoned instants
 * until the next day's 06:00, when it re-syncs. Over 400 days from `start`.
 */
function mismatches(expression: string, zone: string, start: string, days = 400): string[] {
  const bad: string[] = [];
  let t = Date.parse(start);
  for (let d = 0; d < days; d++, t += DAY) {
    const { crons } = utcCronsFor(expression, zone, new Date(t));
    expect(crons.some((c) => c.includes("CRON_TZ"))).toBe(false);
    const want = zonedInstants(expression, zone, t, t + DAY).map((x) => x.getTime());
    const got = fired(crons, t, t + DAY);
    if (JSON.stringify(got) !== JSON.stringify(want)) bad.push(`${new Date(t).toISOString()}: want ${want.map((x) => new Date(x).toISOString())} got ${got.map((x) => new Date(x).toISOString())} from ${crons.join(" | ")}`);
  }
  return bad;
}

describe("zoned crons as UTC crons", () => {
  for (const zone of ZONES) {
    for (const expression of ["30 1 * * *", "0 18 * * *", "45 23 * * 0", "15 */6 * * 1-5"]) {
      it(`${zone} "${expression}": the same instants as croner for 400 days, re-synced daily at 06:00 UTC`, () => {
        expect(mismatches(expression, zone, "2026-12-01T06:00:00Z")).toEqual([]);
      });
    }
  }

  it("bridges eleven whole months between offset changes (Casablanca, Ramadan 2026 to Ramadan 2027)", () => {
    expect(mismatches("0 9 * * *", "Africa/Casablanca", "2026-03-01T06:00:00Z", 120)).toEqual([]);
  });

  it("is stable between re-syncs: the crons change only within 48 h of an offset change", () => {
    const seen = new Set<string>();
    for (let t = Date.parse("2027-01-01T06:00:00Z"); t < Date.parse("2028-01-01T06:00:00Z"); t += DAY) seen.add(utcCronsFor("30 1 * * *", "Europe/Lisbon", new Date(t)).crons.join(" | "));
    // Two changes in 2027 (and the one of October 2026 still in force in January): three sets.
    expect(seen.size).toBe(3);
  });

  it("turns Lisbon's 01:30 into pinned dates around the spring change and whole months after", () => {
    const { crons, resyncAt } = utcCronsFor("30 1 * * *", "Europe/Lisbon", new Date("2027-03-27T06:00:00Z"));
    // 01:30 does not exist on 28 March 2027: croner runs it at 02:00 WEST, 01:00 UTC.
    expect(crons).toEqual(["30 0 * 4-10 *", "30 1 26,27 3 *", "0 1 28 3 *", "30 0 29-31 3 *"]);
    expect(resyncAt?.toISOString()).toBe("2027-10-29T01:00:00.000Z");
  });

  it("moves a day of the week across midnight in UTC", () => {
    // Sunday 23:45 in New York (EST) is Monday 04:45 UTC.
    expect(plain("45 23 * * 0", -300, null)).toEqual(["45 4 * * 1"]);
    // 09:00 on weekdays in Chatham (+13:45) is 19:15 the day before.
    expect(plain("0 9 * * 1-5", 825, null)).toEqual(["15 19 * * 0-4"]);
  });

  it("splits one local time list into the UTC days it lands on", () => {
    expect(plain("0 1,18 * * 1", 60, null)).toEqual(["0 0,17 * * 1"]);
    expect(plain("0 0,12 * * 1", 60, null)).toEqual(["0 23 * * 0", "0 11 * * 1"]);
  });

  it("refuses what no UTC cron can say, with the reason", () => {
    expect(() => plain("0 1 1 * *", 120, null)).toThrow(ZonedCronError);
    expect(() => plain("0 1 1 * *", 120, null)).toThrow(/day of month 1 moves across a month boundary/);
    expect(() => plain("30 0 * 1 *", 60, null)).toThrow(/a month restriction cannot move with it/);
    expect(() => plain("0 1 L * *", 120, null)).toThrow(/L, W, # or \?/);
    expect(plain("0 1 15 * *", 120, null)).toEqual(["0 23 14 * *"]);
  });

  it("pins instants to their dates, one cron per shared time", () => {
    const at = (s: string) => new Date(s);
    expect(pins([at("2027-03-26T01:30:00Z"), at("2027-03-27T01:30:00Z"), at("2027-03-28T01:00:00Z"), at("2027-04-01T01:00:00Z")])).toEqual(["30 1 26,27 3 *", "0 1 28 3 *", "0 1 1 4 *"]);
    expect(list([1, 2, 3, 5, 7, 8])).toBe("1-3,5,7,8");
  });
});
