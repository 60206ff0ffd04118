import { describe, expect, it } from "vitest";
import job from "../jobs/process-expert-transfers";
import { RetryAfterError } from "@/lib/errors";
import { jobRoute } from "@/lib/http/job-route";
import { runJob } from "@/lib/jobs/run";
import { createProviders } from "@/lib/providers";
import { marketplaceProviders } from "../providers";
import { server } from "../../../tests/mocks/server";
import { stripeApi, stripeError, type StripeApiOptions } from "../../../tests/mocks/stripe";
import { bearerRequest, CRON_SECRET, params, sql, testDeps } from "../../../tests/support/app";
import { at, days, hours, insertAppointment, insertClient, insertExpert, insertPayment, VENDOR_ENV, vendors } from "../../../tests/support/vendors";

// Tests in this file run one after another, each in an earlier month than the one before: what
// one leaves behind (a payment still in its hold window) is never due for the next, so counts are exact.
let clock = new Date("2031-09-10T10:00:00Z");
const deps = { ...testDeps([job], [{ job: job.name, cron: "0 */2 * * *", overlap: "allow" }], VENDOR_ENV), clock: () => clock };
const run = () => runJob({ job: job.name, payload: {}, trigger: "cli" }, deps);

/** Stateful Stripe on the test's clock (its idempotency keys expire 24 h after their first use). */
function stripeAt(o: StripeApiOptions = {}) {
  const api = stripeApi({ now: () => clock, ...o });
  server.use(...api.handlers);
  return api;
}

/** A completed appointment of `expert` with a captured payment of 100.00 (fee 20.00). */
async function completed(expert: string, completedAt: Date, o: { status?: "completed" | "cancelled"; payment?: string } = {}) {
  const client = await insertClient();
  const appt = await insertAppointment({ expert, client: client.id, startsAt: at(completedAt, -days(0) - 3_600_000), status: o.status ?? "completed", completedAt });
  return insertPayment({ appointment: appt, expert, status: o.payment });
}

const payment = async (id: string) => (await sql()`select transferred_at, stripe_transfer_id from payments where id = ${id}`)[0]!;
const effect = async (id: string) =>
  (await sql()`select job, status, attempts, last_error, result, next_attempt_at from effects where key = ${`transfer:${id}`}`)[0];

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
    expect(first).toMatchObject({ status: "succeeded", stats: { transferred: 2, failed: 0, unknown: 0, amount: 16_000, noAccount: 1, exhausted: 0 } });
    expect(calls.stripe).toHaveLength(2);
    const byKey = Object.fromEntries(calls.stripe.map((c) => [c.idempotencyKey, c]));
    for (const id of [due1, due2]) {
      expect(byKey[`transfer:${id}`]).toMatchObject({
        url: "https://api.stripe.com/v1/transfers",
        account: null,
        body: { amount: "8000", currency: "usd", destination: expert.stripe_account_id, "metadata[payment_id]": id, "metadata[expert_id]": expert.id },
      });
      expect(byKey[`transfer:${id}`]!.body.source_transaction).toMatch(/^ch_/);
      expect(byKey[`transfer:${id}`]!.body.transfer_group).toMatch(/^appointment_/);
      const p = await payment(id);
      expect(p.transferred_at).toEqual(clock);
      expect(p.stripe_transfer_id).toMatch(/^tr_/);
      expect(await effect(id)).toMatchObject({ job: job.name, status: "succeeded", attempts: 1, last_error: null, result: { id: p.stripe_transfer_id } });
    }
    for (const id of [held, refunded, cancelled, waiting]) {
      expect((await payment(id)).transferred_at).toBeNull();
      expect(await effect(id)).toBeUndefined();
    }

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

  it("counts a Stripe 500 on one payment as unknown, transfers the others, and looks it up before sending it again", async () => {
    clock = new Date("2031-07-10T10:00:00Z");
    const expert = await insertExpert();
    const ok1 = await completed(expert.id, new Date("2031-07-01T09:00:00Z"));
    const bad = await completed(expert.id, new Date("2031-07-01T10:00:00Z"));
    const ok2 = await completed(expert.id, new Date("2031-07-01T11:00:00Z"));
    const api = stripeAt({ respond: (c) => (c.body["metadata[payment_id]"] === bad ? stripeError(500, "api_error", "An unknown error occurred") : undefined) });
    expect(await run()).toMatchObject({ status: "succeeded", stats: { transferred: 2, failed: 0, unknown: 1 } });
    // Sent 4 at a time: compare as sets.
    expect(api.calls.map((c) => c.idempotencyKey).sort()).toEqual([`transfer:${ok1}`, `transfer:${bad}`, `transfer:${ok2}`].sort());
    expect(await payment(bad)).toMatchObject({ transferred_at: null, stripe_transfer_id: null });
    expect(await effect(bad)).toMatchObject({ status: "unknown", attempts: 1, last_error: expect.stringMatching(/ProviderError: Stripe: HTTP 500/) });

    // Stripe recovers; the next run finds no transfer for the payment, sends the same key again and marks it.
    const later = stripeAt();
    clock = new Date("2031-07-10T12:00:00Z");
    expect(await run()).toMatchObject({ status: "succeeded", stats: { transferred: 1, failed: 0, unknown: 0 } });
    expect(later.reads).toMatchObject([{ path: "/v1/transfers", account: null, body: { transfer_group: api.calls.find((c) => c.idempotencyKey === `transfer:${bad}`)!.body.transfer_group } }]);
    expect(later.calls.map((c) => c.idempotencyKey)).toEqual([`transfer:${bad}`]);
    expect(await payment(bad)).toMatchObject({ transferred_at: clock, stripe_transfer_id: later.transfers[0]!.id });
    expect(await effect(bad)).toMatchObject({ status: "succeeded", attempts: 2, last_error: null });
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
    // A first attempt that never went out leaves no effect: the next run starts it afresh.
    for (const id of ids) {
      expect(await payment(id)).toMatchObject({ transferred_at: null });
      expect(await effect(id)).toBeUndefined();
    }

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

  it("finds a transfer whose answer was lost instead of making it again, 25 hours later when Stripe has forgotten its key", async () => {
    clock = new Date("2031-05-10T10:00:00Z");
    const expert = await insertExpert();
    const lost = await completed(expert.id, new Date("2031-05-01T09:00:00Z"));
    const ok = await completed(expert.id, new Date("2031-05-01T10:00:00Z"));
    let lose = true;
    const api = stripeAt({ loseResponse: (c) => (lose && c.body["metadata[payment_id]"] === lost ? "network" : undefined) });
    expect(await run()).toMatchObject({ status: "succeeded", stats: { transferred: 1, failed: 0, unknown: 1, amount: 8_000 } });
    expect(api.transfers.map((t) => t.metadata.payment_id).sort()).toEqual([lost, ok].sort()); // Stripe made both
    expect(await payment(lost)).toMatchObject({ transferred_at: null });
    expect(await effect(lost)).toMatchObject({ status: "unknown", attempts: 1, last_error: expect.stringMatching(/network error/) });

    lose = false;
    clock = at(clock, hours(25));
    expect(await run()).toMatchObject({ status: "succeeded", stats: { transferred: 1, failed: 0, unknown: 0, amount: 8_000 } });
    // Counted at Stripe: still one transfer for the payment, and no second request for it.
    const made = api.transfers.filter((t) => t.metadata.payment_id === lost);
    expect(made).toHaveLength(1);
    expect(api.calls.filter((c) => c.idempotencyKey === `transfer:${lost}`)).toHaveLength(1);
    expect(api.reads).toMatchObject([{ path: "/v1/transfers", body: { transfer_group: made[0]!.transfer_group } }]);
    expect(await payment(lost)).toMatchObject({ transferred_at: clock, stripe_transfer_id: made[0]!.id });
    expect(await effect(lost)).toMatchObject({ status: "succeeded", attempts: 2, result: { id: made[0]!.id } });

    // What the lookup prevented: Stripe no longer knows the key, so the same request makes a second transfer.
    const again = api.calls.find((c) => c.idempotencyKey === `transfer:${lost}`)!;
    await marketplaceProviders.of(createProviders(deps.env, deps.db)).stripe().createTransfer({
      amount: Number(again.body.amount), currency: "usd", destination: again.body.destination!, metadata: { payment_id: lost }, idempotencyKey: `transfer:${lost}`,
    });
    expect(api.transfers.filter((t) => t.metadata.payment_id === lost)).toHaveLength(2);
  });

  it("keeps a transfer unknown while its lookup fails, and sends nothing until Stripe can say it was not made", async () => {
    clock = new Date("2031-04-10T10:00:00Z");
    const expert = await insertExpert();
    const id = await completed(expert.id, new Date("2031-04-01T09:00:00Z"));
    stripeAt({ respond: () => stripeError(502, "api_error", "Bad gateway") });
    expect(await run()).toMatchObject({ stats: { unknown: 1 } });

    clock = at(clock, hours(1));
    const blind = stripeAt({ respondRead: () => stripeError(404, "invalid_request_error", "No such account") });
    expect(await run()).toMatchObject({ stats: { transferred: 0, failed: 0, unknown: 1 } });
    expect(blind.reads).toHaveLength(1);
    expect(blind.calls).toHaveLength(0);
    expect(await effect(id)).toMatchObject({ status: "unknown", attempts: 2, last_error: expect.stringMatching(/ReconcileError: could not check whether it was made, still unknown: .*HTTP 404/) });

    clock = at(clock, hours(1));
    const seeing = stripeAt();
    expect(await run()).toMatchObject({ stats: { transferred: 1, unknown: 0 } });
    expect(seeing.reads).toHaveLength(1);
    expect(seeing.calls.map((c) => c.idempotencyKey)).toEqual([`transfer:${id}`]);
  });

  it("makes each transfer once when 20 runs race over the same due payments", async () => {
    clock = new Date("2031-03-10T10:00:00Z");
    const api = stripeAt({ delayMs: 10 });
    const expert = await insertExpert();
    const ids = await Promise.all(Array.from({ length: 30 }, () => completed(expert.id, new Date("2031-03-01T09:00:00Z"))));
    const runs = await Promise.all(Array.from({ length: 20 }, () => run()));
    const transferred = runs.map((r) => {
      if (r.status !== "succeeded") throw new Error(`a run failed: ${r.status}`);
      return r.stats.transferred as number;
    });
    expect(transferred.reduce((a, b) => a + b, 0)).toBe(30);
    // Counted at Stripe: one request and one transfer per payment.
    expect(api.calls.map((c) => c.idempotencyKey).sort()).toEqual(ids.map((id) => `transfer:${id}`).sort());
    expect(api.transfers).toHaveLength(30);
    const marked = await sql()`select count(*)::int as n from payments where id = any(${ids}) and transferred_at is not null`;
    expect(marked[0]!.n).toBe(30);
  });

  it("fails a rejected transfer (4xx), retries it in a later run after its backoff, and abandons it after 12 attempts", async () => {
    clock = new Date("2031-02-10T10:00:00Z");
    const expert = await insertExpert();
    const id = await completed(expert.id, new Date("2031-02-01T09:00:00Z"));
    const api = stripeAt({ respond: () => stripeError(400, "invalid_request_error", "Insufficient funds in Stripe account") });
    expect(await run()).toMatchObject({ stats: { transferred: 0, failed: 1, unknown: 0, exhausted: 0 } });
    expect(api.calls).toHaveLength(1);
    const first = await effect(id);
    expect(first).toMatchObject({ status: "failed", attempts: 1, last_error: expect.stringMatching(/HTTP 400/) });
    // The first backoff is 7.5 to 15 minutes.
    expect(first!.next_attempt_at.getTime() - clock.getTime()).toBeGreaterThanOrEqual(7.5 * 60_000);
    expect(first!.next_attempt_at.getTime() - clock.getTime()).toBeLessThanOrEqual(15 * 60_000);

    clock = at(clock, 5 * 60_000);
    expect(await run()).toMatchObject({ stats: { transferred: 0, failed: 0 } });
    expect(api.calls).toHaveLength(1);

    for (let n = 2; n <= 12; n++) {
      clock = at(clock, hours(7)); // past any backoff (at most 6 h)
      await run();
      expect(api.calls).toHaveLength(n);
    }
    // A rejection needs no lookup: nothing was made.
    expect(api.reads).toHaveLength(0);
    expect(await effect(id)).toMatchObject({ status: "abandoned", attempts: 12 });

    clock = at(clock, hours(7));
    expect(await run()).toMatchObject({ stats: { transferred: 0, failed: 0, exhausted: 1 } });
    expect(api.calls).toHaveLength(12);
    expect(await payment(id)).toMatchObject({ transferred_at: null });
  });
});
