import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createDb } from "@/lib/db";
import { createProviders } from "@/lib/providers";
import { marketplaceProviders } from "../providers";
import { server } from "../../../tests/mocks/server";
import { stripeApi, type StripeObject } from "../../../tests/mocks/stripe";
import { testEnv } from "../../../tests/support/app";
import { VENDOR_ENV } from "../../../tests/support/vendors";

// How a transfer or payout whose answer was lost is found again: through the SDK against the
// stateful mock, and through the local stand-in against the outbox.
const providersFor = (overrides: Record<string, string | undefined>) => {
  const env = testEnv(overrides);
  return marketplaceProviders.of(createProviders(env, createDb(env.database))).stripe();
};
const T0 = new Date("2030-03-01T12:00:00Z");
const secs = (d: Date) => Math.floor(d.getTime() / 1000);

function payout(account: string, created: Date, payoutId: string, n: number): StripeObject {
  return { id: `po_seed_${n}`, object: "payout", account, created: secs(created), amount: 100, currency: "usd", arrival_date: secs(created) + 2 * 86_400, metadata: { payout_id: payoutId } };
}

describe("Stripe lookups", () => {
  it("findPayout pages through the account's payouts since a time and matches the metadata", async () => {
    let now = T0;
    const api = stripeApi({ now: () => now });
    server.use(...api.handlers);
    // The one sought is the oldest of 150 on the account since T0: on the second page of 100, newest first.
    api.payouts.push(payout("acct_a", T0, "wanted", 0));
    for (let i = 1; i < 150; i++) api.payouts.push(payout("acct_a", new Date(T0.getTime() + i * 60_000), `other-${i}`, i));
    api.payouts.push(payout("acct_b", T0, "elsewhere", 150));
    api.payouts.push(payout("acct_a", new Date(T0.getTime() - 86_400_000), "too-old", 151));
    now = new Date(T0.getTime() + 3 * 86_400_000);
    const stripe = providersFor(VENDOR_ENV);

    expect(await stripe.findPayout({ account: "acct_a", createdSince: T0, metadata: { payout_id: "wanted" } })).toEqual({ id: "po_seed_0", arrivalDate: "2030-03-03" });
    expect(api.reads).toHaveLength(2);
    expect(api.reads[0]).toMatchObject({ path: "/v1/payouts", account: "acct_a", body: { "created[gte]": String(secs(T0)), limit: "100" } });
    expect(api.reads[1]!.body.starting_after).toBe(api.payouts[50]!.id);

    expect(await stripe.findPayout({ account: "acct_a", createdSince: T0, metadata: { payout_id: "too-old" } })).toBeUndefined();
    expect(await stripe.findPayout({ account: "acct_a", createdSince: T0, metadata: { payout_id: "elsewhere" } })).toBeUndefined();
    expect(api.calls).toHaveLength(0);
  });

  it("findTransfer looks in the transfer group and matches the payment", async () => {
    const api = stripeApi({ now: () => T0 });
    server.use(...api.handlers);
    const stripe = providersFor(VENDOR_ENV);
    const make = (payment: string, group: string) =>
      stripe.createTransfer({ amount: 800, currency: "usd", destination: "acct_x", transferGroup: group, metadata: { payment_id: payment }, idempotencyKey: `transfer:${payment}` });
    const a = await make("p1", "appointment_1");
    await make("p2", "appointment_1");
    await make("p3", "appointment_2");

    expect(await stripe.findTransfer({ transferGroup: "appointment_1", metadata: { payment_id: "p1" } })).toEqual(a);
    expect(await stripe.findTransfer({ transferGroup: "appointment_1", metadata: { payment_id: "p3" } })).toBeUndefined();
    expect(api.reads.map((r) => r.body.transfer_group)).toEqual(["appointment_1", "appointment_1"]);
  });

  it("the mock keeps an idempotency key for 24 hours of its clock, then makes a new object", async () => {
    let now = T0;
    const api = stripeApi({ now: () => now });
    server.use(...api.handlers);
    const stripe = providersFor(VENDOR_ENV);
    const pay = () => stripe.createPayout({ account: "acct_a", amount: 500, currency: "usd", metadata: { payout_id: "x" }, idempotencyKey: "payout:e:2030-03-01" });
    const first = await pay();
    now = new Date(T0.getTime() + 23 * 3_600_000);
    expect(await pay()).toEqual(first);
    expect(api.payouts).toHaveLength(1);
    now = new Date(T0.getTime() + 25 * 3_600_000);
    expect((await pay()).id).not.toBe(first.id);
    expect(api.payouts).toHaveLength(2);
    expect(api.calls).toHaveLength(3);
  });

  it("the local stand-in finds what it recorded in the outbox", async () => {
    const stripe = providersFor({ APP_ENV: "local", APP_URL: "http://localhost:3000" });
    const tag = randomUUID();
    const t = await stripe.createTransfer({ amount: 800, currency: "usd", destination: "acct_x", transferGroup: `appointment_${tag}`, metadata: { payment_id: tag }, idempotencyKey: `transfer:${tag}` });
    expect(await stripe.findTransfer({ transferGroup: `appointment_${tag}`, metadata: { payment_id: tag } })).toEqual(t);
    expect(await stripe.findTransfer({ transferGroup: `appointment_${tag}`, metadata: { payment_id: "another" } })).toBeUndefined();

    const since = new Date(Date.now() - 60_000);
    const po = await stripe.createPayout({ account: `acct_${tag}`, amount: 500, currency: "usd", metadata: { payout_id: tag }, idempotencyKey: `payout:${tag}` });
    expect(await stripe.findPayout({ account: `acct_${tag}`, createdSince: since, metadata: { payout_id: tag } })).toEqual(po);
    expect(await stripe.findPayout({ account: "acct_other", createdSince: since, metadata: { payout_id: tag } })).toBeUndefined();
    expect(await stripe.findPayout({ account: `acct_${tag}`, createdSince: new Date(Date.now() + 60_000), metadata: { payout_id: tag } })).toBeUndefined();
  });
});
