import { randomUUID } from "node:crypto";
import { Redis as IORedis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startRedisBridge } from "../../../dev/redis-bridge/server";
import { createKeepAlive } from "../../../jobs/system/keep-alive";
import { jobRoute } from "../../../lib/http/job-route";
import { bearerRequest, CRON_SECRET, params, testDeps } from "../../support/app";
import { VENDOR_ENV, vendors } from "../../support/vendors";

/**
 * The heartbeat exists for the day the rest is down: with the database unreachable, keep-alive's
 * run cannot be opened, yet it still checks Redis, tells someone once an hour, and answers 500 so
 * Vercel shows the failure too.
 */
const DOWN = "postgres://postgres@127.0.0.1:1/nowhere";
let bridge: Awaited<ReturnType<typeof startRedisBridge>>;
const redis = new IORedis(inject("redisUrl"));
const prefix = `cache-${randomUUID().slice(0, 8)}:`;

beforeAll(async () => {
  bridge = await startRedisBridge({ redisUrl: inject("redisUrl"), token: "bridge-token" });
});
afterAll(async () => {
  await bridge.close();
  redis.disconnect();
});

function keepAliveRoute(at: Date, env: Record<string, string | undefined>) {
  const keepAlive = createKeepAlive({ schedules: () => [], redisPrefixes: [prefix] });
  const deps = { ...testDeps([keepAlive], [{ job: "keep-alive", via: "vercel", cron: "0 6 * * *" }], { ...VENDOR_ENV, DATABASE_URL: DOWN, ...env }), clock: () => at };
  const route = jobRoute("cron", async () => deps);
  return () => route.GET(bearerRequest("/api/cron/keep-alive", `Bearer ${CRON_SECRET}`, { userAgent: "vercel-cron/1.0" }), params("keep-alive"));
}

const alerts = (calls: { body: { subject: string; text: string; to: string | string[] } }[]) => calls.filter((c) => c.body.subject.includes("the database is down"));

describe("keep-alive with the database down", () => {
  it("checks and keeps Redis, alerts once per hour across runs (deduplicated in Redis), and answers 500", async () => {
    const sent = vendors();
    const hour = new Date(`2031-01-0${1 + Math.floor(Math.random() * 8)}T06:00:00Z`);
    await redis.set(`${prefix}stale`, "no ttl");
    const run = keepAliveRoute(hour, { UPSTASH_REDIS_REST_URL: bridge.url, UPSTASH_REDIS_REST_TOKEN: "bridge-token" });
    const first = await run();
    expect(first.status).toBe(500);
    expect(((await first.json()) as { error: string }).error).toMatch(/could not open the run/);
    expect(alerts(sent.resend)).toHaveLength(1);
    expect(alerts(sent.resend)[0]!.body.to).toEqual(["ops@example.test"]);
    expect(alerts(sent.resend)[0]!.body.text).toMatch(/Redis: ok \(1 stale key\(s\) removed\)/);
    expect(sent.slack.filter((s) => JSON.stringify(s).includes("the database is down"))).toHaveLength(1);
    expect(await redis.exists(`${prefix}stale`)).toBe(0);

    // Another instance (a new route, nothing shared in memory) in the same hour: Redis says it was sent.
    const again = await keepAliveRoute(new Date(hour.getTime() + 20 * 60_000), { UPSTASH_REDIS_REST_URL: bridge.url, UPSTASH_REDIS_REST_TOKEN: "bridge-token" })();
    expect(again.status).toBe(500);
    expect(alerts(sent.resend)).toHaveLength(1);
    await redis.del(`alert:keep-alive:database-down:${hour.toISOString().slice(0, 13)}`);
  });

  it("without Redis, alerts once per instance per hour, and again the next hour", async () => {
    const sent = vendors();
    const hour = new Date("2032-02-02T10:00:00Z");
    expect((await keepAliveRoute(hour, {})()).status).toBe(500);
    expect((await keepAliveRoute(new Date(hour.getTime() + 30 * 60_000), {})()).status).toBe(500);
    expect(alerts(sent.resend)).toHaveLength(1);
    expect(alerts(sent.resend)[0]!.body.text).toMatch(/Redis: not configured/);
    expect((await keepAliveRoute(new Date(hour.getTime() + 60 * 60_000), {})()).status).toBe(500);
    expect(alerts(sent.resend)).toHaveLength(2);
  });
});
