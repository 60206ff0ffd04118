import { describe, expect, it } from "vitest";
import { EnvError, loadEnv } from "../../lib/env";

// The layer's vendors (Resend, Novu, Slack) and alerting; each product's own vendors and settings
// are tested with the product (e.g. Stripe, Google and the money rules in products/marketplace/tests/env.test.ts).
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

describe("env: the layer's providers and alerting", () => {
  it("requires no provider key at boot, even in production", () => {
    const env = loadEnv(prod);
    expect([env.resend, env.novu, env.slack, env.emailFrom]).toEqual([undefined, undefined, undefined, undefined]);
    expect(env.alertEmails).toEqual([]);
  });

  it("reads every provider setting", () => {
    const env = loadEnv({
      ...prod,
      SLACK_WEBHOOK_URL: "https://hooks.slack.com/services/T/B/x",
      ALERT_EMAIL: "ops@example.com, cto@example.com",
      EMAIL_FROM: "Bookings <b@example.com>",
    });
    expect(env.slack).toEqual({ webhookUrl: "https://hooks.slack.com/services/T/B/x" });
    expect(env.alertEmails).toEqual(["ops@example.com", "cto@example.com"]);
    expect(env.emailFrom).toBe("Bookings <b@example.com>");
  });

  it("refuses a bad alert address, saying which", () => {
    expect(problems({ ...prod, ALERT_EMAIL: "ops@example.com, not-an-address" })).toContainEqual(expect.stringMatching(/^ALERT_EMAIL: must be an email address/));
  });

  it("gives local mode a sender, so the outbox shows whole emails", () => {
    expect(loadEnv({ APP_ENV: "local" }).emailFrom).toBe("cronlayer <jobs@localhost>");
  });
});
