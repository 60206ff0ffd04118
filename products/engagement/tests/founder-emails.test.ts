import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resendError } from "../../../tests/mocks/resend";
import { sql } from "../../../tests/support/app";
import { insertLearner, made, requestsOf, resendAt, resetEngagement, sends, startEngagement, type EngagementStack } from "./support";

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
    expect(emails.map((e) => e.to).sort()).toEqual([day1, today, day2, day3].map((l) => l.email).sort());
    // One page, one batch request.
    expect(requestsOf(emails)).toBe(1);
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
    expect(emails.slice(4).map((e) => e.to).sort()).toEqual([day0, day1, today, day2].map((l) => l.email).sort());
    expect((await sends(day1.id)).map((x) => x.key)).toEqual([key(day1.id, 1), key(day1.id, 2)]);
  });

  it("two planners at once plan each step once", async () => {
    const emails = resendAt(s.now);
    const ls = await Promise.all(Array.from({ length: 5 }, (_, i) => insertLearner({ signedUpAt: new Date(TICK - ((i % 3) + 1) * DAY - 3_600_000) })));
    await s.rig.clock.advanceTo(TICK);
    const [a, b] = await Promise.all([s.run(PLAN), s.run(PLAN)]);
    expect([a.status, b.status]).toEqual(["succeeded", "succeeded"]);
    await s.rig.clock.advance(10_000);
    expect(made(emails).map((e) => e.to).sort()).toEqual(ls.map((l) => l.email).sort());
    for (const [i, l] of ls.entries()) expect((await sends(l.id)).map((x) => x.key)).toEqual([key(l.id, (i % 3) + 1)]);
  });

  it("a Resend 429 stops the page until its Retry-After; a 500 leaves it unknown and the retry run sends the same batch under the same key", async () => {
    const a = await insertLearner({ signedUpAt: new Date(TICK - DAY) });
    const b = await insertLearner({ signedUpAt: new Date(TICK - 2 * DAY) });
    const emails = resendAt(s.now, (e) => {
      if (e.request === 1) return resendError(429, "rate_limit_exceeded", "Too many requests", { "retry-after": "20" });
      if (e.request === 2) return resendError(500, "internal_server_error", "Unexpected error");
      return undefined;
    });
    await s.rig.clock.advanceTo(TICK);
    await s.run(PLAN);
    await s.rig.clock.advance(19_000);
    expect(requestsOf(emails)).toBe(1);
    await s.rig.clock.advance(1_000);
    // QStash delivered again after the Retry-After: the second request, 20 s after the first.
    expect(requestsOf(emails)).toBe(2);
    const at = (n: number) => emails.find((e) => e.request === n)!.at;
    expect(at(2) - at(1)).toBe(20_000);
    await s.rig.clock.advance(120_000);
    expect(requestsOf(emails)).toBe(3);
    // Neither the 429 nor the 500 made anything; the same page under the same key, then sent once.
    expect(new Set(emails.map((e) => e.idempotencyKey)).size).toBe(1);
    expect(made(emails).map((e) => [e.request, e.to]).sort()).toEqual([[3, a.email], [3, b.email]].sort());
    expect([...(await sends(a.id)), ...(await sends(b.id))].map((x) => x.key)).toEqual([key(a.id, 1), key(b.id, 2)]);
  });
});
