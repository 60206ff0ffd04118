import { afterEach, beforeEach, describe, expect, it } from "vitest";
import sendPracticeReminder from "../jobs/send-practice-reminder";
import { resendError } from "../../../tests/mocks/resend";
import { sql } from "../../../tests/support/app";
import { insertLearner, made, requestsOf, resendAt, resetEngagement, sends, startEngagement, type EngagementStack } from "./support";

// Lisbon is UTC+1 in June: its 09:00 hour is 08:00-08:59 UTC.
const START = new Date("2027-06-10T07:00:00Z");
const NINE_LISBON = Date.parse("2027-06-10T08:00:00Z");
const PLAN = "plan-practice-reminders";
const SEND = "send-practice-reminder";
const key = (learner: string, date = "2027-06-10") => `practice:${learner}:${date}`;
const BATCH_KEY = /^batch:send-practice-reminder:[A-Za-z0-9_-]{43}$/;

let s: EngagementStack;
beforeEach(async () => {
  await resetEngagement();
  s = await startEngagement(START);
});
afterEach(() => s.close());

describe("plan-practice-reminders -> send-practice-reminder", () => {
  it("reminds each learner at 09:xx in their zone who opted in and has not practised today, once", async () => {
    const emails = resendAt(s.now);
    const due = await insertLearner({ zone: "Europe/Lisbon", name: "Inês", language: "es" });
    const yesterday = await insertLearner({ zone: "Europe/Lisbon", lastPractisedAt: new Date("2027-06-09T21:00:00Z") }); // 22:00 on the 9th, Lisbon
    const today = await insertLearner({ zone: "Europe/Lisbon", lastPractisedAt: new Date("2027-06-09T23:30:00Z") }); // 00:30 on the 10th, Lisbon
    await insertLearner({ zone: "Europe/Lisbon", optedIn: false });
    await insertLearner({ zone: "Europe/Lisbon", unsubscribedAt: new Date("2027-06-01T00:00:00Z") });
    const la = await insertLearner({ zone: "America/Los_Angeles" });

    await s.rig.clock.advanceTo(NINE_LISBON - 3_600_000);
    expect(await s.run(PLAN)).toMatchObject({ status: "succeeded", stats: { planned: 0 } });
    await s.rig.clock.advanceTo(NINE_LISBON);
    expect(await s.run(PLAN)).toMatchObject({ status: "succeeded", stats: { planned: 2, messages: 1, deduplicated: 0 } });
    await s.rig.clock.advance(5_000);

    // One message, one batch request of both emails, under one key.
    expect(emails.map((e) => e.to).sort()).toEqual([due.email, yesterday.email].sort());
    expect(emails.map((e) => [e.batch, e.request])).toEqual([[true, 1], [true, 1]]);
    expect(emails[0]!.idempotencyKey).toMatch(BATCH_KEY);
    const ines = emails.find((e) => e.to === due.email)!;
    // Her language and her day: Thursday 10 June in Spanish.
    expect(ines.subject).toBe("Es hora de tu práctica de hoy");
    expect(ines.text).toContain("Hola, Inês:");
    expect(ines.text).toContain("jueves, 10 de junio");
    expect(ines.text).toMatch(/\/api\/engagement\/unsubscribe\?token=[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}$/);
    expect(ines.html).toContain('<html lang="es">');
    expect(await sends(due.id)).toEqual([{ key: key(due.id), kind: "practice", local_date: "2027-06-10", step: null }]);
    expect(await sends(today.id)).toEqual([]);

    // The same hour again, and a redelivery of a sent reminder: nothing new.
    await s.rig.clock.advance(25 * 60_000);
    expect(await s.run(PLAN)).toMatchObject({ stats: { planned: 0 } });
    expect(await s.run(SEND, { recipients: [{ learnerId: due.id, localDate: "2027-06-10" }] })).toMatchObject({ stats: { sent: 0, dropped: 1 } });
    // A message of the shape published before pages (one learner) reads as a page of one.
    const legacy = sendPracticeReminder.payload.parse({ learnerId: due.id, localDate: "2027-06-10" });
    expect(legacy).toEqual({ recipients: [{ learnerId: due.id, localDate: "2027-06-10" }] });
    expect(await s.run(SEND, legacy)).toMatchObject({ stats: { sent: 0, dropped: 1 } });
    // Los Angeles reaches 09:00 at 16:00 UTC.
    await s.rig.clock.advanceTo(Date.parse("2027-06-10T16:00:00Z"));
    expect(await s.run(PLAN)).toMatchObject({ stats: { planned: 1 } });
    await s.rig.clock.settle();
    expect(emails.map((e) => e.to)).toHaveLength(3);
    expect(emails[2]!.to).toBe(la.email);
  });

  it("two planners at once plan each learner once: QStash keeps one message per key, Resend sees one email each", async () => {
    const emails = resendAt(s.now);
    const learners = await Promise.all(Array.from({ length: 6 }, () => insertLearner({ zone: "Europe/Lisbon" })));
    await s.rig.clock.advanceTo(NINE_LISBON);
    const [a, b] = await Promise.all([s.run(PLAN), s.run(PLAN)]);
    if (a.status !== "succeeded" || b.status !== "succeeded") throw new Error(`planners failed: ${a.status} ${b.status}`);
    // Both planned the same page: its deduplication id (a hash of its keys) keeps one message.
    expect((a.stats.messages as number) + (b.stats.messages as number) - (a.stats.deduplicated as number) - (b.stats.deduplicated as number)).toBe(1);
    await s.rig.clock.advance(10_000);
    expect(made(emails).map((e) => e.to).sort()).toEqual(learners.map((l) => l.email).sort());
    expect(requestsOf(emails)).toBe(1);
  });

  it("two deliveries of one reminder at once send it once (the effect claim)", async () => {
    const emails = resendAt(s.now);
    const l = await insertLearner({ zone: "Europe/Lisbon" });
    await s.rig.clock.advanceTo(NINE_LISBON);
    const payload = { recipients: [{ learnerId: l.id, localDate: "2027-06-10" }] };
    const both = await Promise.all([1, 2].map((n) => s.run(SEND, payload).then((o) => (o.status === "succeeded" ? o.stats : { n, status: o.status }))));
    expect(both.map((x) => x.sent as number).reduce((p, q) => p + q)).toBe(1);
    expect(emails).toHaveLength(1);
  });

  it("does not send what is no longer wanted at delivery: practised since, or the day is over", async () => {
    const emails = resendAt(s.now);
    const l = await insertLearner({ zone: "Europe/Lisbon", lastPractisedAt: new Date(NINE_LISBON + 60_000) });
    await s.rig.clock.advanceTo(NINE_LISBON + 120_000);
    expect(await s.run(SEND, { recipients: [{ learnerId: l.id, localDate: "2027-06-10" }] })).toMatchObject({ stats: { sent: 0, dropped: 1 } });
    const late = await insertLearner({ zone: "Europe/Lisbon" });
    await s.rig.clock.advanceTo(Date.parse("2027-06-10T23:30:00Z")); // 00:30 on the 11th in Lisbon
    expect(await s.run(SEND, { recipients: [{ learnerId: late.id, localDate: "2027-06-10" }] })).toMatchObject({ stats: { sent: 0, dropped: 1 } });
    expect(emails).toEqual([]);
  });

  it("a Resend 500 leaves the reminder unknown and a retry run sends its batch again, with the same idempotency key", async () => {
    const l = await insertLearner({ zone: "Europe/Lisbon" });
    const emails = resendAt(s.now, (_e, n) => (n === 1 ? resendError(500, "internal_server_error", "Unexpected error") : undefined));
    await s.rig.clock.advanceTo(NINE_LISBON);
    expect(await s.run(PLAN)).toMatchObject({ stats: { planned: 1 } });
    await s.rig.clock.advance(1_000);
    expect(emails.map((e) => e.ok)).toEqual([false]);
    const [effect] = await sql()<{ status: string; next: Date }[]>`select status, next_attempt_at as next from effects where key = ${key(l.id)}`;
    expect(effect!.status).toBe("unknown");
    // The run asked QStash for one more run of the send at the effect's retry time (30-60 s on).
    const [retry] = await sql()<{ job: string; not_before: Date }[]>`select job, not_before from job_messages`;
    expect(retry).toMatchObject({ job: SEND, not_before: effect!.next });
    await s.rig.clock.advanceTo(effect!.next.getTime() + 1_000);
    const batchKey = emails[0]!.idempotencyKey!;
    expect(batchKey).toMatch(BATCH_KEY);
    expect(emails.map((e) => [e.ok, e.idempotencyKey])).toEqual([
      [false, batchKey],
      [true, batchKey],
    ]);
    expect(await sends(l.id)).toHaveLength(1);
    await s.rig.clock.advance(3_600_000);
    expect(emails).toHaveLength(2);
  });

  it("a Resend 429 is answered 429 with its Retry-After, and QStash delivers again after it, not before", async () => {
    const l = await insertLearner({ zone: "Europe/Lisbon" });
    const emails = resendAt(s.now, (_e, n) => (n === 1 ? resendError(429, "rate_limit_exceeded", "Too many requests", { "retry-after": "30" }) : undefined));
    await s.rig.clock.advanceTo(NINE_LISBON);
    await s.run(PLAN);
    await s.rig.clock.advance(29_000);
    expect(emails.map((e) => e.ok)).toEqual([false]);
    const first = emails[0]!.at;
    const events = s.rig.server.state.events.filter((e) => e.state === "ERROR" || e.state === "RETRY");
    expect(events).toMatchObject([
      { state: "ERROR", responseStatus: 429, responseHeader: { "Retry-After": ["30"] } },
      { state: "RETRY", nextDeliveryTime: first + 30_000 },
    ]);
    await s.rig.clock.advance(1_000);
    expect(emails.map((e) => [e.ok, e.at - first])).toEqual([
      [false, 0],
      [true, 30_000],
    ]);
    expect(await sends(l.id)).toHaveLength(1);
  });
});
