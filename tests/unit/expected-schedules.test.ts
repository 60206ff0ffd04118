import { describe, expect, it } from "vitest";
import { catalog, composeRegistry } from "../../config/app";
import { createRegistry } from "../../lib/jobs/registry";
import { loadEnv } from "../../lib/env";
import { expectedSchedules, isOurs } from "../../lib/qstash/expected";

const registry = composeRegistry(catalog);

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
    // The shop's summary runs at 18:00 in the store's zone (STORE_TIME_ZONE, default Asia/Kolkata),
    // which QStash gets as 12:30 UTC: India keeps one offset, so one cron, never re-synced.
    expect(expected.filter((e) => e.job === "daily-sales-summary")).toEqual([
      expect.objectContaining({
        scheduleId: "prod-daily-sales-summary",
        destination: "https://jobs.example.com/api/cron/daily-sales-summary",
        cron: "30 12 * * *",
        zoned: { cron: "CRON_TZ=Asia/Kolkata 0 18 * * *", part: 1, parts: 1, resyncAt: null },
      }),
    ]);
    expect(expected.filter((e) => e.cron.includes("CRON_TZ"))).toEqual([]);
  });

  it("gives a zoned entry in a zone with DST its UTC crons as <prefix>-<job>, <prefix>-<job>-2...", () => {
    const env = loadEnv({ APP_ENV: "test", APP_URL: "https://jobs.example.com", SCHEDULE_PREFIX: "prod", STORE_TIME_ZONE: "Europe/Lisbon" });
    const expected = expectedSchedules(createRegistry([...registry.jobs.values()], [{ job: "daily-sales-summary", cron: "CRON_TZ=Europe/Lisbon 0 18 * * *" }]), env, new Date("2027-03-27T06:00:00Z"));
    // 18:00 is 18:00 UTC until the change on 28 March, then 17:00 UTC.
    expect(expected.map((e) => [e.scheduleId, e.cron])).toEqual([
      ["prod-daily-sales-summary", "0 17 * 4-10 *"],
      ["prod-daily-sales-summary-2", "0 18 26,27 3 *"],
      ["prod-daily-sales-summary-3", "0 17 28-31 3 *"],
    ]);
    expect(expected[0]!.zoned).toEqual({ cron: "CRON_TZ=Europe/Lisbon 0 18 * * *", part: 1, parts: 3, resyncAt: new Date("2027-10-29T01:00:00Z") });
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
