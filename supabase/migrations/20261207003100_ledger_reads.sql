-- /api/metrics and the console's jobs table read the counters and rollups of
-- 20261207003000_ledger_rollups.sql instead of scanning the ledger: their cost no longer grows with
-- the number of runs kept.
--
-- What each console and metrics query reads, and through which index:
--   ops_metrics         job_run_totals, job_run_duration_totals, job_run_last, dead_letter_totals,
--                       effect_counts (a few rows per job); running runs via job_runs_running_idx
--   ops_jobs_overview   job_run_hours by (job, hour) (primary key), the last run per job via
--                       job_runs_job_started_idx (one index probe each), effect_counts
--   ops_job_runs        job_runs_job_started_idx; with a status filter job_runs_job_status_started_idx
--   ops_run             the primary key
--   job_stats (a job page's missed slots, pnpm qstash:stats)  job_runs_job_started_idx over its
--                       window, and each expected slot by job_runs_job_slot_idx (20261207003300)
--   ledger_first_run    job_runs_started_idx (also the retention sweep's)
--   job_run_open        job_runs_running_idx (lapsed leases, overlap, concurrency) and
--                       job_runs_message_idx (a message's earlier runs): checked with EXPLAIN on
--                       10 million runs, each well under a millisecond, nothing to add

-- A status filter on a job's runs ("failed") would otherwise walk the job's whole history.
create index if not exists job_runs_job_status_started_idx on public.job_runs (job, status, started_at desc);

drop function if exists public.ops_metrics(integer[]);

-- Everything /api/metrics exports. Counters (runs, durations, dead letters) are totals since the
-- ledger began, kept as runs finish: pruning never lowers them.
create or replace function public.ops_metrics()
returns jsonb language sql stable as $$
  select jsonb_build_object(
    'buckets_ms', to_jsonb(public.job_run_duration_buckets_ms()),
    'runs', (select coalesce(jsonb_agg(jsonb_build_object('job', job, 'status', status, 'count', runs) order by job, status), '[]'::jsonb)
             from public.job_run_totals),
    'running', (select coalesce(jsonb_agg(jsonb_build_object('job', job, 'count', n) order by job), '[]'::jsonb)
                from (select job, count(*) n from public.job_runs where status = 'running' group by job) t),
    'durations', (select coalesce(jsonb_agg(jsonb_build_object('job', job, 'le_ms', nullif(le_ms, 2147483647), 'count', runs, 'sum_ms', sum_ms) order by job, le_ms), '[]'::jsonb)
                  from public.job_run_duration_totals),
    'last', (select coalesce(jsonb_agg(jsonb_build_object('job', job, 'lag_ms', lag_ms, 'success_at', success_at) order by job), '[]'::jsonb)
             from public.job_run_last),
    'dead_letters', (select coalesce(jsonb_agg(jsonb_build_object('job', job, 'count', n) order by job), '[]'::jsonb)
                     from public.dead_letter_totals),
    'effects', (select coalesce(jsonb_agg(jsonb_build_object('job', job, 'status', status, 'count', n) order by job, status), '[]'::jsonb)
                from public.effect_counts where n > 0)
  )
$$;

-- Per job: the last run, 24 h and 7 d success rate and p95, one bucket a day for the chart, and
-- the effects that need a person. Windows are whole UTC hours: "24 h" is the runs started in the
-- current hour and the 24 before it. A p95 is the upper bound of the duration bucket where 95 % of
-- the runs with a known duration are reached (at most 10 % above the exact value); the hours are
-- summed per bucket first, so the work is per job and bucket, not per run.
create or replace function public.ops_jobs_overview(p_now timestamptz, p_jobs text[])
returns jsonb language sql stable as $$
  with jobs as (select distinct unnest(p_jobs) job),
  bounds as (select date_trunc('hour', p_now - interval '24 hours', 'UTC') c24, date_trunc('hour', p_now - interval '7 days', 'UTC') c7),
  h as (
    select r.job, r.hour, r.bucket, r.succeeded, r.failed from public.job_run_hours r, bounds b
     where r.job = any(p_jobs) and r.hour >= b.c7 and r.hour <= p_now
  ),
  per_bucket as (
    select h.job, h.bucket,
           sum(h.succeeded + h.failed) filter (where h.hour >= b.c24) n24, sum(h.succeeded) filter (where h.hour >= b.c24) ok24,
           sum(h.succeeded + h.failed) n7, sum(h.succeeded) ok7
      from h, bounds b group by 1, 2
  ),
  cum as (
    select *,
           sum(case when bucket >= 0 then n24 end) over (partition by job order by bucket) cum24,
           sum(case when bucket >= 0 then n24 end) over (partition by job) tot24,
           sum(case when bucket >= 0 then n7 end) over (partition by job order by bucket) cum7,
           sum(case when bucket >= 0 then n7 end) over (partition by job) tot7
      from per_bucket
  ),
  win as materialized (
    select job, '24h' name, sum(n24) runs, sum(ok24) ok, public.job_run_bucket_ms(min(bucket) filter (where bucket >= 0 and cum24 >= 0.95 * tot24)) p95
      from cum group by job having sum(n24) > 0
    union all
    select job, '7d', sum(n7), sum(ok7), public.job_run_bucket_ms(min(bucket) filter (where bucket >= 0 and cum7 >= 0.95 * tot7))
      from cum group by job
  ),
  day_bucket as (
    select job, (hour at time zone 'UTC')::date d, bucket, sum(succeeded + failed) n, sum(failed) failed from h group by 1, 2, 3
  ),
  days as materialized (
    select job, d, sum(n) runs, sum(failed) failed, public.job_run_bucket_ms(min(bucket) filter (where bucket >= 0 and cum >= 0.95 * tot)) p95
      from (select *, sum(case when bucket >= 0 then n end) over (partition by job, d order by bucket) cum,
                      sum(case when bucket >= 0 then n end) over (partition by job, d) tot from day_bucket) x
     group by job, d
  )
  select coalesce(jsonb_object_agg(j.job, jsonb_build_object(
    'last', (select to_jsonb(l) from (select r.id, r.status, r.started_at, r.duration_ms, r.lag_ms, r.trigger
                                        from public.job_runs r where r.job = j.job order by r.started_at desc limit 1) l),
    'windows', coalesce((select jsonb_object_agg(w.name, jsonb_build_object('runs', w.runs, 'succeeded', w.ok,
        'success_rate', case when w.runs > 0 then round(w.ok::numeric / w.runs, 4) end, 'p95_ms', w.p95))
      from win w where w.job = j.job), '{}'::jsonb),
    'days', coalesce((select jsonb_agg(jsonb_build_object('day', to_char(d.d, 'YYYY-MM-DD'), 'runs', d.runs, 'failed', d.failed, 'p95_ms', d.p95) order by d.d)
      from days d where d.job = j.job), '[]'::jsonb),
    'needs_person', jsonb_build_object(
      'unknown', coalesce((select n from public.effect_counts c where c.job = j.job and c.status = 'unknown'), 0),
      'abandoned', coalesce((select n from public.effect_counts c where c.job = j.job and c.status = 'abandoned'), 0))
  )), '{}'::jsonb)
  from jobs j
$$;

revoke execute on function public.ops_metrics() from public;
revoke execute on function public.ops_jobs_overview(timestamptz, text[]) from public;
