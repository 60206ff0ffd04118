import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sql } from "../../../tests/support/app";
import { made, requestsOf, resendAt, resetEngagement, startEngagement, type EngagementStack } from "./support";

const NINE_KOLKATA = Date.parse("2027-06-10T04:00:00Z"); // 09:30 in Kolkata

let s: EngagementStack;
beforeEach(async () => {
  await resetEngagement();
  s = await startEngagement(new Date(NINE_KOLKATA - 60_000), { ENGAGEMENT_EMAIL_RATE: "2" });
});
afterEach(() => s.close());

describe("flow control on the email provider", () => {
  it("with a rate of 2 a second, the local QStash server never starts more than 2 deliveries (Resend requests of up to 100 emails) in any second", { timeout: 30_000 }, async () => {
    const emails = resendAt(s.now);
    const learners = await sql()<{ email: string }[]>`
      insert into learners (email, time_zone) select 'flow-' || g || '@example.test', 'Asia/Kolkata' from generate_series(1, 1450) g returning email`;
    await s.rig.clock.advanceTo(NINE_KOLKATA);
    expect(await s.run("plan-practice-reminders")).toMatchObject({ stats: { planned: 1450, messages: 15 } });
    const message = Object.values(s.rig.server.state.messages)[0]!;
    expect(message.flow).toEqual({ key: "resend", rate: 2, period: 1 });
    await s.rig.clock.advance(10_000);
    // 15 requests for 1,450 emails, each learner once.
    expect(requestsOf(emails)).toBe(15);
    expect(made(emails).map((e) => e.to).sort()).toEqual(learners.map((l) => l.email).sort());

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
