import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { record } from "./support/report";
import { startRig, type Rig } from "./support/rig";
import { confirmedOrders, emailsPerOrder } from "./support/shop";

/**
 * Redis (behind its Upstash REST bridge) refused and its connections dropped: Redis holds caches,
 * rate limits and counters, never the ledger, so jobs that do not need it still run, keep-alive
 * says Redis is failing and alerts once, and the app keeps serving until Redis is back.
 */
let rig: Rig;
let order: string;

beforeAll(async () => {
  rig = await startRig("redis-down");
  [order] = (await confirmedOrders(rig, 1)) as [string];
});
afterAll(() => rig?.close());

interface Diagnostics {
  status: string;
  components: Record<string, { status: string; message: string }>;
}

describe("Redis down", () => {
  it("runs the jobs that do not need it, reports it from keep-alive and diagnostics, and crashes nothing", { timeout: 60_000 }, async () => {
    const pid = rig.pid();
    rig.redis.refuse();
    rig.redis.dropAll();
    const started = Date.now();

    const heartbeat = await rig.deliver("/api/jobs/heartbeat", "{}");
    const email = await rig.deliver("/api/jobs/send-order-email", JSON.stringify({ orderId: order, status: "confirmed" }));
    const keepAlive = await rig.bearer("/api/cron/keep-alive");
    const keepAliveBody = await keepAlive.text();
    const diagnostics = await rig.bearer("/api/diagnostics");
    const report = (await diagnostics.json()) as Diagnostics;
    const alerts = rig.vendors.calls.filter((c) => (c.vendor === "slack" || (c.vendor === "resend" && String(JSON.stringify(c.body.to)).includes("ops@"))) && JSON.stringify(c.body).includes("Redis"));
    const [ka] = await rig.sql<{ status: string; error: { message: string } | null }[]>`select status, error from job_runs where job = 'keep-alive' order by started_at desc limit 1`;

    rig.redis.restore();
    const restoredAt = Date.now();
    // The bridge reconnects with a short backoff: Redis is seen again within seconds, without a restart.
    await expect
      .poll(async () => ((await (await rig.bearer("/api/diagnostics")).json()) as Diagnostics).components.redis?.status, { timeout: 10_000, interval: 250 })
      .toBe("ok");
    const recoveredMs = Date.now() - restoredAt;
    const after = await rig.bearer("/api/cron/keep-alive");
    const afterStats = ((await after.json()) as { stats?: { redis?: string } }).stats;

    record({
      scenario: "redis",
      fault: "Redis refused, connections dropped",
      deliveries: 3,
      runsExpected: 2,
      runsDone: [heartbeat, email].filter((r) => r.status === 200).length,
      effectsDoubled: Math.max(0, (emailsPerOrder(rig).get(order) ?? 0) - 1),
      effectsLost: emailsPerOrder(rig).get(order) ? 0 : 1,
      maxRequestMs: Math.max(...rig.front.exchanges.filter((e) => e.startedAt >= started).map((e) => e.ms)),
      notes: `keep-alive ${keepAlive.status} (${ka?.error?.message.slice(0, 80)}); diagnostics ${report.status}, redis ${report.components?.redis?.status}; ${alerts.length} alert(s); Redis seen again ${(recoveredMs / 1000).toFixed(1)} s after restore; keep-alive then ${after.status}, redis ${afterStats?.redis}`,
    });
    expect([heartbeat.status, email.status]).toEqual([200, 200]);
    expect(emailsPerOrder(rig).get(order)).toBe(1);
    // keep-alive does the rest of its rounds, then fails the run on Redis so the platform shows it.
    expect(keepAlive.status, keepAliveBody).toBe(500);
    expect(ka?.error?.message).toMatch(/redis|upstash|fetch/i);
    expect(alerts.length, "one alert that names Redis, on one channel or both").toBeGreaterThanOrEqual(1);
    expect(alerts.length).toBeLessThanOrEqual(2);
    expect(report.status).toBe("degraded");
    expect(report.components.redis!.status).toBe("down");
    expect(report.components.database!.status).toBe("ok");
    // Nothing crashed: the same process serves, and sees Redis again once it is back.
    expect(rig.pid()).toBe(pid);
    expect(afterStats?.redis).toBe("ok");
  });
});
