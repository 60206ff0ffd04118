import { describe, expect, it } from "vitest";
import { EnvError, loadEnv } from "../../lib/env";

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
const problems = (source: Record<string, string>) => {
  try {
    loadEnv(source);
  } catch (err) {
    return (err as EnvError).problems;
  }
  throw new Error("expected loadEnv to fail");
};

describe("env: providers and marketplace settings", () => {
  it("requires no provider key at boot, even in production", () => {
    const env = loadEnv(prod);
    expect([env.stripe, env.resend, env.novu, env.google, env.slack, env.emailFrom]).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
    expect(env.alertEmails).toEqual([]);
    expect(env.marketplace).toEqual({ transferHoldDays: 7, minPayoutAmount: 5000, auditLogRetentionDays: 90 });
  });

  it("reads every provider setting, with the Google token endpoint by default", () => {
    const env = loadEnv({
      ...prod,
      STRIPE_SECRET_KEY: "sk_live_x",
      STRIPE_API_BASE: "http://127.0.0.1:12111",
      GOOGLE_CLIENT_ID: "id.apps.googleusercontent.com",
      GOOGLE_CLIENT_SECRET: "secret",
      SLACK_WEBHOOK_URL: "https://hooks.slack.com/services/T/B/x",
      ALERT_EMAIL: "ops@example.com, cto@example.com",
      EMAIL_FROM: "Bookings <b@example.com>",
      TRANSFER_HOLD_DAYS: "14",
      MIN_PAYOUT_AMOUNT: "2500",
      AUDIT_LOG_RETENTION_DAYS: "30",
    });
    expect(env.stripe).toEqual({ secretKey: "sk_live_x", apiBase: "http://127.0.0.1:12111" });
    expect(env.google).toEqual({ clientId: "id.apps.googleusercontent.com", clientSecret: "secret", tokenUrl: "https://oauth2.googleapis.com/token" });
    expect(env.slack).toEqual({ webhookUrl: "https://hooks.slack.com/services/T/B/x" });
    expect(env.alertEmails).toEqual(["ops@example.com", "cto@example.com"]);
    expect(env.emailFrom).toBe("Bookings <b@example.com>");
    expect(env.marketplace).toEqual({ transferHoldDays: 14, minPayoutAmount: 2500, auditLogRetentionDays: 30 });
  });

  it("refuses half a Google client, a bad alert address and a negative hold, saying which", () => {
    expect(problems({ ...prod, GOOGLE_CLIENT_ID: "id" })).toEqual([expect.stringMatching(/^GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET go together/)]);
    expect(problems({ ...prod, ALERT_EMAIL: "ops@example.com, not-an-address" })).toContainEqual(expect.stringMatching(/^ALERT_EMAIL: must be an email address/));
    expect(problems({ ...prod, TRANSFER_HOLD_DAYS: "-1" })).toContainEqual(expect.stringMatching(/^TRANSFER_HOLD_DAYS: /));
  });

  it("gives local mode a sender, so the outbox shows whole emails", () => {
    expect(loadEnv({ APP_ENV: "local" }).emailFrom).toBe("cronlayer <jobs@localhost>");
  });
});
