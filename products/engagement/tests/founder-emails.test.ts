import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resendError } from "../../../tests/mocks/resend";
import { sql } from "../../../tests/support/app";
import { insertLearner, resendAt, resetEngagement, sends, startEngagement, type EngagementStack } from "./support";

// The daily tick, 14:00 UTC.
const TICK = Date.parse("2027-06-10T14:00:00Z");
const DAY = 86_400_000;
const PLAN = "plan-founder-emails";
const key = (learner: string, step: number) => `founder:${learner}:${step}`;

let s: EngagementStack;
beforeEach(async () => {
  await resetEngagement();
  s = await startEngagement(new Date(TICK - 60_000));
});
afterEach(() => s.close());

describe("plan-founder-emails -> send-founder-email", () => {
  it("sends step 1, 2 and 3 on the days after sign-up in the learner's calendar, each once", async () => {
    const emails = resendAt(s.now);
    // Day numbers in the learner's own calendar at the tick (14:00 UTC on 10 June).
    const day1 = await insertLearner({ zone: "Europe/Lisbon", signedUpAt: new Date("2027-06-09T22:30:00Z"), name: "Zoé", language: "fr" }); // 9 June, 23:30 Lisbon
    const day2 = await insertLearner({ zone: "UTC", signedUpAt: new Date("2027-06-08T01:00:00Z") });
    const day3 = await insertLearner({ zone: "America/Los_Angeles", signedUpAt: new Date("2027-06-07T08:00:00Z") }); // 7 June, 01:00 LA
    const today = await insertLearner({ zone: "Pacific/Auckland", signedUpAt: new Date("2027-06-10T01:00:00Z") }); // 10 June, 13:00 NZ, and the tick is 11 June 02:00 NZ: day 1
    const day0 = await insertLearner({ zone: "UTC", signedUpAt: new Date("2027-06-10T09:00:00Z") });
    const day4 = await insertLearner({ zone: "UTC", signedUpAt: new Date("2027-06-06T09:00:00Z") });
    const gone = await insertLearner({ zone: "UTC", signedUpAt: new Date("2027-06-09T09:00:00Z"), unsubscribedAt: new Date("2027-06-09T10:00:00Z") });

    await s.rig.clock.advanceTo(TICK);
    expect(await s.run(PLAN)).toMatchObject({ status: "succeeded", stats: { Day1: 2, Day2: 1, Day3: 1 } });
    await s.rig.clock.advance(5_000);
    expect(emails.map((e) => e.idempotencyKey).sort()).toEqual([key(day1.id, 1), key(today.id, 1), key(day2.id, 2), key(day3.id, 3)].sort());
    const zoe = emails.find((e) => e.to === day1.email)!;
    expect(zoe.subject).toBe("Comment s'est passé votre premier jour ?");
    expect(zoe.text).toContain("Vous nous avez rejoints le 9 juin : bienvenue.");
    expect(zoe.text).toMatch(/Désabonnez-vous : https?:\/\/.+\/api\/engagement\/unsubscribe\?token=/);
    for (const l of [day0, day4, gone]) expect(await sends(l.id)).toEqual([]);
    expect(await sends(day3.id)).toEqual([{ key: key(day3.id, 3), kind: "founder", local_date: null, step: 3 }]);

    // A second run the same day plans nothing; so does one after the effects were pruned: sends are kept.
    expect(await s.run(PLAN)).toMatchObject({ stats: { Day1: 0, Day2: 0, Day3: 0 } });
    await sql()`delete from effects`;
    expect(await s.run(PLAN)).toMatchObject({ stats: { Day1: 0, Day2: 0, Day3: 0 } });

    // The next day each moves one step on; day 3 was the last.
    await s.rig.clock.advanceTo(TICK + DAY);
    expect(await s.run(PLAN)).toMatchObject({ stats: { Day1: 1, Day2: 2, Day3: 1 } });
    await s.rig.clock.advance(5_000);
    expect(emails).toHaveLength(8);
    expect(emails.slice(4).map((e) => e.idempotencyKey).sort()).toEqual([key(day0.id, 1), key(day1.id, 2), key(today.id, 2), key(day2.id, 3)].sort());
  });

  it("two planners at once plan each step once", async () => {
    const emails = resendAt(s.now);
    const ls = await Promise.all(Array.from({ length: 5 }, (_, i) => insertLearner({ signedUpAt: new Date(TICK - ((i % 3) + 1) * DAY - 3_600_000) })));
    await s.rig.clock.advanceTo(TICK);
    const [a, b] = await Promise.all([s.run(PLAN), s.run(PLAN)]);
    expect([a.status, b.status]).toEqual(["succeeded", "succeeded"]);
    await s.rig.clock.advance(10_000);
    expect(emails.map((e) => e.idempotencyKey).sort()).toEqual(ls.map((l, i) => key(l.id, (i % 3) + 1)).sort());
  });

  it("a Resend 500 is retried by a later run of the send, a 429 after its Retry-After", async () => {
    const l500 = await insertLearner({ signedUpAt: new Date(TICK - DAY) });
    const l429 = await insertLearner({ signedUpAt: new Date(TICK - 2 * DAY) });
    const emails = resendAt(s.now, (e) => {
      const tries = emails.filter((x) => x.to === e.to).length;
      if (tries > 1) return undefined;
      if (e.to === l500.email) return resendError(500, "internal_server_error", "Unexpected error");
      return resendError(429, "rate_limit_exceeded", "Too many requests", { "retry-after": "20" });
    });
    await s.rig.clock.advanceTo(TICK);
    await s.run(PLAN);
    await s.rig.clock.advance(19_000);
    const first = (to: string) => emails.find((e) => e.to === to)!.at;
    expect(emails.filter((e) => e.ok)).toEqual([]);
    await s.rig.clock.advance(1_000);
    expect(emails.filter((e) => e.to === l429.email).map((e) => [e.ok, e.at - first(l429.email)])).toEqual([
      [false, 0],
      [true, 20_000],
    ]);
    await s.rig.clock.advance(120_000);
    expect(emails.filter((e) => e.to === l500.email).map((e) => [e.ok, e.idempotencyKey])).toEqual([
      [false, key(l500.id, 1)],
      [true, key(l500.id, 1)],
    ]);
    expect([...(await sends(l500.id)), ...(await sends(l429.id))].map((x) => x.key)).toEqual([key(l500.id, 1), key(l429.id, 2)]);
  });
});
