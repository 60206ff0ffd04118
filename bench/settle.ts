import { randomUUID } from "node:crypto";
import path from "node:path";
import postgres from "postgres";
import { checkoutOf } from "./before";

const CLAIMS = Number(process.env.BENCH_SETTLE_CLAIMS ?? 100_000);
const PAGE = 400;
const EDGE = 10; // pages averaged at each end of the run

interface Side {
  name: string;
  first: number;
  last: number;
  total: number;
}

/**
 * One run claims CLAIMS effects page by page (effects_claim) and settles each page as it goes
 * (effects_finish, every outcome succeeded), as the reminder jobs do, from a vacuumed effects
 * table; each settle is timed around the call, on one connection, with nothing else on that database.
 */
async function oneRun(url: string, name: string): Promise<Side> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const job = `bench-settle-${randomUUID().slice(0, 8)}`;
  const run = randomUUID();
  const now = new Date();
  const times: number[] = [];
  try {
    // Both start alike: no dead claim versions left by earlier runs (autovacuum may be off).
    await sql.unsafe("vacuum analyze public.effects");
    for (let p = 0; p < CLAIMS / PAGE; p++) {
      const items = Array.from({ length: PAGE }, (_, i) => ({ key: `${job}:${p}:${i}`, subject: `s${i}` }));
      await sql`select effects_claim(${job}, ${run}::uuid, ${now}, 600000, ${sql.json(items)}::jsonb)`;
      const results = items.map((it) => ({ key: it.key, outcome: "succeeded" }));
      const t = performance.now();
      const [row] = await sql<{ r: Record<string, number> }[]>`select effects_finish(${run}::uuid, ${now}, ${sql.json(results)}::jsonb) as r`;
      times.push(performance.now() - t);
      if (row!.r.succeeded !== PAGE) throw new Error(`${name}: page ${p} settled ${JSON.stringify(row!.r)}, not ${PAGE} succeeded`);
    }
  } finally {
    await sql.end();
  }
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { name, first: avg(times.slice(0, EDGE)), last: avg(times.slice(-EDGE)), total: times.reduce((a, b) => a + b, 0) };
}

/**
 * `pnpm bench settle --before <ref>`: a page's settle at the start and at the end of a run of
 * CLAIMS claims, with that commit's SQL and with the working tree's, each on a database migrated
 * with its own migrations, in turns (before, after, before, after).
 */
export async function settleBench(database: (name?: string, migrations?: string) => Promise<string>, ref = "HEAD"): Promise<string> {
  const b = checkoutOf(ref);
  const sides = [
    { name: `before (${b.sha})`, url: await database(`cronlayer_bench_${b.sha}`, path.join(b.dir, "supabase/migrations")) },
    { name: "after (working tree)", url: await database() },
  ];
  const rows: string[] = [];
  for (const round of [1, 2]) {
    for (const s of sides) {
      const r = await oneRun(s.url, s.name);
      rows.push(`| ${r.name}, round ${round} | ${r.first.toFixed(2)} | ${r.last.toFixed(2)} | ${(r.last / r.first).toFixed(2)}x | ${(r.total / 1000).toFixed(1)} |`);
    }
  }
  return [
    `\n## Settling pages of ${PAGE} through a run of ${CLAIMS} claims (effects_finish)`,
    `| code | first ${EDGE} pages, mean (ms) | last ${EDGE} pages, mean (ms) | last / first | all settles (s) |`,
    "|---|---:|---:|---:|---:|",
    ...rows,
  ].join("\n");
}
