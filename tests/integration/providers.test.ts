import { randomUUID } from "node:crypto";
import { http, HttpResponse } from "msw";
import { describe, expect, it } from "vitest";
import { createDb } from "../../lib/db";
import { ConfigError, ProviderError, RetryAfterError } from "../../lib/errors";
import { createProviders } from "../../lib/providers";
import { GOOGLE_CLIENT, googleTokens } from "../mocks/google";
import { novuTriggers } from "../mocks/novu";
import { resendEmails, resendError } from "../mocks/resend";
import { server } from "../mocks/server";
import { slackWebhook } from "../mocks/slack";
import { stripeApi } from "../mocks/stripe";
import { sql, testEnv } from "../support/app";
import { VENDOR_ENV } from "../support/vendors";

const providersFor = (overrides: Record<string, string | undefined>) => {
  const env = testEnv(overrides);
  return createProviders(env, createDb(env.database));
};
const mail = (key: string) => ({ to: "a@example.test", subject: "s", text: "t", html: "<p>t</p>", idempotencyKey: key });

describe("providers", () => {
  it("in local mode without keys, records what it would send in the outbox, once per key", async () => {
    const p = providersFor({ APP_ENV: "local", APP_URL: "http://localhost:3000" });
    expect(p.modes()).toEqual({ stripe: "outbox", resend: "outbox", novu: "outbox", google: "outbox", slack: "outbox", vapi: "outbox", razorpay: "outbox" });
    const key = `outbox-test:${randomUUID()}`;
    const first = await p.stripe().createTransfer({ amount: 800, currency: "usd", destination: "acct_x", metadata: { a: "1" }, idempotencyKey: key });
    const again = await p.stripe().createTransfer({ amount: 800, currency: "usd", destination: "acct_x", metadata: { a: "1" }, idempotencyKey: key });
    expect(again.id).toBe(first.id);
    await p.email().send(mail(key));
    await p.email().send(mail(key));
    await p.notify().trigger({ workflowId: "w", subscriber: { id: "u1" }, payload: { x: 1 }, transactionId: key });
    const token = await p.google().refresh({ refreshToken: "1//secret-refresh-token", key });
    expect(token).toMatchObject({ ok: true, expiresInSeconds: 3600 });
    await p.slack()!.post({ text: "hello", key });
    const rows = await sql()<{ provider: string; payload: Record<string, unknown> }[]>`
      select provider, payload from provider_outbox where idempotency_key = ${key} order by provider`;
    expect(rows.map((r) => r.provider)).toEqual(["google", "novu", "resend", "slack", "stripe"]);
    expect(rows.find((r) => r.provider === "stripe")!.payload).toEqual({ type: "transfer", amount: 800, currency: "usd", destination: "acct_x", metadata: { a: "1" } });
    expect(rows.find((r) => r.provider === "resend")!.payload).toMatchObject({ from: "cronlayer <jobs@localhost>", to: "a@example.test", subject: "s" });
    expect(JSON.stringify(rows.find((r) => r.provider === "google")!.payload)).not.toContain("secret-refresh-token");
    const recent = await createDb(testEnv().database).rpc<{ key: string }[]>("provider_outbox_recent", { p_limit: 1000, p_provider: "stripe" });
    expect(recent.filter((r) => r.key === key)).toHaveLength(1);
  });

  it("outside local mode, a missing key fails with a ConfigError that names the variable", () => {
    const p = providersFor({});
    expect(p.modes()).toMatchObject({ stripe: "missing", resend: "missing", slack: "missing" });
    expect(() => p.stripe()).toThrow(ConfigError);
    expect(() => p.stripe()).toThrow(/^STRIPE_SECRET_KEY is not set/);
    expect(() => p.email()).toThrow(/^RESEND_API_KEY is not set/);
    expect(() => p.notify()).toThrow(/^NOVU_API_KEY is not set/);
    expect(() => p.google()).toThrow(/^GOOGLE_CLIENT_ID is not set/);
    expect(p.slack()).toBeUndefined();
    expect(() => providersFor({ RESEND_API_KEY: VENDOR_ENV.RESEND_API_KEY }).email()).toThrow(/^EMAIL_FROM is not set/);
  });

  it("honours the base-URL overrides, so tests and local stand-ins can point each one elsewhere", async () => {
    const stripe = stripeApi({ base: "http://stripe.stand-in.test:12111" });
    const resend = resendEmails({ base: "http://resend.stand-in.test" });
    const novu = novuTriggers({ base: "http://novu.stand-in.test" });
    const google = googleTokens({ url: "http://google.stand-in.test/token" });
    const slack = slackWebhook({ url: "http://slack.stand-in.test/hook" });
    server.use(...stripe.handlers, ...resend.handlers, ...novu.handlers, ...google.handlers, ...slack.handlers);
    const p = providersFor({
      ...VENDOR_ENV,
      STRIPE_API_BASE: "http://stripe.stand-in.test:12111",
      RESEND_BASE_URL: "http://resend.stand-in.test",
      NOVU_BASE_URL: "http://novu.stand-in.test",
      GOOGLE_TOKEN_URL: "http://google.stand-in.test/token",
      SLACK_WEBHOOK_URL: "http://slack.stand-in.test/hook",
    });
    expect(p.modes()).toEqual({ stripe: "live", resend: "live", novu: "live", google: "live", slack: "live", vapi: "missing", razorpay: "missing" });
    const payout = await p.stripe().createPayout({ account: "acct_1", amount: 5000, currency: "eur", metadata: {}, idempotencyKey: "payout:e:2030-01-01" });
    expect(payout.arrivalDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    await p.email().send(mail("k1"));
    await p.notify().trigger({ workflowId: "w", subscriber: { id: "u1" }, payload: {}, transactionId: "k1" });
    expect(await p.google().refresh({ refreshToken: "r1", key: "k1" })).toMatchObject({ ok: true, accessToken: "ya29.new-r1", expiresInSeconds: 3599 });
    await p.slack()!.post({ text: "hi", key: "k1" });
    expect(stripe.calls).toMatchObject([{ url: "http://stripe.stand-in.test:12111/v1/payouts", account: "acct_1", idempotencyKey: "payout:e:2030-01-01" }]);
    expect(resend.calls).toMatchObject([{ url: "http://resend.stand-in.test/emails", idempotencyKey: "k1" }]);
    expect(novu.calls).toMatchObject([{ url: "http://novu.stand-in.test/v1/events/trigger", idempotencyKey: "k1" }]);
    expect(google.calls).toMatchObject([{ form: { grant_type: "refresh_token", refresh_token: "r1", client_id: GOOGLE_CLIENT.id } }]);
    expect(slack.calls).toEqual([{ url: "http://slack.stand-in.test/hook", body: { text: "hi" } }]);
  });

  it("maps vendor answers: 429 -> RetryAfterError, 401 -> ConfigError, 5xx/network -> ProviderError, never retried by the SDK", async () => {
    const p = providersFor(VENDOR_ENV);
    const novu = novuTriggers({ respond: (_c, n) => (n === 1 ? new HttpResponse(null, { status: 429, headers: { "retry-after": "17" } }) : HttpResponse.json({ message: "down" }, { status: 503 })) });
    server.use(...novu.handlers);
    const trigger = () => p.notify().trigger({ workflowId: "w", subscriber: { id: "u" }, payload: {}, transactionId: "t" });
    await expect(trigger()).rejects.toMatchObject({ name: "RetryAfterError", retryAfterSeconds: 17 });
    await expect(trigger()).rejects.toMatchObject({ name: "ProviderError", status: 503 });
    expect(novu.calls).toHaveLength(2); // one request each: the SDK's hour-long retry policy is off

    server.use(...resendEmails({ respond: () => resendError(500, "internal_server_error", "boom") }).handlers);
    await expect(p.email().send(mail("k"))).rejects.toBeInstanceOf(ProviderError);
    server.use(http.post("https://api.resend.com/emails", () => HttpResponse.error()));
    await expect(p.email().send(mail("k"))).rejects.toMatchObject({ name: "ProviderError", message: expect.stringMatching(/network error/) });
    const badKey = providersFor({ ...VENDOR_ENV, RESEND_API_KEY: "re_revoked_key" });
    server.use(...resendEmails().handlers);
    await expect(badKey.email().send(mail("k"))).rejects.toMatchObject({ name: "ConfigError", message: expect.stringMatching(/Resend rejected RESEND_API_KEY \(HTTP 401/) });

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

    server.use(...slackWebhook({ respond: () => new HttpResponse("no_service", { status: 404 }) }).handlers);
    await expect(p.slack()!.post({ text: "x", key: "k" })).rejects.toMatchObject({ name: "ConfigError", message: expect.stringMatching(/SLACK_WEBHOOK_URL/) });
  });
});
