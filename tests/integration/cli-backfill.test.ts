import { execFile } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { composeRegistry } from "../../config/app";
import { catalog } from "../../config/products";
import { startQStashServer, type QStashServer } from "../../dev/qstash/server";
import { backfillCommand } from "../../lib/cli/commands/backfill";
import { createCliContext } from "../../lib/cli/context";
import { memoryIo } from "../../lib/cli/io";
import { createDeps } from "../../lib/deps";
import { jobRoute } from "../../lib/http/job-route";
import { defineJob } from "../../lib/jobs/define";
import { createRegistry } from "../../lib/jobs/registry";
import type { RunDeps } from "../../lib/jobs/run";
import { KEYS, ledger, sql, testEnv, uniqueName } from "../support/app";
import { testDatabaseUrl } from "../support/db";
import { serveRoutes } from "../support/http-app";

/**
 * `pnpm job:backfill` as an operator runs it (a process with the app's registry) against a local
 * QStash server that delivers to the real job route over HTTP, on the real ledger.
 */
const JOB = "cleanup-blocked-dates"; // daily at 00:00 UTC; deletes nothing on an empty shop
const DAY = 86_400_000;
const midnight = (daysAgo: number) => new Date(Math.floor(Date.now() / DAY) * DAY - daysAgo * DAY);
const iso = (d: Date) => d.toISOString().slice(0, 10);

let qstash: QStashServer;
let app: Awaited<ReturnType<typeof serveRoutes>>;
let deps: RunDeps;
beforeAll(async () => {
  app = await serveRoutes({ jobs: jobRoute("jobs", async () => deps) });
  qstash = await startQStashServer({ port: 0, currentSigningKey: KEYS.current, nextSigningKey: KEYS.next });
  deps = createDeps(testEnv({ APP_URL: app.url, QSTASH_URL: qstash.url, QSTASH_TOKEN: qstash.token }), composeRegistry(catalog));
});
afterAll(async () => {
  await qstash?.close();
  await app?.close();
  await deps?.db.close();
});

function backfill(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      "pnpm",
      ["exec", "tsx", "scripts/job-backfill.ts", ...args],
      {
        env: { NODE_ENV: "test", PATH: process.env.PATH!, HOME: process.env.HOME ?? "/tmp", APP_ENV: "test", LOG_LEVEL: "silent", DATABASE_URL: testDatabaseUrl(), APP_URL: app.url, QSTASH_URL: qstash.url, QSTASH_TOKEN: qstash.token },
        timeout: 60_000,
      },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const backfillRuns = async () => (await ledger(JOB)).filter((r) => r.trigger === "backfill");
type Out = { status: string; published: number; toRun: number; slots: { slot: string; status: string }[]; messageIds?: string[] };

describe("pnpm job:backfill (spawned)", { timeout: 120_000 }, () => {
  const from = iso(midnight(5));
  const to = iso(midnight(2));
  const slots = [midnight(5), midnight(4), midnight(3)].map((d) => d.toISOString());

  it("--dry-run shows the plan and publishes nothing", async () => {
    const r = await backfill([JOB, "--from", from, "--to", to, "--dry-run"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Backfill ${JOB} ("0 0 * * *" in UTC) from ${from} 00:00 UTC to ${to} 00:00 UTC: 3 slot(s), 0 already ran, 3 to run.`);
    expect(r.stdout).toMatch(/│ 1 │ \d{4}-\d\d-\d\d 00:00 UTC │ to run │/);
    expect(r.stdout).toContain("Dry run: nothing published.");
    expect(Object.keys(qstash.state.messages)).toEqual([]);
  });

  it("a daily job over 3 days makes 3 runs, trigger backfill, one per slot; running it again makes none", async () => {
    const r = await backfill([JOB, "--from", from, "--to", to, "--yes", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Out;
    expect(out).toMatchObject({ status: "published", published: 3, toRun: 3, slots: slots.map((slot) => ({ slot, status: "to run" })) });
    await expect.poll(async () => (await backfillRuns()).filter((x) => x.status === "succeeded").length, { timeout: 20_000 }).toBe(3);
    expect((await backfillRuns()).map((x) => x.slot_at?.toISOString()).sort()).toEqual(slots);

    const again = await backfill([JOB, "--from", from, "--to", to, "--yes", "--json"]);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ status: "nothing", published: 0, toRun: 0, slots: slots.map((slot) => ({ slot, status: "already ran" })) });
    const text = await backfill([JOB, "--from", from, "--to", to]);
    expect(text.stdout).toContain("3 slot(s), 3 already ran, 0 to run.");
    expect(text.stdout).toContain("Nothing to run: every slot in the range already ran.");
    await new Promise((r) => setTimeout(r, 300));
    expect(await backfillRuns()).toHaveLength(3);
  });

  it("a wider range publishes only the slots without a succeeded run", async () => {
    const r = await backfill([JOB, "--from", iso(midnight(6)), "--to", to, "--yes", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: "published", published: 1, toRun: 1 });
    await expect.poll(async () => (await backfillRuns()).filter((x) => x.status === "succeeded").length, { timeout: 20_000 }).toBe(4);
  });

  it("refuses without --yes when there is no terminal, and refuses bad ranges with exit 2", async () => {
    const ask = await backfill([JOB, "--from", iso(midnight(9)), "--to", iso(midnight(8))]);
    expect(ask.code).toBe(1);
    expect(ask.stderr).toContain("error: refusing to publish 1 run(s) without confirmation: there is no terminal to ask. Pass --yes");
    const cases: [string[], RegExp][] = [
      [["no-such-job", "--from", from, "--to", to], /^error: unknown job "no-such-job"\. Scheduled jobs: .*cleanup-blocked-dates/],
      [[JOB, "--from", to, "--to", from], /^error: from \(.*\) must be before to/],
      [[JOB, "--from", "last tuesday", "--to", to], /^error: from "last tuesday" is not a date or an ISO instant/],
      [[JOB, "--from", from, "--to", iso(midnight(-2))], /^error: to \(.*\) is in the future/],
      [[JOB, "--from", iso(midnight(30)), "--to", to, "--max", "10"], /^error: more than 10 slots of "0 0 \* \* \*" \(UTC\).*raise the limit with --max/],
    ];
    for (const [args, error] of cases) {
      const r = await backfill(args);
      expect(r.stderr, args.join(" ")).toMatch(error);
      expect(r.code).toBe(2);
    }
    expect(await backfillRuns()).toHaveLength(4);
  });
});

describe("the backfill plan of a zoned schedule (in process)", () => {
  const job = uniqueName("bf-zoned");
  const event = uniqueName("bf-event");
  const registry = createRegistry(
    [defineJob({ name: job, description: "t", handler: async () => ({}) }), defineJob({ name: event, description: "t", handler: async () => ({}) })],
    [{ job, cron: "CRON_TZ=Europe/Berlin 30 2 * * *" }],
  );
  const cli = () => {
    const io = memoryIo({ columns: 200 });
    const ctx = createCliContext({ env: testEnv({ QSTASH_URL: qstash.url, QSTASH_TOKEN: qstash.token }), registry, io, deps: { ...deps, registry }, now: () => new Date("2027-04-01T00:00:00Z") });
    return { io, ctx };
  };

  it("reads dates in the schedule's zone and lists each slot in UTC and in the zone, across the night the clocks go forward", async () => {
    // 02:30 does not exist in Berlin on 2027-03-28: croner runs it at 03:00 CEST (01:00Z).
    await sql()`insert into job_runs (job, trigger, status, slot_at, started_at, finished_at) values (${job}, 'qstash', 'succeeded', '2027-03-27T01:30:00Z', now(), now())`;
    const { io, ctx } = cli();
    expect(await backfillCommand(ctx, job, { from: "2027-03-27", to: "2027-03-30", dryRun: true })).toBe(0);
    expect(io.stdout()).toContain(`Backfill ${job} ("30 2 * * *" in Europe/Berlin) from 2027-03-26 23:00 UTC to 2027-03-29 22:00 UTC: 3 slot(s), 1 already ran, 2 to run.`);
    expect(io.stdout()).toContain("│ 1 │ 2027-03-27 01:30 UTC │ 2027-03-27 02:30 +01:00 CET  │ already ran │");
    expect(io.stdout()).toContain("│ 2 │ 2027-03-28 01:00 UTC │ 2027-03-28 03:00 +02:00 CEST │ to run      │");
    expect(io.stdout()).toContain("│ 3 │ 2027-03-29 00:30 UTC │ 2027-03-29 02:30 +02:00 CEST │ to run      │");
  });

  it("refuses a job without a schedule, naming why", async () => {
    const { ctx } = cli();
    await expect(backfillCommand(ctx, event, { from: "2027-03-27", to: "2027-03-30" })).rejects.toThrow(`${event} has no schedule, so it has no slots to backfill`);
  });
});
