import { describe, expect, it } from "vitest";
import { catalog, composeRegistry } from "../../../config/app";
import { jobRoute } from "../../../lib/http/job-route";
import { bearerRequest, CRON_SECRET, ledger, params, sql, testEnv } from "../../support/app";
import { createDeps } from "../../../lib/deps";
import { VENDOR_ENV, vendors } from "../../support/vendors";

const registry = composeRegistry(catalog);

describe("keep-alive (Vercel cron)", () => {
  it("checks the database, prunes dead signatures and records a vercel run", async () => {
    await sql()`insert into used_signatures (jti, expires_at) values ('jwt_old_keepalive', now() - interval '1 hour'), ('jwt_live_keepalive', now() + interval '1 hour')`;
    // The test database has no scheduled runs of the real jobs, and QStash (127.0.0.1:1) is down:
    // the watchdog has something to say, so the alert goes out (to the msw vendors).
    const calls = vendors();
    const deps = createDeps(testEnv(VENDOR_ENV), registry);
    const route = jobRoute("cron", async () => deps);
    const before = (await ledger("keep-alive")).length;
    const res = await route.GET(bearerRequest("/api/cron/keep-alive", `Bearer ${CRON_SECRET}`, { userAgent: "vercel-cron/1.0" }), params("keep-alive"));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; stats: Record<string, unknown> };
    expect(body.status).toBe("succeeded");
    expect(body.stats).toMatchObject({ database: "ok", redis: "not_configured", qstash: expect.stringMatching(/^unreachable: QStash at http:\/\/127.0.0.1:1 is not reachable/) });
    expect(body.stats.signaturesPruned).toBeGreaterThanOrEqual(1);
    expect(body.stats.alert).toBe("email: sent; slack: sent");
    expect(calls.resend).toHaveLength(1);
    expect(calls.resend[0]!.body).toMatchObject({ to: ["ops@example.test"], subject: expect.stringMatching(/^\[cronlayer\] watchdog: \d+ missed runs/) });
    expect(calls.resend[0]!.body.text).toContain("QStash unreachable");
    expect(calls.slack).toHaveLength(1);
    const left = await sql()`select jti from used_signatures where jti like 'jwt_%_keepalive' order by jti`;
    expect(left.map((r) => r.jti)).toEqual(["jwt_live_keepalive"]);
    const rows = await ledger("keep-alive");
    expect(rows).toHaveLength(before + 1);
    expect(rows.at(-1)).toMatchObject({ trigger: "vercel", status: "succeeded" });
  });

  it("fails the run with a clear error when Redis is configured but down", async () => {
    const deps = createDeps(testEnv({ UPSTASH_REDIS_REST_URL: "http://127.0.0.1:1", UPSTASH_REDIS_REST_TOKEN: "t" }), registry);
    const res = await jobRoute("cron", async () => deps).GET(bearerRequest("/api/cron/keep-alive", `Bearer ${CRON_SECRET}`), params("keep-alive"));
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: string }).error).toMatch(/fetch failed|ECONNREFUSED|Unable to connect/i);
  });
});
