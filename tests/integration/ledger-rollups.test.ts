import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { jobRoute } from "../../lib/http/job-route";
import { defineJob } from "../../lib/jobs/define";
import { bearerRequest, CRON_SECRET, params, qstashRequest, sql, testDeps, uniqueName } from "../support/app";

/**
 * The counters and hourly rollups /api/metrics and the console read hold exactly what a scan of
 * the raw rows gives, whichever way a run reached its final status: closed by its route, lapsed
 * (its lease ran out, job_run_open records it failed), or inserted final (duplicate, skipped).
 */
const ok = uniqueName("roll-ok");
const bad = uniqueName("roll-bad");
const loaded = uniqueName("roll-loaded");
const fx = uniqueName("roll-fx");
const jobs = [ok, bad, loaded, fx];
const deps = testDeps([
  defineJob({ name: ok, description: "t", overlap: "allow", handler: async () => ({}) }),
  defineJob({ name: bad, description: "t", handler: async () => {
    throw new Error("boom");
  } }),
]);
const route = jobRoute("jobs", async () => deps);

beforeAll(async () => {
  for (let i = 0; i < 3; i++) expect((await route.GET(bearerRequest(`/api/jobs/${ok}`, `Bearer ${CRON_SECRET}`), params(ok))).status).toBe(200);
  // The same message twice: the second delivery is recorded as a duplicate.
  const messageId = `msg_${randomUUID()}`;
  for (let i = 0; i < 2; i++) expect((await route.POST(qstashRequest(`/api/jobs/${ok}`, "{}", { messageId }), params(ok))).status).toBe(200);
  // A run whose process died: its lease ran out, and the next delivery records it failed.
  await sql()`insert into job_runs (job, trigger, status, started_at, lease_expires_at, lag_ms) values (${bad}, 'qstash', 'running', now() - interval '2 minutes', now() - interval '1 minute', 40)`;
  expect((await route.GET(bearerRequest(`/api/jobs/${bad}`, `Bearer ${CRON_SECRET}`), params(bad))).status).toBe(500);
  // Many runs over three days, of every status and a spread of durations, one still running.
  await sql()`insert into job_runs (job, trigger, status, started_at, finished_at, duration_ms, lag_ms)
    select ${loaded}, 'qstash', (array['succeeded', 'succeeded', 'succeeded', 'failed', 'skipped', 'duplicate'])[1 + i % 6],
           now() - make_interval(mins => i * 7), now() - make_interval(mins => i * 7) + make_interval(secs => (i * 37 % 9000) / 1000.0),
           case when i % 50 = 0 then null else (i * 37) % 9000 end, i
      from generate_series(1, 600) i`;
  await sql()`insert into job_runs (job, trigger, status, started_at, lease_expires_at) values (${loaded}, 'qstash', 'running', now(), now() + interval '1 minute')`;
  // Effects written every way the effects functions write them: inserts, upserts, updates, deletes.
  await sql()`insert into effects (key, job, status) select ${fx} || ':' || i, ${fx}, 'claimed' from generate_series(1, 20) i`;
  await sql()`update effects set status = case when key like '%1' then 'unknown' else 'succeeded' end where job = ${fx} and key not like '%2'`;
  await sql()`insert into effects (key, job, status) select ${fx} || ':' || i, ${fx}, 'claimed' from generate_series(15, 25) i
    on conflict (key) do update set status = 'abandoned'`;
  await sql()`delete from effects where job = ${fx} and key like '%3'`;
  // A close appends its run to job_run_rollup_deltas; the counters hold it once folded. Folds at
  // once count each run once.
  await Promise.all([1, 2, 3].map(() => sql()`select job_run_rollups_fold()`));
});

describe("ledger counters and rollups", () => {
  it("count runs by job and status as a scan of the ledger does (running runs not yet)", async () => {
    const kept = await sql()`select job, status, runs::int as n from job_run_totals where job = any(${jobs}) order by 1, 2`;
    const scan = await sql()`select job, status, count(*)::int as n from job_runs where job = any(${jobs}) and status <> 'running' group by 1, 2 order by 1, 2`;
    expect(kept).toEqual(scan);
    expect(scan.find((r) => r.job === ok && r.status === "duplicate")?.n).toBe(1);
    expect(scan.find((r) => r.job === bad && r.status === "failed")?.n).toBe(2);
  });

  it("keep the duration histogram, the hourly rollups and the last run as the ledger has them", async () => {
    expect(await sql()`select job, le_ms, runs::int, sum_ms::bigint from job_run_duration_totals where job = any(${jobs}) order by 1, 2`).toEqual(
      await sql()`select job, job_run_le_ms(duration_ms) as le_ms, count(*)::int as runs, sum(duration_ms)::bigint as sum_ms from job_runs
                   where job = any(${jobs}) and status in ('succeeded', 'failed') and duration_ms is not null group by 1, 2 order by 1, 2`,
    );
    expect(await sql()`select job, hour, bucket, succeeded::int, failed::int from job_run_hours where job = any(${jobs}) order by 1, 2, 3`).toEqual(
      await sql()`select job, date_trunc('hour', started_at, 'UTC') as hour, job_run_bucket(duration_ms) as bucket,
                         count(*) filter (where status = 'succeeded')::int as succeeded, count(*) filter (where status = 'failed')::int as failed
                    from job_runs where job = any(${jobs}) and status in ('succeeded', 'failed') group by 1, 2, 3 order by 1, 2, 3`,
    );
    expect(await sql()`select job, started_at, lag_ms::int, success_at from job_run_last where job = any(${jobs}) order by 1`).toEqual(
      await sql()`select f.job, f.started_at, f.lag_ms::int, (select max(finished_at) from job_runs s where s.job = f.job and s.status = 'succeeded') as success_at
                    from (select distinct on (job) job, started_at, lag_ms from job_runs where job = any(${jobs}) and status in ('succeeded', 'failed')
                          order by job, started_at desc) f order by 1`,
    );
  });

  it("put a duration in the first histogram bucket at or above it, +Inf past the last or when unknown", async () => {
    const cases = [null, -3, 0, 1, 49, 50, 51, 99, 100, 101, 299999, 300000, 300001, 2147483647];
    const got = await sql()<{ ms: number | null; le: number }[]>`select x as ms, job_run_le_ms(x) as le from unnest(${cases}::int[]) with ordinality t (x, o) order by o`;
    expect(got.map((r) => r.le)).toEqual([2147483647, 50, 50, 50, 50, 50, 100, 100, 100, 250, 300000, 300000, 2147483647, 2147483647]);
  });

  it("leave the counters to a fold, and fold in every reader, so /api/metrics and the console read exact numbers", async () => {
    const job = uniqueName("roll-late");
    const late = testDeps([defineJob({ name: job, description: "t", handler: async () => ({}) })]);
    for (let i = 0; i < 2; i++) expect((await jobRoute("jobs", async () => late).GET(bearerRequest(`/api/jobs/${job}`, `Bearer ${CRON_SECRET}`), params(job))).status).toBe(200);
    expect(await sql()`select status, count(*)::int as n from job_run_rollup_deltas where job = ${job} group by 1`).toEqual([{ status: "succeeded", n: 2 }]);
    expect(await sql()`select runs from job_run_totals where job = ${job}`).toEqual([]);
    const [m] = await sql()<{ v: { runs: { job: string; status: string; count: number }[] } }[]>`select ops_metrics() as v`;
    expect(m!.v.runs.filter((r) => r.job === job)).toEqual([{ job, status: "succeeded", count: 2 }]);
    expect(await sql()`select count(*)::int as n from job_run_rollup_deltas where job = ${job}`).toEqual([{ n: 0 }]);
    const [o] = await sql()<{ v: Record<string, { windows: Record<string, { runs: number }> }> }[]>`select ops_jobs_overview(now(), ${[job]}) as v`;
    expect(o!.v[job]!.windows["24h"]!.runs).toBe(2);
  });

  it("count effects by job and status as a scan of the effects does", async () => {
    expect(await sql()`select job, status, n::int from effect_counts where job = ${fx} and n <> 0 order by 1, 2`).toEqual(
      await sql()`select job, status, count(*)::int as n from effects where job = ${fx} group by 1, 2 order by 1, 2`,
    );
  });

  it("give the console a 7-day p95 within 10 % above the exact one, and the same runs and failures per window", async () => {
    const [o] = await sql()<{ v: Record<string, { windows: Record<string, { runs: number; succeeded: number; p95_ms: number }> }> }[]>`select ops_jobs_overview(now(), ${[loaded]}) as v`;
    const week = o!.v[loaded]!.windows["7d"]!;
    const [exact] = await sql()<{ p95: number; runs: number; ok: number }[]>`
      select percentile_disc(0.95) within group (order by duration_ms) as p95, count(*)::int as runs, count(*) filter (where status = 'succeeded')::int as ok
        from job_runs where job = ${loaded} and status in ('succeeded', 'failed')`;
    expect(week).toMatchObject({ runs: exact!.runs, succeeded: exact!.ok });
    expect(week.p95_ms).toBeGreaterThanOrEqual(exact!.p95);
    expect(week.p95_ms).toBeLessThanOrEqual(Math.ceil(exact!.p95 * 1.1));
  });
});
