-- Issue 30: a run's close appends one row for the counters instead of upserting four.
--
-- The rollup trigger (20261207003000_ledger_rollups.sql) upserted job_run_totals,
-- job_run_duration_totals, job_run_hours and job_run_last on every run that reached its final
-- status: about 0.1 ms of the close's database time (track_functions, one connection), and four
-- rows per job that every concurrent close of the job waited on. Now the trigger inserts the
-- run's final columns into job_run_rollup_deltas (no index, no row another close writes), and
-- job_run_rollups_fold adds the unfolded rows to the same four tables in one transaction.
--
-- Who folds: every reader of the counters (ops_metrics, ops_jobs_overview) first, so what
-- /api/metrics and the console show is exact as of their call (qstash:stats reads job_runs itself,
-- through job_stats); and the hourly retention pass (job_run_hours_prune), so the deltas stay
-- small when nobody reads. Folds
-- take one advisory lock: two never wait on each other's counter rows in opposite orders, and a
-- delta is folded once (its row is deleted in the transaction that counts it).

create table if not exists public.job_run_rollup_deltas (
  job text not null,
  status text not null,
  started_at timestamptz not null,
  finished_at timestamptz,
  duration_ms integer,
  lag_ms bigint
);
alter table public.job_run_rollup_deltas enable row level security;

create or replace function public.job_runs_rollup() returns trigger
language plpgsql as $$
begin
  insert into public.job_run_rollup_deltas (job, status, started_at, finished_at, duration_ms, lag_ms)
  values (new.job, new.status, new.started_at, new.finished_at, new.duration_ms, new.lag_ms);
  return null;
end $$;

-- The same sums the trigger used to make run by run, per group of runs.
create or replace function public.job_run_rollups_fold() returns bigint
language plpgsql as $$
declare
  v_n bigint;
begin
  perform pg_advisory_xact_lock(hashtextextended('cronlayer.rollups_fold', 0));
  with d as materialized (
    delete from public.job_run_rollup_deltas returning *
  ), t as (
    insert into public.job_run_totals as t (job, status, runs)
    select job, status, count(*) from d group by 1, 2 order by 1, 2
    on conflict (job, status) do update set runs = t.runs + excluded.runs
    returning 1
  ), du as (
    insert into public.job_run_duration_totals as t (job, le_ms, runs, sum_ms)
    select job, public.job_run_le_ms(duration_ms), count(*), sum(duration_ms) from d
     where status in ('succeeded', 'failed') and duration_ms is not null group by 1, 2 order by 1, 2
    on conflict (job, le_ms) do update set runs = t.runs + excluded.runs, sum_ms = t.sum_ms + excluded.sum_ms
    returning 1
  ), h as (
    insert into public.job_run_hours as h (job, hour, bucket, succeeded, failed)
    select job, date_trunc('hour', started_at, 'UTC'), public.job_run_bucket(duration_ms),
           count(*) filter (where status = 'succeeded'), count(*) filter (where status = 'failed')
      from d where status in ('succeeded', 'failed') group by 1, 2, 3 order by 1, 2, 3
    on conflict (job, hour, bucket) do update set succeeded = h.succeeded + excluded.succeeded, failed = h.failed + excluded.failed
    returning 1
  ), l as (
    -- Per job the latest start (with its lag) and the latest success among the folded runs.
    insert into public.job_run_last as l (job, started_at, lag_ms, success_at)
    select distinct on (job) job, started_at, lag_ms, max(finished_at) filter (where status = 'succeeded') over (partition by job)
      from d where status in ('succeeded', 'failed') order by job, started_at desc
    on conflict (job) do update set
      lag_ms = case when l.started_at is null or excluded.started_at >= l.started_at then excluded.lag_ms else l.lag_ms end,
      started_at = greatest(l.started_at, excluded.started_at),
      success_at = greatest(l.success_at, excluded.success_at)
    returning 1
  )
  select count(*) into v_n from d;
  return v_n;
end $$;

-- Reads fold first. Volatile: each statement sees what the one before it committed to the counters.
create or replace function public.ops_metrics()
returns jsonb language sql volatile as $$
  select public.job_run_rollups_fold();
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

create or replace function public.ops_jobs_overview(p_now timestamptz, p_jobs text[])
returns jsonb language sql volatile as $$
  select public.job_run_rollups_fold();
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

-- The hourly retention pass folds before it prunes, so no delta lands in an hour already pruned.
create or replace function public.job_run_hours_prune(p_before timestamptz, p_limit integer default 5000)
returns jsonb
language sql as $$
  select public.job_run_rollups_fold();
  with gone as (
    delete from public.job_run_hours h
     using (select job, hour, bucket from public.job_run_hours where hour < p_before order by hour limit p_limit) old
     where h.job = old.job and h.hour = old.hour and h.bucket = old.bucket
    returning 1
  )
  select jsonb_build_object('deleted', count(*), 'more', count(*) = p_limit) from gone
$$;

-- Rebuilt from the rows: pending deltas are part of what it counts, so they go.
create or replace function public.ledger_rollups_rebuild() returns jsonb
language plpgsql as $$
begin
  -- Not beside a fold: the deltas it would add are counted here from the rows.
  perform pg_advisory_xact_lock(hashtextextended('cronlayer.rollups_fold', 0));
  delete from public.job_run_rollup_deltas;
  delete from public.job_run_totals;
  delete from public.job_run_duration_totals;
  delete from public.job_run_last;
  delete from public.job_run_hours;
  delete from public.effect_counts;
  delete from public.dead_letter_totals;
  insert into public.job_run_totals (job, status, runs)
  select job, status, count(*) from public.job_runs where status <> 'running' group by 1, 2;
  insert into public.job_run_duration_totals (job, le_ms, runs, sum_ms)
  select job, public.job_run_le_ms(duration_ms), count(*), sum(duration_ms) from public.job_runs
   where status in ('succeeded', 'failed') and duration_ms is not null group by 1, 2;
  insert into public.job_run_hours (job, hour, bucket, succeeded, failed)
  select job, date_trunc('hour', started_at, 'UTC'), public.job_run_bucket(duration_ms),
         count(*) filter (where status = 'succeeded'), count(*) filter (where status = 'failed')
    from public.job_runs where status in ('succeeded', 'failed') group by 1, 2, 3;
  insert into public.job_run_last (job, started_at, lag_ms, success_at)
  select f.job, f.started_at, f.lag_ms, s.success_at
    from (select distinct on (job) job, started_at, lag_ms from public.job_runs
           where status in ('succeeded', 'failed') order by job, started_at desc) f
    left join (select job, max(finished_at) success_at from public.job_runs where status = 'succeeded' group by job) s on s.job = f.job;
  insert into public.effect_counts (job, status, n) select job, status, count(*) from public.effects group by 1, 2;
  insert into public.dead_letter_totals (job, n) select coalesce(job, '(unknown)'), count(*) from public.dead_letters group by 1;
  return jsonb_build_object('runs', (select coalesce(sum(runs), 0) from public.job_run_totals));
end $$;

revoke execute on function public.job_run_rollups_fold() from public;
revoke execute on function public.ledger_rollups_rebuild() from public;
