import { randomUUID } from "node:crypto";
import { http, HttpResponse } from "msw";
import { describe, expect, it } from "vitest";
import { createDb } from "@/lib/db";
import { ConfigError, RetryAfterError } from "@/lib/errors";
import { createProviders } from "@/lib/providers";
import { GOOGLE_CLIENT, googleTokens } from "../../../tests/mocks/google";
import { server } from "../../../tests/mocks/server";
import { stripeApi } from "../../../tests/mocks/stripe";
import { sql, testEnv } from "../../../tests/support/app";
import { VENDOR_ENV } from "../../../tests/support/vendors";
import { marketplaceProviders } from "../providers";

// The marketplace's vendors (Stripe, Google OAuth), built from the layer's kit; the layer's own
// providers (Resend, Novu, Slack) are tested in tests/integration/providers.test.ts.
const providersFor = (overrides: Record<string, string | undefined>) => {
  const env = testEnv(overrides);
  const layer = createProviders(env, createDb(env.database));
  return { ...marketplaceProviders.of(layer), modes: () => marketplaceProviders.modes(layer) };
};

describe("the marketplace's providers", () => {
  it("in local mode without keys, records what it would send in the outbox, once per key", async () => {
    const p = providersFor({ APP_ENV: "local", APP_URL: "http://localhost:3000" });
    expect(p.modes()).toEqual({ stripe: "outbox", google: "outbox" });
    const key = `outbox-test:${randomUUID()}`;
    const first = await p.stripe().createTransfer({ amount: 800, currency: "usd", destination: "acct_x", metadata: { a: "1" }, idempotencyKey: key });
    const again = await p.stripe().createTransfer({ amount: 800, currency: "usd", destination: "acct_x", metadata: { a: "1" }, idempotencyKey: key });
    expect(again.id).toBe(first.id);
    const token = await p.google().refresh({ refreshToken: "1//secret-refresh-token", key });
    expect(token).toMatchObject({ ok: true, expiresInSeconds: 3600 });
    const rows = await sql()<{ provider: string; payload: Record<string, unknown> }[]>`
      select provider, payload from provider_outbox where idempotency_key = ${key} order by provider`;
    expect(rows.map((r) => r.provider)).toEqual(["google", "stripe"]);
    expect(rows.find((r) => r.provider === "stripe")!.payload).toEqual({ type: "transfer", amount: 800, currency: "usd", destination: "acct_x", metadata: { a: "1" } });
    expect(JSON.stringify(rows.find((r) => r.provider === "google")!.payload)).not.toContain("secret-refresh-token");
    const recent = await createDb(testEnv().database).rpc<{ key: string }[]>("provider_outbox_recent", { p_limit: 1000, p_provider: "stripe" });
    expect(recent.filter((r) => r.key === key)).toHaveLength(1);
  });

  it("outside local mode, a missing key fails with a ConfigError that names the variable", () => {
    const p = providersFor({});
    expect(p.modes()).toEqual({ stripe: "missing", google: "missing" });
    expect(() => p.stripe()).toThrow(ConfigError);
    expect(() => p.stripe()).toThrow(/^STRIPE_SECRET_KEY is not set/);
    expect(() => p.google()).toThrow(/^GOOGLE_CLIENT_ID is not set/);
  });

  it("honours the base-URL overrides, so tests and local stand-ins can point each one elsewhere", async () => {
    const stripe = stripeApi({ base: "http://stripe.stand-in.test:12111" });
    const google = googleTokens({ url: "http://google.stand-in.test/token" });
    server.use(...stripe.handlers, ...google.handlers);
    const p = providersFor({ ...VENDOR_ENV, STRIPE_API_BASE: "http://stripe.stand-in.test:12111", GOOGLE_TOKEN_URL: "http://google.stand-in.test/token" });
    expect(p.modes()).toEqual({ stripe: "live", google: "live" });
    const payout = await p.stripe().createPayout({ account: "acct_1", amount: 5000, currency: "eur", metadata: {}, idempotencyKey: "payout:e:2030-01-01" });
    expect(payout.arrivalDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(await p.google().refresh({ refreshToken: "r1", key: "k1" })).toMatchObject({ ok: true, accessToken: "ya29.new-r1", expiresInSeconds: 3599 });
    expect(stripe.calls).toMatchObject([{ url: "http://stripe.stand-in.test:12111/v1/payouts", account: "acct_1", idempotencyKey: "payout:e:2030-01-01" }]);
    expect(google.calls).toMatchObject([{ form: { grant_type: "refresh_token", refresh_token: "r1", client_id: GOOGLE_CLIENT.id } }]);
  });

  it("maps vendor answers: 429 -> RetryAfterError, 401 -> ConfigError, 5xx/network -> ProviderError, never retried by the SDK", async () => {
    const p = providersFor(VENDOR_ENV);
    server.use(http.post("https://api.stripe.com/v1/transfers", () => HttpResponse.error()));
    await expect(p.stripe().createTransfer({ amount: 1, currency: "usd", destination: "acct", metadata: {}, idempotencyKey: "x" })).rejects.toMatchObject({ name: "ProviderError" });
    const badStripe = providersFor({ ...VENDOR_ENV, STRIPE_SECRET_KEY: "sk_test_wrong" });
    server.use(...stripeApi().handlers);
    await expect(badStripe.stripe().createTransfer({ amount: 1, currency: "usd", destination: "acct", metadata: {}, idempotencyKey: "x" })).rejects.toBeInstanceOf(ConfigError);

    server.use(...googleTokens({ revoked: ["gone"] }).handlers);
    expect(await p.google().refresh({ refreshToken: "gone", key: "k" })).toEqual({ ok: false, revoked: true, reason: "invalid_grant: Token has been expired or revoked." });
    await expect(providersFor({ ...VENDOR_ENV, GOOGLE_CLIENT_SECRET: "wrong" }).google().refresh({ refreshToken: "r", key: "k" })).rejects.toMatchObject({
      name: "ConfigError",
      message: expect.stringMatching(/GOOGLE_CLIENT_ID \/ GOOGLE_CLIENT_SECRET \(invalid_client/),
    });
    server.use(...googleTokens({ respond: () => HttpResponse.json({ error: "rate_limit_exceeded" }, { status: 429, headers: { "retry-after": "4" } }) }).handlers);
    await expect(p.google().refresh({ refreshToken: "r", key: "k" })).rejects.toEqual(expect.any(RetryAfterError));
  });
});
