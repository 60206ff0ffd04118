import { randomUUID } from "node:crypto";
import { Client } from "@upstash/qstash";
import postgres from "postgres";
import { startQStashServer } from "../dev/qstash/server";
import { signDelivery } from "../dev/qstash/sign";
import { createRetention } from "../jobs/system/retention";
import { createDeps } from "../lib/deps";
import { loadEnv } from "../lib/env";
import { jobRoute } from "../lib/http/job-route";
import { defineJob } from "../lib/jobs/define";
import { createRegistry } from "../lib/jobs/registry";
import { runJob } from "../lib/jobs/run";
import { jobRuns, jobsTable, missedSlots } from "../lib/ops/jobs";
import { runDetail } from "../lib/ops/run";
import { metricsRoute } from "../lib/ops/metrics-route";
import { FANOUT, SCHEDULED, seedLedger } from "./ledger-seed";

const APP = "https://bench.example.test";
const KEY = "sig_bench_current_key_000000";
const SECRET = "bench-cron-secret-0123456789";
const DAY = 86_400_000;

interface Timing { mean: number; p95: number; max: number; n: number }
/** The every-5-minutes slots of the last 7 days, as the console's missed-slot check passes them. */
const fiveMinuteSlots = () => {
  const last = Math.floor((Date.now() - 5 * 60_000) / 300_000) * 300_000;
  return Array.from({ length: 2016 }, (_, i) => new Date(last - i * 300_000).toISOString());
};
const timing = (xs: number[]): Timing => {
  const s = [...xs].sort((a, b) => a - b);
  return { mean: s.reduce((a, b) => a + b, 0) / s.length, p95: s[Math.min(s.length - 1, Math.floor(s.length * 0.95))]!, max: s.at(-1)!, n: s.length };
};
async function times(n: number, f: () => Promise<unknown>): Promise<number[]> {
  await f(); // warm: the first call pays for plans and connections
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await f();
    xs.push(performance.now() - t);
  }
  return xs;
}

/** One database of the bench: the app's deps on it, the measured reads and a delivery. */
function stackOn(url: string, qstashUrl: string, token: string) {
  const env = loadEnv({ APP_ENV: "test", APP_URL: APP, QSTASH_URL: qstashUrl, QSTASH_TOKEN: token, QSTASH_CURRENT_SIGNING_KEY: KEY, QSTASH_NEXT_SIGNING_KEY: "sig_bench_next_key_00000000", DATABASE_URL: url, CRON_SECRET: SECRET, LOG_LEVEL: "silent", EFFECTS_RETENTION_DAYS: "10000" });
  const jobs = [defineJob({ name: FANOUT, description: "fan-out", overlap: "allow", handler: async () => ({}) }), ...SCHEDULED.map((name) => defineJob({ name, description: "every 5 min", handler: async () => ({}) }))];
  const deps = createDeps(env, createRegistry(jobs, SCHEDULED.map((job) => ({ job, cron: "*/5 * * * *" }))));
  const client = new Client({ baseUrl: qstashUrl, token, retry: false, enableTelemetry: false });
  const route = jobRoute("jobs", async () => deps);
  const metrics = metricsRoute(async () => deps);
  const deliver = async () => {
    const url = `${APP}/api/jobs/${FANOUT}`;
    const body = JSON.stringify({ id: randomUUID() });
    const req = new Request(`http://127.0.0.1/api/jobs/${FANOUT}`, { method: "POST", body, headers: { "upstash-signature": signDelivery({ url, body, key: KEY }), "upstash-message-id": `msg_${randomUUID()}`, "content-type": "application/json" } });
    const t = performance.now();
    const res = await route.POST(req, { params: Promise.resolve({ job: FANOUT }) });
    if (res.status !== 200) throw new Error(`delivery answered ${res.status}: ${await res.text()}`);
    return performance.now() - t;
  };
  const reads: Record<string, () => Promise<unknown>> = {
    "/api/metrics": async () => {
      const res = await metrics.GET(new Request("http://127.0.0.1/api/metrics", { headers: { authorization: `Bearer ${SECRET}` } }));
      if (res.status !== 200) throw new Error(`metrics answered ${res.status}`);
      return res.text();
    },
    "/ops (jobs table)": () => jobsTable(deps, client, new Date()),
    "/ops/jobs/<every-5> (runs + missed slots)": () => Promise.all([jobRuns(deps, SCHEDULED[0]!, {}), missedSlots(deps, client, SCHEDULED[0]!, new Date())]),
    // The same page's SQL alone: the rest of it is computing 2,016 cron ticks (croner), whatever the ledger's size.
    "  of which job_stats (missed slots' SQL)": () => deps.db.rpc("job_stats", { p_since: new Date(Date.now() - 7 * DAY), p_until: new Date(), p_expected: [{ job: SCHEDULED[0], slots: fiveMinuteSlots() }], p_jobs: [SCHEDULED[0]] }),
    "/ops/jobs/<fan-out> (runs)": () => jobRuns(deps, FANOUT, {}),
    "/ops/jobs/<fan-out>?status=failed": () => jobRuns(deps, FANOUT, { status: "failed" }),
    "/ops/runs/<id> (fan-out)": async () => runDetail(deps, String((await jobRuns(deps, FANOUT, {}, 1))[0]!.id)),
  };
  return { deps, env, reads, deliver };
}

async function database(adminUrl: string, name: string, runs: number, log: (s: string) => void): Promise<string> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const [exists] = await admin`select 1 from pg_database where datname = ${name}`;
  let seeded = false;
  if (exists && process.env.BENCH_LEDGER_KEEP) {
    const db = postgres(url.toString(), { max: 1, onnotice: () => {} });
    const marker = await db`select 1 from pg_tables where tablename = 'bench_seed'`;
    seeded = marker.length > 0 && (await db`select runs from bench_seed`).some((r) => Number(r.runs) === runs);
    await db.end();
  }
  if (!seeded) {
    if (exists) await admin.unsafe(`drop database ${name} with (force)`);
    await admin.unsafe(`create database ${name}`);
  }
  await admin.end();
  if (!seeded) {
    const { migrate } = await import("../lib/db/migrate");
    await migrate(url.toString(), "supabase/migrations");
    const t = Date.now();
    log(`seeding ${runs.toLocaleString("en-US")} runs and effects into ${name}`);
    await seedLedger(url.toString(), runs, new Date(), log);
    log(`  seeded in ${((Date.now() - t) / 1000).toFixed(0)} s`);
    const db = postgres(url.toString(), { max: 1, onnotice: () => {} });
    await db`create table bench_seed as select ${runs}::bigint as runs`;
    await db.end();
  } else log(`reusing ${name} (BENCH_LEDGER_KEEP)`);
  return url.toString();
}

/**
 * `pnpm bench ledger`: the console's reads, /api/metrics and a delivery on a ledger of 10,000 runs
 * and one of 10 million (BENCH_LEDGER_RUNS), in turns; then the retention job deleting 1 million
 * runs (a tenth of a smaller ledger) while deliveries go on, against deliveries without it.
 */
export async function ledgerBench(adminUrl: string, log: (s: string) => void): Promise<string> {
  const big = Number(process.env.BENCH_LEDGER_RUNS ?? 10_000_000);
  const sizes = [10_000, big];
  const urls = [];
  for (const n of sizes) urls.push(await database(adminUrl, `cronlayer_bench_ledger_${n}`, n, log));
  const qstash = await startQStashServer({ port: 0 });
  const stacks = urls.map((u) => stackOn(u, qstash.url, qstash.token));
  const out: string[] = [];
  try {
    const results = stacks.map(() => new Map<string, number[]>());
    for (let round = 0; round < 2; round++) {
      for (const [i, s] of stacks.entries()) {
        for (const [name, f] of Object.entries(s.reads)) results[i]!.set(name, [...(results[i]!.get(name) ?? []), ...(await times(10, f))]);
      }
    }
    // Deliveries of the fan-out job (the one with 90 % of the runs), in ten turns of 100 per ledger.
    const delivery = "delivery of the fan-out job (verify + open + close), 10 turns of 100";
    for (const s of stacks) for (let k = 0; k < 50; k++) await s.deliver();
    for (let round = 0; round < 10; round++) {
      for (const [i, s] of stacks.entries()) {
        const d: number[] = [];
        for (let k = 0; k < 100; k++) d.push(await s.deliver());
        results[i]!.set(delivery, [...(results[i]!.get(delivery) ?? []), ...d]);
      }
    }
    const [a, b] = sizes.map((n) => n.toLocaleString("en-US"));
    out.push(`\n## The ledger at ${b} runs against ${a} (local PostgreSQL)`);
    out.push(`| read | ${a} runs: mean (p95) ms | ${b} runs: mean (p95) ms | ratio of means |\n|---|---:|---:|---:|`);
    for (const name of results[0]!.keys()) {
      const [x, y] = results.map((r) => timing(r.get(name)!));
      out.push(`| ${name} | ${x!.mean.toFixed(1)} (${x!.p95.toFixed(1)}) | ${y!.mean.toFixed(1)} (${y!.p95.toFixed(1)}) | ${(y!.mean / x!.mean).toFixed(2)} |`);
    }
    out.push(...(await retentionUnderLoad(stacks[1]!, urls[1]!, Math.min(1_000_000, Math.floor(big / 10)))));
  } finally {
    for (const s of stacks) await s.deps.db.close();
    await qstash.close();
    if (!process.env.BENCH_LEDGER_KEEP) {
      const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
      for (const n of sizes) await admin.unsafe(`drop database if exists cronlayer_bench_ledger_${n} with (force)`);
      await admin.end();
    }
  }
  return out.join("\n");
}

/**
 * Deliveries alone for a minute, then the same while the retention job deletes the `expire` oldest
 * runs: it runs again as long as it says there is more, as its hourly schedule would.
 */
async function retentionUnderLoad(s: ReturnType<typeof stackOn>, url: string, expire: number): Promise<string[]> {
  const db = postgres(url, { max: 1, onnotice: () => {} });
  const [cut] = await db<{ at: Date }[]>`select started_at as at from job_runs order by started_at offset ${expire} limit 1`;
  await db`drop table if exists bench_seed`; // the ledger is no longer the seeded one
  await db.end();
  // The job's own cutoff (RUNS_RETENTION_DAYS = 90 by default), on a clock 90 days after the cut.
  const rdeps = { ...createDeps(s.env, createRegistry([createRetention()], [])), clock: () => new Date(cut!.at.getTime() + s.env.retention.runsDays * DAY) };
  const alone: number[] = [];
  for (const end = Date.now() + 60_000; Date.now() < end; ) alone.push(await s.deliver());
  const during: number[] = [];
  const t = performance.now();
  let done = false;
  const runs: { deleted: number; batches: number; more?: true }[] = [];
  const pruning = (async () => {
    for (;;) {
      const r = (await runJob({ job: "retention", payload: {}, trigger: "cli" }, rdeps)) as unknown as { status: string; stats?: Record<string, { deleted: number; batches: number; more?: true }>; error?: unknown };
      if (!r.stats) throw new Error(`retention run ${r.status}: ${JSON.stringify(r.error ?? r)}`);
      runs.push(r.stats.job_runs!);
      if (!r.stats.job_runs!.more) return;
    }
  })().finally(() => void (done = true));
  while (!done) during.push(await s.deliver());
  await pruning;
  const seconds = (performance.now() - t) / 1000;
  const again = (await runJob({ job: "retention", payload: {}, trigger: "cli" }, rdeps)) as unknown as { stats: Record<string, { deleted: number }> };
  await rdeps.db.close();
  const deleted = runs.reduce((n, r) => n + r.deleted, 0);
  const batches = runs.reduce((n, r) => n + r.batches, 0);
  const row = (name: string, xs: number[]) => {
    const q = (p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
    return `| ${name} | ${xs.length} | ${(xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(1)} | ${q(0.5).toFixed(1)} | ${q(0.99).toFixed(1)} | ${q(0.999).toFixed(1)} | ${Math.max(...xs).toFixed(1)} |`;
  };
  return [
    `\n## Retention of ${expire.toLocaleString("en-US")} runs while deliveries go on`,
    `The retention job deleted ${deleted.toLocaleString("en-US")} runs in ${batches} batches over ${runs.length} run(s) of the job, ${seconds.toFixed(0)} s; run again, it deleted ${again.stats.job_runs!.deleted}.`,
    `| deliveries (one at a time) | n | mean (ms) | p50 | p99 | p99.9 | max |\n|---|---:|---:|---:|---:|---:|---:|`,
    row("alone, 60 s", alone),
    row("during retention", during),
  ];
}
