import { randomUUID } from "node:crypto";
import { http, HttpResponse } from "msw";
import { describe, expect, it } from "vitest";
import { catalog } from "../../config/products";
import { createDb } from "../../lib/db";
import { ConfigError, ProviderError } from "../../lib/errors";
import { createProviders, type Providers } from "../../lib/providers";
import { novuTriggers } from "../mocks/novu";
import { resendEmails, resendError } from "../mocks/resend";
import { server } from "../mocks/server";
import { slackWebhook } from "../mocks/slack";
import { sql, testEnv } from "../support/app";
import { VENDOR_ENV } from "../support/vendors";

// The layer's providers (Resend, Novu, Slack). Each product's own vendors are tested with the
// product (Stripe and Google: products/marketplace/tests/providers.test.ts); here they appear only
// in the modes every product reports beside the layer's, as diagnostics merges them.
const providersFor = (overrides: Record<string, string | undefined>) => {
  const env = testEnv(overrides);
  return createProviders(env, createDb(env.database));
};
/** The layer's modes and every product's, as diagnostics shows them (lib/health/providers.ts). */
const allModes = (p: Providers) => Object.assign({}, p.modes(), ...catalog.map((product) => product.providerModes(p))) as Record<string, string>;
const mail = (key: string) => ({ to: "a@example.test", subject: "s", text: "t", html: "<p>t</p>", idempotencyKey: key });

describe("providers", () => {
  it("in local mode without keys, records what it would send in the outbox, once per key", async () => {
    const p = providersFor({ APP_ENV: "local", APP_URL: "http://localhost:3000" });
    expect(p.modes()).toEqual({ resend: "outbox", novu: "outbox", slack: "outbox" });
    expect(allModes(p)).toEqual({ stripe: "outbox", resend: "outbox", novu: "outbox", google: "outbox", slack: "outbox", vapi: "outbox", razorpay: "outbox" });
    const key = `outbox-test:${randomUUID()}`;
    await p.email().send(mail(key));
    await p.email().send(mail(key));
    await p.notify().trigger({ workflowId: "w", subscriber: { id: "u1" }, payload: { x: 1 }, transactionId: key });
    await p.slack()!.post({ text: "hello", key });
    const rows = await sql()<{ provider: string; payload: Record<string, unknown> }[]>`
      select provider, payload from provider_outbox where idempotency_key = ${key} order by provider`;
    expect(rows.map((r) => r.provider)).toEqual(["novu", "resend", "slack"]);
    expect(rows.find((r) => r.provider === "resend")!.payload).toMatchObject({ from: "cronlayer <jobs@localhost>", to: "a@example.test", subject: "s" });
    const recent = await createDb(testEnv().database).rpc<{ key: string }[]>("provider_outbox_recent", { p_limit: 1000, p_provider: "resend" });
    expect(recent.filter((r) => r.key === key)).toHaveLength(1);
  });

  it("outside local mode, a missing key fails with a ConfigError that names the variable", () => {
    const p = providersFor({});
    expect(p.modes()).toMatchObject({ resend: "missing", slack: "missing" });
    expect(allModes(p)).toMatchObject({ stripe: "missing", resend: "missing", slack: "missing" });
    expect(() => p.email()).toThrow(ConfigError);
    expect(() => p.email()).toThrow(/^RESEND_API_KEY is not set/);
    expect(() => p.notify()).toThrow(/^NOVU_API_KEY is not set/);
    expect(p.slack()).toBeUndefined();
    expect(() => providersFor({ RESEND_API_KEY: VENDOR_ENV.RESEND_API_KEY }).email()).toThrow(/^EMAIL_FROM is not set/);
  });

  it("honours the base-URL overrides, so tests and local stand-ins can point each one elsewhere", async () => {
    const resend = resendEmails({ base: "http://resend.stand-in.test" });
    const novu = novuTriggers({ base: "http://novu.stand-in.test" });
    const slack = slackWebhook({ url: "http://slack.stand-in.test/hook" });
    server.use(...resend.handlers, ...novu.handlers, ...slack.handlers);
    const p = providersFor({
      ...VENDOR_ENV,
      STRIPE_API_BASE: "http://stripe.stand-in.test:12111",
      RESEND_BASE_URL: "http://resend.stand-in.test",
      NOVU_BASE_URL: "http://novu.stand-in.test",
      GOOGLE_TOKEN_URL: "http://google.stand-in.test/token",
      SLACK_WEBHOOK_URL: "http://slack.stand-in.test/hook",
    });
    expect(p.modes()).toEqual({ resend: "live", novu: "live", slack: "live" });
    expect(allModes(p)).toEqual({ stripe: "live", resend: "live", novu: "live", google: "live", slack: "live", vapi: "missing", razorpay: "missing" });
    await p.email().send(mail("k1"));
    await p.notify().trigger({ workflowId: "w", subscriber: { id: "u1" }, payload: {}, transactionId: "k1" });
    await p.slack()!.post({ text: "hi", key: "k1" });
    expect(resend.calls).toMatchObject([{ url: "http://resend.stand-in.test/emails", idempotencyKey: "k1" }]);
    expect(novu.calls).toMatchObject([{ url: "http://novu.stand-in.test/v1/events/trigger", idempotencyKey: "k1" }]);
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

    server.use(...slackWebhook({ respond: () => new HttpResponse("no_service", { status: 404 }) }).handlers);
    await expect(p.slack()!.post({ text: "x", key: "k" })).rejects.toMatchObject({ name: "ConfigError", message: expect.stringMatching(/SLACK_WEBHOOK_URL/) });
  });
});
