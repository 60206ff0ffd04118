import postgres from "postgres";

const SECONDS = 3;

/** `cronlayer_ping` calls, `conc` at a time over a pool of `max`, for SECONDS: calls/s and median ms. */
async function calls(url: string, max: number, conc: number, pipeline: boolean): Promise<{ rate: number; median: number }> {
  // The Postgres adapter's own pool options, with and without postgres.js's pipelining.
  const sql = postgres(url, { max, prepare: false, onnotice: () => {}, ...(pipeline ? {} : { max_pipeline: 0 }) });
  const lat: number[] = [];
  await sql`select public.cronlayer_ping() as result`;
  const until = performance.now() + SECONDS * 1000;
  try {
    await Promise.all(
      Array.from({ length: conc }, async () => {
        while (performance.now() < until) {
          const t = performance.now();
          await sql.unsafe("set local statement_timeout = 10000; select public.cronlayer_ping() as result");
          lat.push(performance.now() - t);
        }
      }),
    );
  } finally {
    await sql.end();
  }
  lat.sort((a, b) => a - b);
  return { rate: lat.length / SECONDS, median: lat[lat.length >> 1] ?? 0 };
}

/**
 * `pnpm bench db-pipelining`: what the Postgres adapter gives up by sending one query per
 * connection at a time (postgres.js pipelining hands a cancelled call's answer to the next call),
 * in turns so that whatever else the machine does weighs on both alike.
 */
export async function dbPipeliningBench(url: string): Promise<string> {
  const rows: string[] = [];
  for (const round of [1, 2])
    for (const [max, conc] of [[5, 5], [5, 50], [2, 50]] as const)
      for (const pipeline of [true, false]) {
        const r = await calls(url, max, conc, pipeline);
        rows.push(`| ${pipeline ? "pipelined (driver default)" : "one at a time (adapter)"}, round ${round} | ${max} | ${conc} | ${r.rate.toFixed(0)} | ${r.median.toFixed(3)} |`);
      }
  return [
    `\n## Postgres adapter calls with and without pipelining (cronlayer_ping, ${SECONDS} s each)`,
    "| queries | pool | concurrent calls | calls/s | median (ms) |",
    "|---|---:|---:|---:|---:|",
    ...rows,
  ].join("\n");
}
