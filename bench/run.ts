import { existsSync, readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import postgres from "postgres";
import type { Bench } from "tinybench";
import { migrate } from "../lib/db/migrate";
import { checkoutOf } from "./before";
import { cliBench } from "./cli";
import { closeFlushBench } from "./close-flush";
import { dbPipeliningBench } from "./db-pipelining";
import { deliveriesBench } from "./deliveries";
import { fanOutBench, fanOutReport } from "./fan-out";
import { ledgerBench } from "./ledger";
import { pipelineBench } from "./pipeline";
import { qstashBench, qstashReport } from "./qstash";
import { qstashFlowBench, qstashFlowReport } from "./qstash-flow";
import { settleBench } from "./settle";
import { qstashJournalBench, qstashJournalReport } from "./qstash-journal";
import { runnerBench } from "./runner";

/** `pnpm bench`: each benchmark runs its baseline side by side and reports the ratio. */
const adminUrl = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/**
 * A database of its own, migrated with the production runner, so runs never touch real data.
 * BENCH_DATABASE_NAME gives a checkout a database of its own: two checkouts benching on one server
 * would otherwise migrate and seed the same tables under each other.
 */
async function benchDatabase(name = process.env.BENCH_DATABASE_NAME ?? "cronlayer_bench", migrations = "supabase/migrations"): Promise<string> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  const [exists] = await admin`select 1 from pg_database where datname = ${name}`;
  if (!exists) await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  await migrate(url.toString(), migrations);
  // Fresh tables have no statistics: a new database would be planned worse than an old one.
  const db = postgres(url.toString(), { max: 1, onnotice: () => {} });
  await db`vacuum analyze`;
  await db.end();
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

/**
 * `pnpm bench pipeline --before <git ref>`: the pipeline of that commit and of the working tree, each
 * on a database migrated with its own migrations, in turns (before, after, after, before) so that
 * whatever else the machine does weighs on both alike.
 */
async function pipelineBeforeAfter(ref: string) {
  const before = checkoutOf(ref);
  const beforeDb = await benchDatabase(`cronlayer_bench_${before.sha}`, path.join(before.dir, "supabase/migrations"));
  const old = (await import(pathToFileURL(path.join(before.dir, "bench/pipeline.ts")).href)) as { pipelineBench: typeof pipelineBench };
  const rows: { name: string; floor: number; verify: number; pipeline: number; p99: number; ledgerFloor?: number }[] = [];
  const sides = [[`before (${before.sha})`, () => old.pipelineBench(beforeDb)], ["after (working tree)", () => pipelineBench(db)]] as const;
  // With one side always first, the same pipeline gave 1.34-1.90x first and 1.05-1.24x second
  // (two runs, 2026-12-07): the sides take turns going first.
  for (const round of [1, 2]) {
    for (const [name, run] of round % 2 ? sides : [...sides].reverse()) {
      const mean = (b: Bench, i: number) => (b.tasks[i]!.result as unknown as { latency: { mean: number; p99: number } }).latency;
      const b = await run();
      rows.push({ name: `${name}, round ${round}`, floor: mean(b, 0).mean, verify: mean(b, 1).mean, pipeline: mean(b, 2).mean, p99: mean(b, 2).p99, ledgerFloor: b.tasks[3] ? mean(b, 3).mean : undefined });
    }
  }
  console.log("\n## Pipeline per delivery, before and after, side by side (local PostgreSQL)");
  console.log("| code | no pipeline (ms) | verify only (ms) | pipeline mean (ms) | pipeline p99 (ms) | floor: verify + two committed writes (ms) | pipeline / floor |\n|---|---:|---:|---:|---:|---:|---:|");
  for (const r of rows) console.log(`| ${r.name} | ${r.floor.toFixed(3)} | ${r.verify.toFixed(3)} | ${r.pipeline.toFixed(3)} | ${r.p99.toFixed(3)} | ${r.ledgerFloor?.toFixed(3) ?? "-"} | ${r.ledgerFloor ? `${(r.pipeline / r.ledgerFloor).toFixed(2)}x` : "-"} |`);
  const avg = (pick: (r: (typeof rows)[number]) => boolean, of: (r: (typeof rows)[number]) => number | undefined = (r) => r.pipeline) => {
    const xs = rows.filter(pick).flatMap((r) => of(r) ?? []);
    return xs.reduce((a, b) => a + b, 0) / xs.length;
  };
  const isBefore = (r: (typeof rows)[number]) => r.name.startsWith("before"), isAfter = (r: (typeof rows)[number]) => r.name.startsWith("after");
  const b = avg(isBefore), a = avg(isAfter);
  console.log(`- after / before, pipeline mean over both rounds: ${(a / b).toFixed(2)} (${b.toFixed(3)} ms -> ${a.toFixed(3)} ms)`);
  const fb = avg(isBefore, (r) => r.ledgerFloor), fa = avg(isAfter, (r) => r.ledgerFloor);
  if (fb && fa) console.log(`- pipeline / floor, each against the floor timed in its own turns: before ${(b / fb).toFixed(2)}x, after ${(a / fa).toFixed(2)}x`);
}

async function productBenches(): Promise<{ name: string; run(db: string): Promise<string> }[]> {
  const root = path.join(import.meta.dirname, "..", "products");
  const files = readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(root, d.name, "bench")))
    .flatMap((d) => readdirSync(path.join(root, d.name, "bench")).filter((f) => f.endsWith(".ts")).map((f) => path.join(root, d.name, "bench", f)));
  const mods = await Promise.all(files.map((f) => import(pathToFileURL(f).href) as Promise<{ bench?: { name: string; run(db: string): Promise<string> } }>));
  return mods.flatMap((m) => (m.bench ? [m.bench] : []));
}

const { values: flags, positionals } = parseArgs({ allowPositionals: true, options: { before: { type: "string" }, "reuse-build": { type: "boolean" } } });
const only = positionals[0];
if (only === "cli") {
  console.log(cliBench(flags.before));
  process.exit(0);
}
// Needs no database: the bundle's build and the runner's start-up, bundled and from the sources.
if (only === "runner") {
  console.log(await runnerBench());
  process.exit(0);
}
// Needs no database: the local QStash server's state file against its journal.
if (only === "qstash-journal") {
  console.log(qstashJournalReport(await qstashJournalBench(flags.before)));
  process.exit(0);
}
// Needs no database: 100,000 messages held under flow control (a few minutes with --before).
if (only === "qstash-flow") {
  console.log(qstashFlowReport(await qstashFlowBench(flags.before)));
  process.exit(0);
}
// Seeds databases of its own (10 million runs: minutes), so it runs only when named.
if (only === "ledger") {
  console.log(await ledgerBench(adminUrl, (s) => console.error(s)));
  process.exit(0);
}
const db = await benchDatabase();
if (only === "db-pipelining") {
  console.log(await dbPipeliningBench(await benchDatabase()));
  process.exit(0);
}
if (only === "close-flush") {
  console.log(await closeFlushBench(await benchDatabase()));
  process.exit(0);
}
if (only === "settle") {
  console.log(await settleBench(benchDatabase, flags.before));
  process.exit(0);
}
// Builds the app (and with --before that commit's) and serves it with `next start`: minutes.
if (!only || only === "deliveries") console.log(await deliveriesBench(benchDatabase, { before: flags.before, reuseBuild: flags["reuse-build"] ?? false }));
if ((!only || only === "pipeline") && flags.before) await pipelineBeforeAfter(flags.before);
else if (!only || only === "pipeline") report("Pipeline overhead per delivery (local PostgreSQL)", await pipelineBench(db));
if (!only || only === "qstash") console.log(qstashReport(await qstashBench()));
if (!only || only === "fan-out") console.log(fanOutReport(await fanOutBench()));
// The products' own benches (products/<name>/bench/*.ts, each exporting `bench`), found on disk so
// the bench runner names no product and a removed product takes its benches with it.
for (const b of await productBenches()) if (!only || only === b.name) console.log(await b.run(db));
