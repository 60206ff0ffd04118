import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { campaignJobs } from "../jobs";
import { campaignsStatsCommand } from "../cli/stats";
import { createCliContext } from "@/lib/cli/context";
import { memoryIo } from "@/lib/cli/io";
import { diagnosticsRoute } from "@/lib/http/diagnostics-route";
import { createRegistry } from "@/lib/jobs/registry";
import { createDeps } from "@/lib/deps";
import { bearerRequest, CRON_SECRET, sql, testEnv } from "../../../tests/support/app";
import { registryOf } from "../../../tests/support/registry";
import campaigns from "../index";

/**
 * The stats are read from rows made by the state functions themselves (plan, start, finish,
 * timeout), with times chosen so every number is known: lags 0, 30 s, 90 s, 120 s (median 60 s).
 */
const at = (s: number) => new Date(Date.parse("2027-01-11T09:00:00Z") + s * 1000);
let id: string;
// The registry of a deployment that runs campaigns: its diagnostics section (?campaign=) comes with the product.
const deps = createDeps(testEnv(), registryOf(campaigns));
beforeAll(async () => {
  const c = await deps.db.rpc<{ id: string }>("campaign_create", {
    p_name: "stats",
    p_zone: "UTC",
    p_hours: { start: "09:00", end: "17:00", days: [1, 2, 3, 4, 5] },
    p_nodes: [{ id: "n", type: "wait", config: { seconds: 0 } }],
    p_now: at(-60),
  });
  id = c.id;
  const step = async (user: string, lag: number, outcome: "COMPLETED" | "FAILED" | "TIMEOUT", error?: string) => {
    const ids = { p_campaign_id: id, p_node_id: "n", p_product_user_id: user };
    await deps.db.rpc("campaign_run_plan", { ...ids, p_user_id: user, p_run_at: at(0), p_timeout_at: at(600), p_now: at(-60) });
    if (outcome === "TIMEOUT") return deps.db.rpc("campaign_run_timeout", { ...ids, p_attempt: 0, p_message_id: "m", p_now: at(600) });
    const started = await deps.db.rpc<{ run: { id: string } }>("campaign_run_start", { ...ids, p_attempt: 0, p_message_id: "m", p_now: at(lag) });
    await deps.db.rpc("campaign_run_finish", {
      p_run_id: started.run.id, p_state: outcome, p_attempt: 0, p_message_id: "m", p_result: null, p_error_type: error ?? null, p_error: error ? "boom" : null, p_now: at(lag + 1),
    });
  };
  await step("a", 0, "COMPLETED");
  await step("b", 30, "FAILED", "ProviderError");
  await step("c", 90, "FAILED", "NonRetryableError");
  await step("d", 120, "COMPLETED");
  await step("e", 0, "TIMEOUT");
});
afterAll(() => deps.db.close());

const expected = () => ({
  campaignId: id,
  name: "stats",
  runs: 5,
  states: { PENDING: 0, RUNNING: 0, COMPLETED: 2, FAILED: 2, TIMEOUT: 1, CANCELLED: 0 },
  attempts: 4,
  failures: [
    { type: "NonRetryableError", count: 1, rate: 0.25 },
    { type: "ProviderError", count: 1, rate: 0.25 },
  ],
  medianLagMs: 60_000,
});

describe("campaign monitoring", () => {
  it("pnpm campaigns:stats prints the counts, failure rates and median lag, and --json the same numbers", async () => {
    const io = memoryIo({ columns: 200 });
    const ctx = createCliContext({ env: testEnv(), registry: createRegistry(campaignJobs, []), io, deps });
    expect(await campaignsStatsCommand(ctx, { campaign: id, json: true })).toBe(0);
    expect(JSON.parse(io.stdout())).toEqual([expected()]);

    const table = memoryIo({ columns: 200 });
    expect(await campaignsStatsCommand(createCliContext({ env: testEnv(), registry: createRegistry(campaignJobs, []), io: table, deps }), { campaign: id })).toBe(0);
    expect(table.stdout()).toContain("NonRetryableError 1 (25.0%)");
    expect(table.stdout()).toContain("1m 0s");
    await expect(campaignsStatsCommand(ctx, { campaign: "nope" })).rejects.toThrow('--campaign must be a campaign id (a UUID), got "nope"');
  });

  it("diagnostics answer ?campaign=<id> with the same stats, behind the Bearer secret", async () => {
    const { GET } = diagnosticsRoute(async () => deps);
    const ok = await GET(bearerRequest(`/api/diagnostics?campaign=${id}`, `Bearer ${CRON_SECRET}`));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ campaigns: [expected()] });
    expect((await GET(bearerRequest("/api/diagnostics?campaign=x", `Bearer ${CRON_SECRET}`))).status).toBe(400);
    expect((await GET(bearerRequest(`/api/diagnostics?campaign=${id}`, "Bearer wrong-secret-0123456789"))).status).toBe(401);
    const rows = await sql()`select count(*)::int as n from campaign_node_events e join campaign_node_runs r on r.id = e.run_id where r.campaign_id = ${id}`;
    expect(rows[0]!.n).toBe(5 + 4 + 4 + 1);
  });
});
