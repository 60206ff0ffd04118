import postgres from "postgres";

const SECONDS = 4;
const FLUSH_OFF = "perform set_config('synchronous_commit', 'off', true);";

/** Opens and closes plain message runs of one job, `conc` at a time, for SECONDS; the close timed alone. */
async function deliveries(url: string, conc: number): Promise<{ rate: number; closeMedian: number }> {
  const sql = postgres(url, { max: conc, prepare: false, onnotice: () => {} });
  const job = `bench-close-${conc}-${Math.random().toString(36).slice(2, 8)}`;
  const lat: number[] = [];
  const until = performance.now() + SECONDS * 1000;
  try {
    await Promise.all(
      Array.from({ length: conc }, async () => {
        while (performance.now() < until) {
          const [o] = await sql<{ r: { run_id: string } }[]>`select job_run_open(${job}, 'qstash', p_message_id => ${`msg_${Math.random()}`}, p_kind => 'message', p_overlap => 'allow') as r`;
          const t = performance.now();
          await sql`select job_run_close(${o!.r.run_id}::uuid, 'succeeded')`;
          lat.push(performance.now() - t);
        }
      }),
    );
  } finally {
    await sql.end();
  }
  lat.sort((a, b) => a - b);
  return { rate: lat.length / SECONDS, closeMedian: lat[lat.length >> 1] ?? 0 };
}

/**
 * `pnpm bench close-flush`: what decision 008 buys. The working tree's `job_run_close` against the
 * same function with its `synchronous_commit = off` line taken out (defined in the bench database
 * for the measurement, the original put back after), in turns, one at a time and 20 at a time on
 * one job (the closes of one job share its rollup rows).
 */
export async function closeFlushBench(url: string): Promise<string> {
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  const [fn] = await admin<{ def: string }[]>`select pg_get_functiondef('public.job_run_close(uuid, text, jsonb, jsonb)'::regprocedure) as def`;
  const asIs = fn!.def;
  if (!asIs.includes(FLUSH_OFF)) throw new Error("job_run_close does not set synchronous_commit off: nothing to compare");
  const variants = { "flushed (synchronous_commit on)": asIs.replace(FLUSH_OFF, ""), "without flush (working tree)": asIs };
  const rows: string[] = [];
  try {
    for (const round of [1, 2]) {
      for (const [name, def] of Object.entries(variants)) {
        await admin.unsafe(def);
        await admin`vacuum analyze public.job_runs`;
        const one = await deliveries(url, 1);
        const twenty = await deliveries(url, 20);
        rows.push(`| ${name}, round ${round} | ${one.rate.toFixed(0)} | ${one.closeMedian.toFixed(3)} | ${twenty.rate.toFixed(0)} | ${twenty.closeMedian.toFixed(3)} |`);
      }
    }
  } finally {
    await admin.unsafe(asIs);
    await admin.end();
  }
  return [
    `\n## job_run_close with and without its flush (open + close of plain messages of one job, ${SECONDS} s each)`,
    "| close | 1 at a time: deliveries/s | close median (ms) | 20 at a time: deliveries/s | close median (ms) |",
    "|---|---:|---:|---:|---:|",
    ...rows,
  ].join("\n");
}
