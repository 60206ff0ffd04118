import { describe, expect, it } from "vitest";
import job from "../jobs/process-pending-payouts";
import { jobRoute } from "@/lib/http/job-route";
import { runJob } from "@/lib/jobs/run";
import { createProviders } from "@/lib/providers";
import { marketplaceProviders } from "../providers";
import { server } from "../../../tests/mocks/server";
import { stripeApi, stripeError, type StripeApiOptions } from "../../../tests/mocks/stripe";
import { bearerRequest, CRON_SECRET, params, sql, testDeps } from "../../../tests/support/app";
import { at, days, hours, insertAppointment, insertClient, insertExpert, insertPayment, VENDOR_ENV, vendors } from "../../../tests/support/vendors";

// 2029: before any transfer other test files make (2031+), so their balances are not available yet.
let clock = new Date("2029-01-10T06:00:00Z");
const deps = { ...testDeps([job], [{ job: job.name, cron: "0 6 * * *", overlap: "allow" }], VENDOR_ENV), clock: () => clock };
const run = () => runJob({ job: job.name, payload: {}, trigger: "cli" }, deps);

/** Stateful Stripe on the test's clock (its idempotency keys expire 24 h after their first use). */
function stripeAt(o: StripeApiOptions = {}) {
  const api = stripeApi({ now: () => clock, ...o });
  server.use(...api.handlers);
  return api;
}

/** An expert with `n` transferred payments of 100.00 (80.00 theirs after the fee), transferred a day before the clock. */
async function earning(n: number, o: { account?: string | null; transferredAt?: Date } = {}) {
  const expert = await insertExpert({ stripe_account_id: o.account });
  const client = await insertClient();
  for (let i = 0; i < n; i++) {
    const appt = await insertAppointment({ expert: expert.id, client: client.id, startsAt: at(clock, -days(10)), status: "completed", completedAt: at(clock, -days(9)) });
    await insertPayment({ appointment: appt, expert: expert.id, transferredAt: o.transferredAt ?? at(clock, -days(1)) });
  }
  return expert;
}

const payouts = (expert: string) =>
  sql()<{ id: string; status: string; amount_cents: string; payout_date: Date; arrival_date: Date | null; stripe_payout_id: string | null }[]>`
    select id, status, amount_cents, payout_date, arrival_date, stripe_payout_id from payouts where expert_id = ${expert}`;
const effect = async (key: string) => (await sql()`select job, subject, status, attempts, last_error, result, next_attempt_at from effects where key = ${key}`)[0];

describe("process-pending-payouts", () => {
  it("pays out each expert at or above the minimum once a day, with key payout:<expert>:<date>", async () => {
    clock = new Date("2029-01-10T06:00:00Z");
    const calls = vendors({ stripe: { payoutArrival: clock } });
    const rich = await earning(3);
    const poor = await earning(1, {}); // 80.00 ... above the 50.00 minimum too
    const below = await insertExpert();
    const c = await insertClient();
    const small = await insertAppointment({ expert: below.id, client: c.id, startsAt: at(clock, -days(10)), status: "completed", completedAt: at(clock, -days(9)) });
    await insertPayment({ appointment: small, expert: below.id, amount: 4_000, fee: 0, transferredAt: at(clock, -days(1)) });
    const later = await earning(2, { transferredAt: at(clock, 60_000) }); // transferred after this run started
    const noAccount = await earning(2, { account: null });

    expect(await run()).toMatchObject({ status: "succeeded", stats: { paid: 2, failed: 0, unknown: 0, amount: 32_000, exhausted: 0 } });
    expect(calls.stripe.map((s) => s.idempotencyKey).sort()).toEqual([`payout:${poor.id}:2029-01-10`, `payout:${rich.id}:2029-01-10`].sort());
    const call = calls.stripe.find((s) => s.idempotencyKey === `payout:${rich.id}:2029-01-10`)!;
    const [p] = await payouts(rich.id);
    expect(call).toMatchObject({ url: "https://api.stripe.com/v1/payouts", account: rich.stripe_account_id, body: { amount: "24000", currency: "usd", "metadata[payout_id]": p!.id, "metadata[expert_id]": rich.id } });
    expect(p).toMatchObject({ status: "in_transit", amount_cents: "24000", stripe_payout_id: expect.stringMatching(/^po_/) });
    expect(p!.arrival_date).toEqual(new Date("2029-01-12T00:00:00Z"));
    expect(await effect(`payout:${rich.id}:2029-01-10`)).toMatchObject({
      job: job.name, subject: p!.id, status: "succeeded", attempts: 1, result: { id: p!.stripe_payout_id, arrivalDate: "2029-01-12" },
    });
    const attached = await sql()`select count(*)::int as n from payments where expert_id = ${rich.id} and payout_id = ${p!.id}`;
    expect(attached[0]!.n).toBe(3);
    for (const e of [below, later, noAccount]) expect(await payouts(e.id)).toEqual([]);

    // Same day again: nothing new, even though `later`'s money is now available (one payout a day).
    clock = new Date("2029-01-10T18:00:00Z");
    expect(await run()).toMatchObject({ status: "succeeded", stats: { paid: 1, amount: 16_000 } });
    expect(calls.stripe.map((s) => s.idempotencyKey)).toContain(`payout:${later.id}:2029-01-10`);
    expect(await run()).toMatchObject({ status: "succeeded", stats: { paid: 0 } });
    expect(calls.stripe).toHaveLength(3);
  });

  it("pays each expert once when two runs race", async () => {
    clock = new Date("2029-02-10T06:00:00Z");
    const calls = vendors({ stripe: { delayMs: 20 } });
    const experts = await Promise.all(Array.from({ length: 6 }, () => earning(1)));
    const [a, b] = await Promise.all([run(), run()]);
    if (a.status !== "succeeded" || b.status !== "succeeded") throw new Error(`runs failed: ${a.status} ${b.status}`);
    expect((a.stats.paid as number) + (b.stats.paid as number)).toBe(6);
    expect(calls.stripe.map((s) => s.idempotencyKey).sort()).toEqual(experts.map((e) => `payout:${e.id}:2029-02-10`).sort());
    const rows = await sql()`select count(*)::int as n from payouts where expert_id = any(${experts.map((e) => e.id)})`;
    expect(rows[0]!.n).toBe(6);
  });

  it("counts a Stripe 500 on one payout as unknown and, on the next run, looks it up and retries it with the same key", async () => {
    clock = new Date("2029-03-10T06:00:00Z");
    const ok = await earning(1);
    const bad = await earning(1);
    const api = stripeAt({ respond: (c) => (c.account === bad.stripe_account_id ? stripeError(500, "api_error", "An unknown error occurred") : undefined) });
    expect(await run()).toMatchObject({ status: "succeeded", stats: { paid: 1, failed: 0, unknown: 1 } });
    expect(api.calls).toHaveLength(2);
    expect(await payouts(bad.id)).toMatchObject([{ status: "pending", amount_cents: "8000", stripe_payout_id: null }]);
    expect(await effect(`payout:${bad.id}:2029-03-10`)).toMatchObject({ status: "unknown", attempts: 1, last_error: expect.stringMatching(/HTTP 500/) });
    expect(await payouts(ok.id)).toMatchObject([{ status: "in_transit" }]);

    const again = stripeAt();
    clock = new Date("2029-03-11T06:00:00Z"); // the next day: the retry keeps its own date's key
    expect(await run()).toMatchObject({ status: "succeeded", stats: { paid: 1, failed: 0, unknown: 0 } });
    expect(again.reads).toMatchObject([{ path: "/v1/payouts", account: bad.stripe_account_id }]);
    expect(again.calls.map((s) => s.idempotencyKey)).toEqual([`payout:${bad.id}:2029-03-10`]);
    expect(await payouts(bad.id)).toMatchObject([{ status: "in_transit", stripe_payout_id: again.payouts[0]!.id }]);
    expect(await effect(`payout:${bad.id}:2029-03-10`)).toMatchObject({ status: "succeeded", attempts: 2, last_error: null });
  });

  it("ends the run with 429 and Retry-After, and the next run pays what was left", async () => {
    clock = new Date("2029-04-10T06:00:00Z");
    const experts = [await earning(1), await earning(1)];
    vendors({ stripe: { respond: () => stripeError(429, "invalid_request_error", "Too many requests", { "Retry-After": "12" }) } });
    const res = await jobRoute("cron", async () => deps).GET(bearerRequest(`/api/cron/${job.name}`, `Bearer ${CRON_SECRET}`), params(job.name));
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("12");
    for (const e of experts) {
      expect(await payouts(e.id)).toMatchObject([{ status: "pending" }]);
      expect(await effect(`payout:${e.id}:2029-04-10`)).toBeUndefined();
    }

    const calls = vendors();
    expect(await run()).toMatchObject({ status: "succeeded", stats: { paid: 2 } });
    expect(calls.stripe.map((s) => s.idempotencyKey).sort()).toEqual(experts.map((e) => `payout:${e.id}:2029-04-10`).sort());
  });

  it("finds a payout whose answer was lost instead of paying again, 25 hours later when Stripe has forgotten its key", async () => {
    clock = new Date("2029-05-10T06:00:00Z");
    const expert = await earning(2);
    const key = `payout:${expert.id}:2029-05-10`;
    let lose = true;
    const api = stripeAt({ loseResponse: () => (lose ? "500" : undefined) });
    expect(await run()).toMatchObject({ status: "succeeded", stats: { paid: 0, failed: 0, unknown: 1, amount: 0 } });
    expect(api.payouts).toHaveLength(1); // Stripe made it; the answer said 500
    const [row] = await payouts(expert.id);
    expect(row).toMatchObject({ status: "pending", stripe_payout_id: null });
    expect(await effect(key)).toMatchObject({ status: "unknown", attempts: 1 });

    lose = false;
    clock = at(clock, hours(25));
    expect(await run()).toMatchObject({ status: "succeeded", stats: { paid: 1, failed: 0, unknown: 0, amount: 16_000 } });
    // Counted at Stripe: one payout, one request for it.
    expect(api.payouts).toHaveLength(1);
    expect(api.calls.map((c) => c.idempotencyKey)).toEqual([key]);
    expect(api.reads).toMatchObject([{ path: "/v1/payouts", account: expert.stripe_account_id }]);
    expect(Number(api.reads[0]!.body["created[gte]"])).toBeLessThanOrEqual(api.payouts[0]!.created);
    const made = api.payouts[0]!;
    expect(await payouts(expert.id)).toMatchObject([{ id: row!.id, status: "in_transit", stripe_payout_id: made.id, arrival_date: new Date("2029-05-12T00:00:00Z") }]);
    expect(await effect(key)).toMatchObject({ status: "succeeded", attempts: 2, result: { id: made.id, arrivalDate: "2029-05-12" } });

    // What the lookup prevented: Stripe no longer knows the key, so the same request pays a second time.
    await marketplaceProviders.of(createProviders(deps.env, deps.db)).stripe().createPayout({ account: expert.stripe_account_id!, amount: 16_000, currency: "usd", metadata: { payout_id: row!.id }, idempotencyKey: key });
    expect(api.payouts).toHaveLength(2);
  });

  it("fails a rejected payout (4xx), retries it in a later run after its backoff, and abandons it after 5 attempts", async () => {
    clock = new Date("2029-06-10T06:00:00Z");
    const expert = await earning(1);
    const key = `payout:${expert.id}:2029-06-10`;
    const api = stripeAt({ respond: () => stripeError(400, "invalid_request_error", "You have insufficient funds in your Stripe account") });
    expect(await run()).toMatchObject({ stats: { paid: 0, failed: 1, unknown: 0, exhausted: 0 } });
    expect(api.calls).toHaveLength(1);
    const first = await effect(key);
    expect(first).toMatchObject({ status: "failed", attempts: 1, last_error: expect.stringMatching(/HTTP 400: You have insufficient funds/) });
    // The first backoff is 30 to 60 minutes.
    expect(first!.next_attempt_at.getTime() - clock.getTime()).toBeGreaterThanOrEqual(30 * 60_000);
    expect(first!.next_attempt_at.getTime() - clock.getTime()).toBeLessThanOrEqual(60 * 60_000);

    clock = at(clock, 20 * 60_000);
    expect(await run()).toMatchObject({ stats: { paid: 0, failed: 0 } });
    expect(api.calls).toHaveLength(1);

    for (let n = 2; n <= 5; n++) {
      clock = at(clock, hours(7)); // past any backoff (at most 6 h)
      await run();
      expect(api.calls).toHaveLength(n);
    }
    expect(api.calls.every((c) => c.idempotencyKey === key)).toBe(true);
    expect(api.reads).toHaveLength(0); // a rejection needs no lookup: nothing was made
    expect(await effect(key)).toMatchObject({ status: "abandoned", attempts: 5 });

    clock = at(clock, hours(7));
    expect(await run()).toMatchObject({ stats: { paid: 0, failed: 0, exhausted: 1 } });
    expect(api.calls).toHaveLength(5);
    // The money stays with the payout for a person to decide.
    expect(await payouts(expert.id)).toMatchObject([{ status: "pending", amount_cents: "8000" }]);
  });
});
