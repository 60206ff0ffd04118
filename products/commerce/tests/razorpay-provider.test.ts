import { describe, expect, it } from "vitest";
import { createDb } from "@/lib/db";
import { EnvError, loadEnv } from "@/lib/env";
import { ConfigError, ProviderError, RetryAfterError } from "@/lib/errors";
import { createProviders } from "@/lib/providers";
import { commerceEnv, LOCAL_COMMERCE_API_KEY } from "../env";
import { commerceProviders } from "../providers";
import { razorpayError, razorpayPayments, RAZORPAY_ENV } from "../../../tests/mocks/razorpay";
import { server } from "../../../tests/mocks/server";
import { testEnv } from "../../../tests/support/app";
import { testDatabaseUrl } from "../../../tests/support/db";

const live = (env: Record<string, string> = RAZORPAY_ENV) => {
  const e = testEnv(env);
  return commerceProviders.of(createProviders(e, createDb(e.database))).payments();
};

describe("the Razorpay provider", () => {
  it("fetches a payment with HTTP Basic auth and answers its status, order and amount", async () => {
    const mock = razorpayPayments({ payments: { pay_A1: { status: "captured", amount: 4_200, orderId: "order_Z9" } } });
    server.use(...mock.handlers);
    expect(await live().fetchPayment("pay_A1")).toEqual({ id: "pay_A1", status: "captured", orderId: "order_Z9", amount: 4_200, currency: "INR" });
    expect(mock.calls).toEqual([{ id: "pay_A1", authorization: `Basic ${Buffer.from("rzp_test_cronlayer01:rzp_test_secret_0123456789").toString("base64")}` }]);
  });

  it("maps Razorpay's errors: 429 waits, a rejected key is configuration, 5xx and unknown ids are provider errors", async () => {
    const answers = [
      razorpayError(429, "BAD_REQUEST_ERROR", "Too many requests", { "retry-after": "12" }),
      razorpayError(500, "SERVER_ERROR", "Trouble completing your request"),
    ];
    server.use(...razorpayPayments({ respond: (_c, n) => answers[n - 1] }).handlers);
    const p = live();
    const limited = await p.fetchPayment("pay_B").catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(RetryAfterError);
    expect((limited as RetryAfterError).retryAfterSeconds).toBe(12);
    const down = await p.fetchPayment("pay_B").catch((e: unknown) => e);
    expect(down).toBeInstanceOf(ProviderError);
    expect((down as ProviderError).status).toBe(500);
    const unknown = await p.fetchPayment("pay_missing").catch((e: unknown) => e);
    expect((unknown as ProviderError).message).toBe("Razorpay: HTTP 400: BAD_REQUEST_ERROR: The id provided does not exist");
    const wrongKey = await live({ RAZORPAY_KEY_ID: "rzp_test_other", RAZORPAY_KEY_SECRET: "nope" }).fetchPayment("pay_B").catch((e: unknown) => e);
    expect(wrongKey).toBeInstanceOf(ConfigError);
    expect((wrongKey as Error).message).toMatch(/^Razorpay rejected RAZORPAY_KEY_ID and RAZORPAY_KEY_SECRET \(HTTP 401/);
  });

  it("without keys: a configuration error outside local mode; in local mode the outbox's recorded status, else created", async () => {
    expect(() => commerceProviders.of(createProviders(testEnv(), createDb(testEnv().database))).payments()).toThrow(/^RAZORPAY_KEY_ID is not set/);
    const env = loadEnv({ APP_ENV: "local", DATABASE_URL: testDatabaseUrl() });
    const db = createDb(env.database);
    const p = commerceProviders.of(createProviders(env, db)).payments();
    expect(await p.fetchPayment("pay_never_seen")).toMatchObject({ id: "pay_never_seen", status: "created" });
    await db.rpc("provider_outbox_record", { p_provider: "razorpay", p_key: "payment:pay_L1", p_payload: { type: "payment", id: "pay_L1", status: "captured", amount: 900 } });
    expect(await p.fetchPayment("pay_L1")).toEqual({ id: "pay_L1", status: "captured", orderId: null, amount: 900, currency: "INR" });
    await db.close();
  });

  it("checks its settings: the key pair together, the store's zone by name", () => {
    expect(() => commerceEnv.of(testEnv({ RAZORPAY_KEY_ID: "rzp_live_x" }))).toThrow(/RAZORPAY_KEY_ID and RAZORPAY_KEY_SECRET go together/);
    const bad = (() => {
      try {
        commerceEnv.of(testEnv({ STORE_TIME_ZONE: "India/Mumbai" }));
      } catch (e) {
        return e as EnvError;
      }
    })();
    expect(bad).toBeInstanceOf(EnvError);
    expect(bad?.problems).toEqual(["STORE_TIME_ZONE: must be an IANA time zone such as Asia/Kolkata or Europe/London (product commerce)"]);
    expect(commerceEnv.of(testEnv())).toEqual({
      razorpay: undefined,
      storeTimeZone: "Asia/Kolkata",
      razorpayWebhookSecret: undefined,
      apiKey: { ok: true, key: LOCAL_COMMERCE_API_KEY },
      courierWebhookSecret: undefined,
      deliveryBusinessDays: 5,
    });
    const local = commerceEnv.of(loadEnv({ APP_ENV: "local" }));
    for (const secret of [local.razorpayWebhookSecret, local.apiKey.ok && local.apiKey.key, local.courierWebhookSecret]) expect(secret).toMatch(/not-for-production$/);
    expect(() => commerceEnv.of(testEnv({ DELIVERY_BUSINESS_DAYS: "-1" }))).toThrow(/DELIVERY_BUSINESS_DAYS/);
  });
});
