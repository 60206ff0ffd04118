import { describe, expect, it } from "vitest";
import job from "../jobs/send-payment-reminders";
import { jobRoute } from "@/lib/http/job-route";
import { runJob } from "@/lib/jobs/run";
import { resendError } from "../../../tests/mocks/resend";
import { bearerRequest, CRON_SECRET, params, sql, testDeps } from "../../../tests/support/app";
import { at, days, hours, insertAppointment, insertClient, insertExpert, VENDOR_ENV, vendors } from "../../../tests/support/vendors";

// Each test has its own month of 2033; deadlines are never within 24 h of another test's clock.
let clock = new Date("2033-01-10T06:00:00Z");
const deps = { ...testDeps([job], [{ job: job.name, cron: "0 */6 * * *", overlap: "allow" }], VENDOR_ENV), clock: () => clock };
const run = () => runJob({ job: job.name, payload: {}, trigger: "cli" }, deps);
const key = (booking: string, n: number) => `payment-reminder:${booking}:${n}`;
/** A booking's reminder effects: what went out (succeeded), what is being retried, in key order. */
const reminders = (booking: string) =>
  sql()<{ key: string; job: string; status: string; attempts: number }[]>`select key, job, status, attempts from effects where subject = ${booking} order by key`;

async function booking(dueIn: number, status: "pending_payment" | "confirmed" | "cancelled" = "pending_payment") {
  const expert = await insertExpert({ name: "Dr. Ada" });
  const client = await insertClient({ time_zone: "Europe/Paris", name: "Lou" });
  const id = await insertAppointment({ expert: expert.id, client: client.id, startsAt: at(clock, days(3)), status, paymentDueAt: at(clock, dueIn) });
  return { id, client };
}

describe("send-payment-reminders", () => {
  it("reminds the client of a booking due within 24 h, at most 3 times, 6 h apart", async () => {
    clock = new Date("2033-01-10T06:00:00Z");
    const calls = vendors();
    const due = await booking(hours(23));
    const farOff = await booking(hours(49)); // never within 24 h during this test
    const paid = await booking(hours(5), "confirmed");
    const overdue = await booking(-hours(1));

    expect(await run()).toMatchObject({ status: "succeeded", stats: { sent: 1, failed: 0 } });
    expect(calls.resend).toHaveLength(1);
    expect(calls.resend[0]).toMatchObject({
      url: "https://api.resend.com/emails",
      idempotencyKey: key(due.id, 1),
      body: { to: due.client.email, from: VENDOR_ENV.EMAIL_FROM, subject: "Please complete your payment by Tue 11 Jan, 06:00 GMT+1" },
    });
    expect(calls.resend[0]!.body.text).toContain("Please pay by Tuesday 11 January 2033 at 06:00 GMT+1 (Europe/Paris)");
    expect(calls.resend[0]!.body.text).toContain("Your booking with Dr. Ada");

    // A repeat, and a run 5 h later, send nothing; 6 h after the first, reminder 2 goes out.
    expect(await run()).toMatchObject({ stats: { sent: 0 } });
    clock = new Date("2033-01-10T11:00:00Z");
    expect(await run()).toMatchObject({ stats: { sent: 0 } });
    clock = new Date("2033-01-10T12:00:00Z");
    expect(await run()).toMatchObject({ stats: { sent: 1 } });
    clock = new Date("2033-01-10T18:00:00Z");
    expect(await run()).toMatchObject({ stats: { sent: 1 } });
    clock = new Date("2033-01-11T00:00:00Z"); // still before the deadline, but 3 were sent
    expect(await run()).toMatchObject({ stats: { sent: 0 } });
    expect(calls.resend.map((c) => c.idempotencyKey)).toEqual([key(due.id, 1), key(due.id, 2), key(due.id, 3)]);
    expect(calls.resend[2]!.body.subject).toMatch(/^Last reminder: pay by/);
    for (const b of [farOff, paid, overdue]) expect(await reminders(b.id)).toEqual([]);
    expect(await reminders(due.id)).toEqual([1, 2, 3].map((n) => ({ key: key(due.id, n), job: job.name, status: "succeeded", attempts: 1 })));
  });

  it("sends the next reminder at the next tick when the last one went out a few seconds after its own", async () => {
    clock = new Date("2033-05-10T06:00:03Z"); // the 06:00 tick, delivered 3 s late
    const calls = vendors();
    const due = await booking(hours(20));
    expect(await run()).toMatchObject({ status: "succeeded", stats: { sent: 1 } });
    clock = new Date("2033-05-10T12:00:00Z"); // 5 h 59 min 57 s later: the next tick, on time
    expect(await run()).toMatchObject({ status: "succeeded", stats: { sent: 1 } });
    expect(calls.resend.map((c) => c.idempotencyKey)).toEqual([key(due.id, 1), key(due.id, 2)]);
  });

  it("sends each reminder once when two runs race", async () => {
    clock = new Date("2033-02-10T06:00:00Z");
    const calls = vendors({ resend: { delayMs: 15 } });
    const ids = await Promise.all(Array.from({ length: 12 }, (_, i) => booking(hours(2 + i)).then((b) => b.id)));
    const [a, b] = await Promise.all([run(), run()]);
    if (a.status !== "succeeded" || b.status !== "succeeded") throw new Error(`runs failed: ${a.status} ${b.status}`);
    expect((a.stats.sent as number) + (b.stats.sent as number)).toBe(12);
    expect(calls.resend.map((c) => c.idempotencyKey).sort()).toEqual(ids.map((id) => key(id, 1)).sort());
  });

  it("counts a Resend 500 and sends the same reminder (same key, never n+1) on the next run", async () => {
    clock = new Date("2033-03-10T06:00:00Z");
    const good = await booking(hours(10));
    const bad = await booking(hours(11));
    const calls = vendors({ resend: { respond: (c) => (c.idempotencyKey === key(bad.id, 1) ? resendError(500, "internal_server_error", "Unexpected error") : undefined) } });
    expect(await run()).toMatchObject({ status: "succeeded", stats: { sent: 1, failed: 1 } });
    expect(calls.resend.map((c) => c.idempotencyKey).sort()).toEqual([key(good.id, 1), key(bad.id, 1)].sort());
    expect(await reminders(bad.id)).toEqual([{ key: key(bad.id, 1), job: job.name, status: "unknown", attempts: 1 }]);

    const later = vendors();
    clock = new Date("2033-03-10T06:05:00Z");
    expect(await run()).toMatchObject({ status: "succeeded", stats: { sent: 1, failed: 0 } });
    expect(later.resend.map((c) => c.idempotencyKey)).toEqual([key(bad.id, 1)]);
    expect(await reminders(bad.id)).toEqual([{ key: key(bad.id, 1), job: job.name, status: "succeeded", attempts: 2 }]);
    // Reminder 2 of each keeps its spacing from the first that went out.
    clock = new Date("2033-03-10T11:00:00Z");
    expect(await run()).toMatchObject({ stats: { sent: 0 } });
    clock = new Date("2033-03-10T12:00:00Z");
    expect(await run()).toMatchObject({ stats: { sent: 2 } });
    expect(later.resend.map((c) => c.idempotencyKey).slice(1).sort()).toEqual([key(good.id, 2), key(bad.id, 2)].sort());
  });

  it("ends the run with 429 and Retry-After; the next run sends what was left", async () => {
    clock = new Date("2033-04-10T06:00:00Z");
    const b = await booking(hours(4));
    vendors({ resend: { respond: () => resendError(429, "rate_limit_exceeded", "Too many requests", { "retry-after": "2" }) } });
    const res = await jobRoute("cron", async () => deps).GET(bearerRequest(`/api/cron/${job.name}`, `Bearer ${CRON_SECRET}`), params(job.name));
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("2");
    const calls = vendors();
    expect(await run()).toMatchObject({ status: "succeeded", stats: { sent: 1 } });
    expect(calls.resend.map((c) => c.idempotencyKey)).toEqual([key(b.id, 1)]);
  });
});
