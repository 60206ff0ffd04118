import { DateTime } from "luxon";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { insertLearner, resendAt, resetEngagement, startEngagement, type EngagementStack, type Learner, type SentEmail } from "./support";

/**
 * The hourly planner, run at every :00 UTC tick across the days around each 2027 DST change,
 * through QStash to the send job and Resend. Expected from luxon, independently of the SQL: a
 * learner is due at the one tick of each local day whose local time is in the 09:00 hour.
 */
const ZONES = ["Asia/Kolkata", "America/Los_Angeles", "Europe/Lisbon", "Pacific/Auckland"];
const CHANGES = [
  { what: "US spring forward", day: "2027-03-14" },
  { what: "EU spring forward", day: "2027-03-28" },
  { what: "NZ fall back", day: "2027-04-04" },
  { what: "NZ spring forward", day: "2027-09-26" },
  { what: "EU fall back", day: "2027-10-31" },
  { what: "US fall back", day: "2027-11-07" },
];
const HOUR = 3_600_000;

let s: EngagementStack;
let learners: Learner[];
const emails: SentEmail[] = [];
beforeAll(async () => {
  await resetEngagement();
  s = await startEngagement(new Date("2027-03-12T00:00:00Z"));
  learners = [];
  for (const zone of ZONES) learners.push(await insertLearner({ zone }));
});
// msw's handlers are reset after every test: each test installs Resend again, into the same list.
beforeEach(() => void resendAt(s.now, undefined, emails));
afterAll(() => s.close());

const local = (at: number, zone: string) => DateTime.fromMillis(at, { zone });

describe("practice reminders across the 2027 DST changes", () => {
  it.each(CHANGES)("$what ($day): each learner once per local day, in their 09:00 hour", { timeout: 60_000 }, async ({ day }) => {
    // Two days either side of the change's UTC date: both offsets of every zone show.
    const from = Date.parse(`${day}T00:00:00Z`) - 48 * HOUR;
    const to = from + 96 * HOUR;
    const before = emails.length;
    const expected = new Set<string>();
    await s.rig.clock.advanceTo(from);
    for (let t = from; t < to; t += HOUR) {
      await s.rig.clock.advanceTo(t);
      const outcome = await s.run("plan-practice-reminders");
      expect(outcome.status).toBe("succeeded");
      for (const l of learners) if (local(t, l.time_zone).hour === 9) expected.add(`${l.email} ${local(t, l.time_zone).toISODate()}`);
      await s.rig.clock.settle();
    }
    const got = emails.slice(before);
    expect(got.every((e) => e.ok)).toBe(true);
    const seen = got.map((e) => {
      const zone = learners.find((l) => l.email === e.to)!.time_zone;
      const at = local(e.at, zone);
      expect({ to: e.to, hour: at.hour }).toEqual({ to: e.to, hour: 9 });
      return `${e.to} ${at.toISODate()}`;
    });
    // Once each: no learner twice on one local day, none missed.
    expect(seen.length).toBe(new Set(seen).size);
    expect(new Set(seen)).toEqual(expected);
    // Four days of ticks hold at least three whole 09:00 hours of every zone.
    for (const l of learners) expect(seen.filter((x) => x.startsWith(l.email)).length).toBeGreaterThanOrEqual(3);
  });

  it("moves with each zone's offset: 09:00 in Los Angeles is 17:00 UTC before the US change and 16:00 UTC after it", () => {
    const la = learners.find((l) => l.time_zone === "America/Los_Angeles")!;
    const utcHours = emails.filter((e) => e.to === la.email).map((e) => new Date(e.at).toISOString().slice(0, 13));
    expect(utcHours).toEqual(expect.arrayContaining(["2027-03-13T17", "2027-03-14T16", "2027-03-15T16", "2027-11-06T16", "2027-11-07T17"]));
    const kolkata = learners.find((l) => l.time_zone === "Asia/Kolkata")!;
    // 09:30 local at the 04:00 UTC tick: the one tick in its 09:00 hour.
    expect(new Set(emails.filter((e) => e.to === kolkata.email).map((e) => new Date(e.at).toISOString().slice(11, 16)))).toEqual(new Set(["04:00"]));
    const auckland = learners.find((l) => l.time_zone === "Pacific/Auckland")!;
    const nz = emails.filter((e) => e.to === auckland.email).map((e) => new Date(e.at).toISOString().slice(0, 13));
    // NZDT (+13) until 4 April 03:00, NZST (+12) after; NZDT again from 26 September 02:00.
    expect(nz).toEqual(expect.arrayContaining(["2027-04-02T20", "2027-04-03T21", "2027-04-04T21", "2027-09-24T21", "2027-09-25T20", "2027-09-26T20"]));
    expect(nz).not.toContain("2027-04-03T20");
    expect(nz).not.toContain("2027-09-25T21");
    const lisbon = learners.find((l) => l.time_zone === "Europe/Lisbon")!;
    const pt = emails.filter((e) => e.to === lisbon.email).map((e) => new Date(e.at).toISOString().slice(0, 13));
    // WET (+0) to WEST (+1) on 28 March, back on 31 October.
    expect(pt).toEqual(expect.arrayContaining(["2027-03-27T09", "2027-03-28T08", "2027-10-30T08", "2027-10-31T09"]));
  });
});
