import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { insertLearner, resendAt, resetEngagement, startEngagement, type EngagementStack } from "./support";

const NINE_KOLKATA = Date.parse("2027-06-10T04:00:00Z"); // 09:30 in Kolkata

let s: EngagementStack;
beforeEach(async () => {
  await resetEngagement();
  s = await startEngagement(new Date(NINE_KOLKATA - 60_000), { ENGAGEMENT_EMAIL_RATE: "2" });
});
afterEach(() => s.close());

describe("flow control on the email provider", () => {
  it("with a rate of 2 a second, the local QStash server never starts more than 2 deliveries in any second", { timeout: 30_000 }, async () => {
    const emails = resendAt(s.now);
    const learners = await Promise.all(Array.from({ length: 15 }, () => insertLearner({ zone: "Asia/Kolkata" })));
    await s.rig.clock.advanceTo(NINE_KOLKATA);
    expect(await s.run("plan-practice-reminders")).toMatchObject({ stats: { planned: 15 } });
    const message = Object.values(s.rig.server.state.messages)[0]!;
    expect(message.flow).toEqual({ key: "resend", rate: 2, period: 1 });
    await s.rig.clock.advance(10_000);
    expect(emails).toHaveLength(15);
    expect(new Set(emails.map((e) => e.to))).toEqual(new Set(learners.map((l) => l.email)));

    // Measured from the server's own events: each attempt's start (ACTIVE).
    const starts = s.rig.server.state.events
      .filter((e) => e.state === "ACTIVE" && e.url.endsWith("/api/jobs/send-practice-reminder"))
      .map((e) => e.time)
      .sort((a, b) => a - b);
    expect(starts).toHaveLength(15);
    for (let i = 2; i < starts.length; i++) expect(starts[i]! - starts[i - 2]!).toBeGreaterThanOrEqual(1_000);
    // And it is no slower than the rate either: 15 at 2 a second take 7 seconds from the first.
    expect(starts.at(-1)! - starts[0]!).toBe(7_000);
  });
});
