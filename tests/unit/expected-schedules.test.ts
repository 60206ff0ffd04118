import { describe, expect, it } from "vitest";
import { registry } from "../../jobs";
import { loadEnv } from "../../lib/env";
import { expectedSchedules, isOurs } from "../../lib/qstash/expected";

describe("expected QStash schedules", () => {
  it("derives ids, destinations and crons from the registry, without the Vercel job", () => {
    const env = loadEnv({ APP_ENV: "test", APP_URL: "https://jobs.example.com", SCHEDULE_PREFIX: "prod" });
    const expected = expectedSchedules(registry, env);
    expect(expected.map((e) => e.job)).not.toContain("keep-alive");
    expect(expected.find((e) => e.job === "cleanup-expired-reservations")).toEqual({
      scheduleId: "prod-cleanup-expired-reservations",
      job: "cleanup-expired-reservations",
      destination: "https://jobs.example.com/api/cron/cleanup-expired-reservations",
      cron: "*/15 * * * *",
      retries: 3,
      timeoutSeconds: 60,
      body: "{}",
    });
    // The shop's summary runs at 18:00 in the store's zone (STORE_TIME_ZONE, default Asia/Kolkata).
    expect(expected.find((e) => e.job === "daily-sales-summary")).toMatchObject({
      scheduleId: "prod-daily-sales-summary",
      destination: "https://jobs.example.com/api/cron/daily-sales-summary",
      cron: "CRON_TZ=Asia/Kolkata 0 18 * * *",
    });
  });

  it("schedules the local heartbeat only in local mode", () => {
    const local = expectedSchedules(registry, loadEnv({ APP_ENV: "local" }));
    const prod = expectedSchedules(registry, loadEnv({ APP_ENV: "test", SCHEDULE_PREFIX: "prod" }));
    expect(local.find((e) => e.job === "heartbeat")).toMatchObject({ scheduleId: "local-heartbeat", cron: "* * * * *", destination: "http://localhost:3000/api/cron/heartbeat" });
    expect(prod.map((e) => e.job)).not.toContain("heartbeat");
  });

  it("tells our schedule ids from foreign ones by prefix", () => {
    expect(isOurs("prod", "prod-heartbeat")).toBe(true);
    expect(isOurs("prod", "production-heartbeat")).toBe(false);
    expect(isOurs("prod", "scd_1a2b3c")).toBe(false);
  });
});
