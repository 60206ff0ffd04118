import { describe, expect, it } from "vitest";
import { EnvError, loadEnv } from "@/lib/env";
import { marketplaceEnv } from "../env";

const prod = {
  VERCEL_ENV: "production",
  APP_URL: "https://jobs.example.com",
  QSTASH_TOKEN: "tok",
  QSTASH_CURRENT_SIGNING_KEY: "sig_cur",
  QSTASH_NEXT_SIGNING_KEY: "sig_next",
  CRON_SECRET: "0123456789abcdef0123",
  SCHEDULE_PREFIX: "prod",
  DATABASE_URL: "postgres://u@db.example.com/app",
};
/** The marketplace's problems with this source: the layer's env loads, the product's settings refuse. */
const problems = (source: Record<string, string>) => {
  const env = loadEnv(source);
  try {
    marketplaceEnv.of(env);
  } catch (err) {
    expect(err).toBeInstanceOf(EnvError);
    return (err as EnvError).problems;
  }
  throw new Error("expected the marketplace's env to fail");
};

describe("env: the marketplace's providers and settings", () => {
  it("requires no provider key at boot, even in production", () => {
    const m = marketplaceEnv.of(loadEnv(prod));
    expect([m.stripe, m.google]).toEqual([undefined, undefined]);
    expect(m).toMatchObject({ transferHoldDays: 7, minPayoutAmount: 5000, auditLogRetentionDays: 90 });
    expect(marketplaceEnv.problems(prod, "production")).toEqual([]);
  });

  it("reads every provider setting, with the Google token endpoint by default", () => {
    const m = marketplaceEnv.of(
      loadEnv({
        ...prod,
        STRIPE_SECRET_KEY: "sk_live_x",
        STRIPE_API_BASE: "http://127.0.0.1:12111",
        GOOGLE_CLIENT_ID: "id.apps.googleusercontent.com",
        GOOGLE_CLIENT_SECRET: "secret",
        TRANSFER_HOLD_DAYS: "14",
        MIN_PAYOUT_AMOUNT: "2500",
        AUDIT_LOG_RETENTION_DAYS: "30",
      }),
    );
    expect(m.stripe).toEqual({ secretKey: "sk_live_x", apiBase: "http://127.0.0.1:12111" });
    expect(m.google).toEqual({ clientId: "id.apps.googleusercontent.com", clientSecret: "secret", tokenUrl: "https://oauth2.googleapis.com/token" });
    expect(m).toMatchObject({ transferHoldDays: 14, minPayoutAmount: 2500, auditLogRetentionDays: 30 });
  });

  it("refuses half a Google client and a negative hold, saying which", () => {
    expect(problems({ ...prod, GOOGLE_CLIENT_ID: "id" })).toEqual([expect.stringMatching(/^GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET go together/)]);
    expect(problems({ ...prod, TRANSFER_HOLD_DAYS: "-1" })).toContainEqual(expect.stringMatching(/^TRANSFER_HOLD_DAYS: /));
  });

  it("reports one malformed value once", () => {
    expect(problems({ ...prod, TRANSFER_HOLD_DAYS: "abc" })).toEqual([expect.stringMatching(/^TRANSFER_HOLD_DAYS: /)]);
  });
});
