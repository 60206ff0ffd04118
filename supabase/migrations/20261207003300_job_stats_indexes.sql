-- job_stats (`pnpm qstash:stats`, the console's missed slots on a job's page) read through indexes
-- whatever the ledger's size: the runs of the jobs asked for by (job, started_at), and each expected
-- slot by (job, slot_at). Before, a missed-slot check joined the slots against every run of the
-- ledger (a sequential scan), and a job filter could use no index. Same answers as before.
create index if not exists job_runs_job_slot_idx on public.job_runs (job, slot_at) where slot_at is not null;

create or replace function public.job_stats(
  p_since timestamptz,
  p_until timestamptz default now(),
  p_expected jsonb default '[]'::jsonb,
  p_jobs jsonb default null
) returns jsonb
language plpgsql stable as $$
declare
  v_jobs text[] := case when p_jobs is not null then array(select jsonb_array_elements_text(p_jobs)) end;
begin
  return (
  with runs as (
    -- v_jobs is a value when the query is planned (plpgsql), so `job = any(v_jobs)` goes through
    -- job_runs_job_started_idx; in plain SQL the planner walked every job's window by started_at.
    select * from public.job_runs
     where started_at >= p_since and started_at < p_until
       and (v_jobs is null or job = any (v_jobs))
  ),
  per_job as (
    select job,
           count(*) as runs,
           count(*) filter (where status = 'succeeded') as succeeded,
           count(*) filter (where status = 'failed') as failed,
           count(*) filter (where status = 'skipped') as skipped,
           count(*) filter (where status = 'duplicate') as duplicates,
           count(*) filter (where status = 'running') as running,
           -- Skips and duplicates do no work (duration 0): they would drag the percentiles down.
           percentile_cont(0.5) within group (order by duration_ms) filter (where status in ('succeeded', 'failed')) as p50_ms,
           percentile_cont(0.95) within group (order by duration_ms) filter (where status in ('succeeded', 'failed')) as p95_ms,
           percentile_cont(0.95) within group (order by lag_ms) filter (where lag_ms is not null) as p95_lag_ms
      from runs
     group by job
  ),
  last_run as (
    select distinct on (job) job, id, started_at, status, error
      from runs
     order by job, started_at desc, id desc
  ),
  expected_jobs as (
    select e->>'job' as job, e->'slots' as slots
      from jsonb_array_elements(p_expected) e
     where p_jobs is null or p_jobs ? (e->>'job')
  ),
  expected as (
    select ej.job, s::timestamptz as slot_at from expected_jobs ej, jsonb_array_elements_text(ej.slots) s
  ),
  missed as (
    -- A slot counts as run when any row claims it: succeeded, failed, skipped or duplicate alike.
    -- One probe of job_runs_job_slot_idx per expected slot.
    select x.job, count(*) as missed, (array_agg(x.slot_at order by x.slot_at desc))[1:5] as recent
      from expected x
     where not exists (select 1 from public.job_runs r where r.job = x.job and r.slot_at = x.slot_at and r.started_at >= x.slot_at)
     group by x.job
  ),
  jobs as (
    select job from per_job
    union
    select job from expected_jobs
  )
  select coalesce(jsonb_agg(jsonb_build_object(
           'job', j.job,
           'runs', coalesce(p.runs, 0),
           'succeeded', coalesce(p.succeeded, 0),
           'failed', coalesce(p.failed, 0),
           'skipped', coalesce(p.skipped, 0),
           'duplicates', coalesce(p.duplicates, 0),
           'running', coalesce(p.running, 0),
           'success_rate', case when coalesce(p.succeeded + p.failed, 0) = 0 then null
                                else round(p.succeeded::numeric / (p.succeeded + p.failed), 4) end,
           'p50_ms', round(p.p50_ms::numeric),
           'p95_ms', round(p.p95_ms::numeric),
           'p95_lag_ms', round(p.p95_lag_ms::numeric),
           'last_run_at', l.started_at,
           'last_status', l.status,
           'last_error', l.error,
           -- null for a job with no schedule: nothing was expected of it.
           'expected_slots', jsonb_array_length(ej.slots),
           'missed', case when ej.job is not null then coalesce(m.missed, 0) end,
           'missed_recent', coalesce(to_jsonb(m.recent), '[]'::jsonb)
         ) order by j.job), '[]'::jsonb)
    from jobs j
    left join per_job p on p.job = j.job
    left join last_run l on l.job = j.job
    left join missed m on m.job = j.job
    left join expected_jobs ej on ej.job = j.job
  );
end $$;
