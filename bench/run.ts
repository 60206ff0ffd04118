import os from "node:os";
import postgres from "postgres";
import type { Bench } from "tinybench";
import { migrate } from "../lib/db/migrate";
import { pipelineBench } from "./pipeline";
import { qstashBench, qstashReport } from "./qstash";
import { remindersBench, type RemindersResult } from "./reminders";

/** `pnpm bench`: each benchmark runs its baseline side by side and reports the ratio. */
const adminUrl = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** A database of its own, migrated with the production runner, so runs never touch real data. */
async function benchDatabase(): Promise<string> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  const [exists] = await admin`select 1 from pg_database where datname = 'cronlayer_bench'`;
  if (!exists) await admin.unsafe("create database cronlayer_bench");
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = "/cronlayer_bench";
  await migrate(url.toString(), "supabase/migrations");
  return url.toString();
}

function report(title: string, bench: Bench) {
  console.log(`\n## ${title}`);
  console.log("| task | mean (ms) | p99 (ms) | ops/s | samples |\n|---|---:|---:|---:|---:|");
  const rows = bench.tasks.map((t) => {
    const r = t.result as unknown as { latency: { mean: number; p99: number }; throughput: { mean: number }; latency_samples?: number };
    const lat = r.latency;
    console.log(`| ${t.name} | ${lat.mean.toFixed(3)} | ${lat.p99.toFixed(3)} | ${r.throughput.mean.toFixed(0)} | ${(t.result as unknown as { latency: { samplesCount: number } }).latency.samplesCount} |`);
    return lat.mean;
  });
  const base = rows[0]!;
  for (const [i, t] of bench.tasks.entries()) if (i > 0) console.log(`- ${t.name}: ${(rows[i]! / base).toFixed(1)}x the baseline's mean latency`);
}

console.log(`# cronlayer benchmarks — ${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${os.cpus().length} cores`);

function reportReminders(r: RemindersResult) {
  console.log(`\n## 24 h reminders on ${r.appointments.toLocaleString("en-US")} appointments (local PostgreSQL, no-op provider sink)`);
  console.log("| approach | reminders | seconds | reminders/s | peak live heap (MB) | statements |\n|---|---:|---:|---:|---:|---|");
  for (const x of r.rows) console.log(`| ${x.name} | ${x.reminders} | ${x.seconds.toFixed(1)} | ${x.perSecond.toFixed(0)} | ${x.peakHeapMb.toFixed(1)} | ${x.statements} |`);
  const [base, job] = r.rows;
  if (base && job) console.log(`- the job: ${(job.perSecond / base.perSecond).toFixed(1)}x the baseline's reminders per second`);
}

const only = process.argv[2];
const db = await benchDatabase();
if (!only || only === "pipeline") report("Pipeline overhead per delivery (local PostgreSQL)", await pipelineBench(db));
if (!only || only === "reminders") reportReminders(await remindersBench(db));
if (!only || only === "qstash") console.log(qstashReport(await qstashBench()));
