import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { statsCommand } from "../../lib/cli/commands/stats";
import { createCliContext } from "../../lib/cli/context";
import { UsageError } from "../../lib/cli/errors";
import { memoryIo } from "../../lib/cli/io";
import type { StatsReport } from "../../lib/cli/stats";
import { defineJob } from "../../lib/jobs/define";
import { createRegistry } from "../../lib/jobs/registry";
import { createE2eDatabase, type E2eDatabase } from "../e2e/support";
import { sql, testEnv, uniqueName } from "../support/app";
import { testDatabaseUrl } from "../support/db";

const a = uniqueName("stats-a");
const b = uniqueName("stats-b");
const registry = createRegistry(
  [defineJob({ name: a, description: "t", handler: async () => ({}) }), defineJob({ name: b, description: "t", handler: async () => ({}) })],
  [{ job: a, cron: "*/15 * * * *" }],
);
const NOW = new Date("2026-01-10T12:01:00Z");
const at = (hhmm: string) => new Date(`2026-01-10T${hhmm}:00Z`);

let qstashDown: string;
beforeAll(async () => {
  // Rows at fixed past times, so the window holds exactly these (other tests write at the real now).
  const rows = [
    [a, "qstash", "succeeded", "10:15", "10:15", 100, 1000],
    [a, "qstash", "succeeded", "10:30", "10:30", 200, 2000],
    [a, "qstash", "failed", "10:45", "10:45", 400, 3000],
    [a, "qstash", "skipped", "11:00", "11:00", 0, 500],
    [a, "qstash", "duplicate", "11:00", "11:01", 0, null],
    [a, "qstash", "succeeded", "11:15", "11:15", 300, 1500],
    [a, "cli", "succeeded", null, "11:20", 1000, null],
    [a, "qstash", "succeeded", "09:00", "09:00", 5000, 9000], // before the window
    [b, "cli", "failed", null, "11:50", 50, null],
  ] as const;
  for (const [job, trigger, status, slot, start, dur, lag] of rows) {
    const error = status === "failed" ? { name: "Error", message: `${job} broke` } : null;
    await sql()`insert into job_runs (job, trigger, status, slot_at, started_at, finished_at, duration_ms, lag_ms, error)
      values (${job}, ${trigger}, ${status}, ${slot ? at(slot) : null}, ${at(start)}, ${at(start)}, ${dur}, ${lag}, ${error ? sql().json(error) : null})`;
  }
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  qstashDown = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  await new Promise((r) => s.close(r));
});
const contexts: ReturnType<typeof createCliContext>[] = [];
afterAll(async () => {
  for (const c of contexts) await c.close();
});
function cli() {
  const io = memoryIo();
  const ctx = createCliContext({ env: testEnv({ QSTASH_URL: qstashDown }), registry, io, now: () => NOW });
  contexts.push(ctx);
  return { ctx, io };
}

describe("pnpm qstash:stats from the ledger", () => {
  it("aggregates per job over the window: outcomes, success rate, percentiles, lag, last run, missed ticks", async () => {
    const { ctx, io } = cli();
    expect(await statsCommand(ctx, { since: "2h", job: [a, b], json: true })).toBe(0);
    const report = JSON.parse(io.stdout()) as StatsReport;
    expect(report.since).toBe("2026-01-10T10:01:00.000Z");
    expect(report.rows).toEqual([
      {
        job: a,
        cron: "*/15 * * * *",
        runs: 7,
        succeeded: 4,
        failed: 1,
        skipped: 1,
        duplicates: 1,
        running: 0,
        success_rate: 0.8,
        p50_ms: 300, // of 100, 200, 300, 400, 1000 (skips and duplicates do no work)
        p95_ms: 880,
        p95_lag_ms: 2800, // of 500, 1000, 1500, 2000, 3000
        last_run_at: "2026-01-10T11:20:00+00:00",
        last_status: "succeeded",
        last_error: null,
        expected_slots: 7, // 10:15 .. 11:45; 12:00 is within the 5-minute grace
        missed: 2,
        missed_recent: ["2026-01-10T11:45:00+00:00", "2026-01-10T11:30:00+00:00"],
        dlq: "unavailable",
        notes: [],
      },
      expect.objectContaining({ job: b, runs: 1, failed: 1, success_rate: 0, expected_slots: null, missed: null, last_status: "failed", last_error: { name: "Error", message: `${b} broke` }, cron: null }),
    ]);
    expect(report.qstash).toEqual({ ok: false, error: expect.stringMatching(/QStash at http:\/\/127\.0\.0\.1:\d+ is not reachable \(ECONNREFUSED\)/) });
  });

  it("prints a table and still answers when QStash is down (DLQ: unavailable)", async () => {
    const { ctx, io } = cli();
    expect(await statsCommand(ctx, { since: "2h", job: [a] })).toBe(0);
    const out = io.stdout();
    expect(out).toContain("Runs from 2026-01-10 10:01 UTC to 2026-01-10 12:01 UTC (--since 2h)");
    expect(out).toMatch(new RegExp(`│ ${a} +│ 7 +│ 4/1 +│ 1/1 +│ 80\\.0% +│ 300 ms +│ 2\\.8 s +│ 01-10 11:20 +│ 2 +│ n/a +│\\n│ +│ +│ +│ +│ +│ 880 ms +│ +│ succeeded +│`));
    expect(out).toContain(`${a}: 2 of 7 expected tick(s) had no run; latest: 2026-01-10 11:45 UTC, 2026-01-10 11:30 UTC`);
    expect(io.stderr()).toMatch(/^warning: DLQ counts and schedule start times unavailable: QStash at .* is not reachable/);
  });

  it("rejects a window it cannot read", async () => {
    await expect(statsCommand(cli().ctx, { since: "yesterday" })).rejects.toThrow(UsageError);
  });
});

describe("pnpm qstash:stats on a new deployment", () => {
  const cron = uniqueName("stats-vercel");
  const vercelRegistry = createRegistry([defineJob({ name: cron, description: "t", handler: async () => ({}) })], [{ job: cron, cron: "0 6 * * *", via: "vercel" }]);
  let fresh: E2eDatabase;
  beforeAll(async () => {
    fresh = await createE2eDatabase(testDatabaseUrl(), "cronlayer_stats_new_stack");
  });
  afterAll(async () => {
    await fresh?.drop();
  });
  const stats = async () => {
    const io = memoryIo();
    const ctx = createCliContext({ env: testEnv({ QSTASH_URL: qstashDown, DATABASE_URL: fresh.url }), registry: vercelRegistry, io, now: () => NOW });
    contexts.push(ctx);
    expect(await statsCommand(ctx, { since: "24h", json: true })).toBe(0);
    return (JSON.parse(io.stdout()) as StatsReport).rows.find((r) => r.job === cron);
  };

  it("counts a Vercel cron's ticks only from the deployment's first run, so a new stack has nothing missed", async () => {
    expect(await stats()).toMatchObject({ expected_slots: 0, missed: 0, notes: [expect.stringMatching(/no run of any job recorded yet/)] });
    // The stack began at 09:00 (its first heartbeat): the 06:00 tick that day was never going to run.
    await fresh.sql`insert into job_runs (job, trigger, status, started_at, finished_at) values ('heartbeat', 'qstash', 'succeeded', ${at("09:00")}, ${at("09:00")})`;
    expect(await stats()).toMatchObject({ expected_slots: 0, missed: 0, notes: [] });
    // A deployment that ran the day before did expect it.
    await fresh.sql`insert into job_runs (job, trigger, status, started_at, finished_at) values ('heartbeat', 'qstash', 'succeeded', ${new Date(at("09:00").getTime() - 86_400_000)}, ${at("09:00")})`;
    expect(await stats()).toMatchObject({ expected_slots: 1, missed: 1, missed_recent: ["2026-01-10T06:00:00+00:00"] });
  });
});
