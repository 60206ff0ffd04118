import { http, HttpResponse } from "msw";
import { describe, expect, it } from "vitest";
import { createDeps } from "@/lib/deps";
import { diagnosticsRoute } from "@/lib/http/diagnostics-route";
import { runJob } from "@/lib/jobs/run";
import { expectedSchedules } from "@/lib/qstash/expected";
import { server } from "../../../tests/mocks/server";
import { CRON_SECRET, testDeps, testEnv } from "../../../tests/support/app";
import { registryOf } from "../../../tests/support/registry";
import { VENDOR_ENV, vendors } from "../../../tests/support/vendors";
import commerce from "../index";

/** The shop's jobs reach diagnostics and the keep-alive watchdog through the registry alone. */
const QSTASH = "https://qstash.commerce-health.test";
/** The layer with the shop: its keep-alive watches this registry's schedules. */
const registry = registryOf(commerce);
const keepAlive = registry.get("keep-alive")!;
const SHOP = ["cleanup-inventory-locks", "check-stock-levels", "reconcile-stale-payments", "cleanup-notifications", "cleanup-password-resets", "cleanup-unverified-users", "daily-sales-summary"];

/** QStash holding every configured schedule except `leaveOut`, created long ago. */
function qstashHolding(leaveOut: string[]) {
  server.use(
    http.get(`${QSTASH}/v2/schedules`, () =>
      HttpResponse.json(
        // As qstash:schedule leaves them: a zoned entry as its UTC cron(s).
        expectedSchedules(registry, testEnv())
          .filter((e) => !leaveOut.includes(e.job))
          .map((e) => ({ scheduleId: e.scheduleId, cron: e.cron, createdAt: Date.parse("2016-01-01T00:00:00Z"), destination: e.destination, method: "POST", retries: 3, isPaused: false })),
      ),
    ),
    // keep-alive re-syncs a zoned entry it finds missing.
    http.post(`${QSTASH}/v2/schedules/*`, () => HttpResponse.json({ scheduleId: "created" })),
  );
}

describe("commerce jobs in the health checks", () => {
  it("diagnostics expects every shop schedule and names the one QStash lacks", async () => {
    qstashHolding(["check-stock-levels"]);
    const deps = createDeps(testEnv({ QSTASH_URL: QSTASH }), registry);
    const res = await diagnosticsRoute(async () => deps, { publicCacheMs: 0 }).GET(
      new Request("http://127.0.0.1:3000/api/diagnostics", { headers: { authorization: `Bearer ${CRON_SECRET}` } }),
    );
    const body = (await res.json()) as { components: { schedules: { details: { missing: string[]; drifted: unknown[] } } } };
    expect(body.components.schedules.details.missing).toEqual(["test-check-stock-levels"]);
    expect(body.components.schedules.details.drifted).toEqual([]);
    expect(registry.schedules.filter((s) => SHOP.includes(s.job)).map((s) => s.job).sort()).toEqual([...SHOP].sort());
    await deps.db.close();
  });

  it("keep-alive's sweep alerts each shop job no tick reached, catches up its latest slot, and its digest names the missing schedule", async () => {
    qstashHolding(["daily-sales-summary"]);
    const published: string[] = [];
    server.use(
      http.post(`${QSTASH}/v2/publish/*`, ({ request }) => {
        // The destination is the rest of the path, its query (a slot run's slot and trigger) included.
        const url = new URL(request.url);
        published.push(`${url.pathname.replace("/v2/publish/", "")}${url.search}`);
        return HttpResponse.json({ messageId: `msg_${published.length}` });
      }),
    );
    const calls = vendors();
    const deps = { ...testDeps([keepAlive], [{ job: "keep-alive", via: "vercel", cron: "0 6 * * *" }], { ...VENDOR_ENV, QSTASH_URL: QSTASH }), clock: () => new Date("2017-12-01T06:00:00Z") };
    expect(await runJob({ job: "keep-alive", payload: {}, trigger: "vercel" }, deps)).toMatchObject({ status: "succeeded" });
    const texts = calls.resend.map((c) => c.body.text);
    // One incident per shop job that never ran (its first missed slot alerts, the rest are counted).
    for (const job of SHOP) expect(texts.filter((t) => t.startsWith(`${job}: missed its`)), job).toHaveLength(1);
    // Each job's latest slot within its window is caught up once, as a run for that slot.
    expect(published.filter((u) => u.includes("/api/jobs/reconcile-stale-payments?slot=2017-12-01T05%3A50%3A00.000Z&trigger=catch-up"))).toHaveLength(1);
    const digest = texts.find((t) => t.includes("Other problems"))!;
    expect(digest).toContain("- QStash: schedule test-daily-sales-summary is missing in QStash: run pnpm qstash:schedule");
    expect(digest).toMatch(/- reconcile-stale-payments: slots no delivery reached in the last 24 h: 1 caught up, \d+ missed; each alerted when found/);
    await deps.db.close();
  });
});
