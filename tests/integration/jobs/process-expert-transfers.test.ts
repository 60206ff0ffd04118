import { describe, expect, it } from "vitest";
import job from "../../../jobs/marketplace/process-expert-transfers";
import { RetryAfterError } from "../../../lib/errors";
import { jobRoute } from "../../../lib/http/job-route";
import { runJob } from "../../../lib/jobs/run";
import { stripeError } from "../../mocks/stripe";
import { bearerRequest, CRON_SECRET, params, sql, testDeps } from "../../support/app";
import { at, days, insertAppointment, insertClient, insertExpert, insertPayment, VENDOR_ENV, vendors } from "../../support/marketplace";

// Tests in this file run one after another, each in an earlier month than the one before: what
// one leaves behind (a payment still in its hold window) is never due for the next, so counts are exact.
let clock = new Date("2031-09-10T10:00:00Z");
const deps = { ...testDeps([job], [{ job: job.name, cron: "0 */2 * * *", overlap: "allow" }], VENDOR_ENV), clock: () => clock };
const run = () => runJob({ job: job.name, payload: {}, trigger: "cli" }, deps);

/** A completed appointment of `expert` with a captured payment of 100.00 (fee 20.00). */
async function completed(expert: string, completedAt: Date, o: { status?: "completed" | "cancelled"; payment?: string } = {}) {
  const client = await insertClient();
  const appt = await insertAppointment({ expert, client: client.id, startsAt: at(completedAt, -days(0) - 3_600_000), status: o.status ?? "completed", completedAt });
  return insertPayment({ appointment: appt, expert, status: o.payment });
}

const payment = async (id: string) =>
  (await sql()`select transferred_at, stripe_transfer_id, transfer_attempts, transfer_error, transfer_claimed_by from payments where id = ${id}`)[0]!;

describe("process-expert-transfers", () => {
  it("transfers the expert's share of due payments once, with key transfer:<payment>, and nothing else", async () => {
    clock = new Date("2031-09-10T10:00:00Z");
    const calls = vendors();
    const expert = await insertExpert();
    const due1 = await completed(expert.id, new Date("2031-09-01T09:00:00Z"));
    const due2 = await completed(expert.id, new Date("2031-09-03T10:00:00Z")); // exactly 7 days: due
    const held = await completed(expert.id, new Date("2031-09-05T09:00:00Z")); // inside the hold window
    const refunded = await completed(expert.id, new Date("2031-09-01T09:00:00Z"), { payment: "refunded" });
    const cancelled = await completed(expert.id, new Date("2031-09-01T09:00:00Z"), { status: "cancelled" });
    const noAccount = await insertExpert({ stripe_account_id: null });
    const waiting = await completed(noAccount.id, new Date("2031-09-01T09:00:00Z"));

    const first = await run();
    expect(first).toMatchObject({ status: "succeeded", stats: { transferred: 2, failed: 0, amount: 16_000, noAccount: 1, exhausted: 0 } });
    expect(calls.stripe).toHaveLength(2);
    const byKey = Object.fromEntries(calls.stripe.map((c) => [c.idempotencyKey, c]));
    for (const id of [due1, due2]) {
      expect(byKey[`transfer:${id}`]).toMatchObject({
        url: "https://api.stripe.com/v1/transfers",
        account: null,
        body: { amount: "8000", currency: "usd", destination: expert.stripe_account_id, "metadata[payment_id]": id, "metadata[expert_id]": expert.id },
      });
      expect(byKey[`transfer:${id}`]!.body.source_transaction).toMatch(/^ch_/);
      const p = await payment(id);
      expect(p.transferred_at).toEqual(clock);
      expect(p.stripe_transfer_id).toMatch(/^tr_/);
      expect(p.transfer_claimed_by).toBeNull();
    }
    for (const id of [held, refunded, cancelled, waiting]) expect((await payment(id)).transferred_at).toBeNull();

    // A repeat does nothing new.
    expect(await run()).toMatchObject({ status: "succeeded", stats: { transferred: 0, failed: 0 } });
    expect(calls.stripe).toHaveLength(2);
  });

  it("makes each transfer once when two runs race", async () => {
    clock = new Date("2031-08-10T10:00:00Z");
    const calls = vendors({ stripe: { delayMs: 25 } });
    const expert = await insertExpert();
    const ids = await Promise.all(Array.from({ length: 10 }, () => completed(expert.id, new Date("2031-08-01T09:00:00Z"))));
    const [a, b] = await Promise.all([run(), run()]);
    if (a.status !== "succeeded" || b.status !== "succeeded") throw new Error(`runs failed: ${a.status} ${b.status}`);
    expect((a.stats.transferred as number) + (b.stats.transferred as number)).toBe(10);
    expect(calls.stripe.map((c) => c.idempotencyKey).sort()).toEqual(ids.map((id) => `transfer:${id}`).sort());
  });

  it("counts a Stripe 500 on one payment, transfers the others, and leaves it for the next run", async () => {
    clock = new Date("2031-07-10T10:00:00Z");
    const expert = await insertExpert();
    const ok1 = await completed(expert.id, new Date("2031-07-01T09:00:00Z"));
    const bad = await completed(expert.id, new Date("2031-07-01T10:00:00Z"));
    const ok2 = await completed(expert.id, new Date("2031-07-01T11:00:00Z"));
    const calls = vendors({
      stripe: { respond: (c) => (c.body["metadata[payment_id]"] === bad ? stripeError(500, "api_error", "An unknown error occurred") : undefined) },
    });
    expect(await run()).toMatchObject({ status: "succeeded", stats: { transferred: 2, failed: 1 } });
    // Sent 4 at a time: compare as sets.
    expect(calls.stripe.map((c) => c.idempotencyKey).sort()).toEqual([`transfer:${ok1}`, `transfer:${bad}`, `transfer:${ok2}`].sort());
    expect(await payment(bad)).toMatchObject({ transferred_at: null, transfer_attempts: 1, transfer_claimed_by: null, transfer_error: expect.stringMatching(/ProviderError: Stripe: HTTP 500/) });

    // Stripe recovers; the next run sends the same key again and marks it.
    const later = vendors();
    clock = new Date("2031-07-10T12:00:00Z");
    expect(await run()).toMatchObject({ status: "succeeded", stats: { transferred: 1, failed: 0 } });
    expect(later.stripe.map((c) => c.idempotencyKey)).toEqual([`transfer:${bad}`]);
    expect(await payment(bad)).toMatchObject({ transferred_at: clock, transfer_attempts: 2, transfer_error: null });
  });

  it("ends the run with 429 and Stripe's Retry-After, releasing what it had not transferred", async () => {
    clock = new Date("2031-06-10T10:00:00Z");
    const expert = await insertExpert();
    const ids = [await completed(expert.id, new Date("2031-06-01T09:00:00Z")), await completed(expert.id, new Date("2031-06-01T10:00:00Z"))];
    vendors({ stripe: { respond: () => stripeError(429, "invalid_request_error", "Too many requests", { "Retry-After": "7" }) } });
    const route = jobRoute("cron", async () => deps);
    const res = await route.GET(bearerRequest(`/api/cron/${job.name}`, `Bearer ${CRON_SECRET}`), params(job.name));
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");
    expect(await res.json()).toMatchObject({ name: "RetryAfterError", retryAfterSeconds: 7 });
    for (const id of ids) expect(await payment(id)).toMatchObject({ transferred_at: null, transfer_claimed_by: null, transfer_attempts: 0 });

    const calls = vendors();
    expect(await run()).toMatchObject({ status: "succeeded", stats: { transferred: 2 } });
    expect(calls.stripe.map((c) => c.idempotencyKey).sort()).toEqual(ids.map((id) => `transfer:${id}`).sort());
  });

  it("fails non-retryably, naming STRIPE_SECRET_KEY, when the key is missing outside local mode", async () => {
    const noKey = { ...testDeps([job], [], { ...VENDOR_ENV, STRIPE_SECRET_KEY: undefined }), clock: () => clock };
    const out = await runJob({ job: job.name, payload: {}, trigger: "cli" }, noKey);
    if (out.status !== "failed") throw new Error(`expected a failure, got ${out.status}`);
    expect(out.error).toMatchObject({ name: "ConfigError", message: expect.stringMatching(/^STRIPE_SECRET_KEY is not set/) });
    expect(out.error).not.toBeInstanceOf(RetryAfterError);
  });
});
