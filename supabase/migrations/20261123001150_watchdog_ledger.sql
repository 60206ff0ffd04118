-- Split out of 20261123001100 (now marketplace_calendar_tokens) so the layer's migrations never
-- need a product's. On a database that already ran 20261123001100 this redefines the function
-- with the same body.

-- The watchdog's view of the ledger for some jobs over [p_from, p_to): the slots that got a run,
-- deliveries that ended failed (no attempt of the same message succeeded), runs far beyond the
-- job's usual duration (median of its successful runs over the 7 days before p_to), and runs that
-- succeeded but reported failed items.
create or replace function public.watchdog_ledger(
  p_jobs jsonb, p_from timestamptz, p_to timestamptz, p_slow_factor numeric default 3, p_slow_min_extra_ms integer default 10000
) returns jsonb
language sql stable as $$
  with jobs as (select jsonb_array_elements_text(p_jobs) as job),
  runs as (
    select r.* from public.job_runs r join jobs j on j.job = r.job
     where r.started_at >= p_from and r.started_at < p_to
  ),
  usual as (
    select r.job, percentile_cont(0.5) within group (order by r.duration_ms) as median_ms, count(*) as samples
      from public.job_runs r join jobs j on j.job = r.job
     where r.status = 'succeeded' and r.started_at >= p_to - interval '7 days' and r.started_at < p_to and r.duration_ms is not null
     group by r.job
  ),
  deliveries as (
    select job, coalesce(message_id, id::text) as delivery,
           bool_or(status in ('succeeded', 'duplicate')) as ok,
           bool_or(status = 'failed') as any_failed,
           (array_agg(jsonb_build_object('run_id', id, 'slot_at', slot_at, 'started_at', started_at, 'attempt', attempt, 'error', error)
                      order by started_at desc) filter (where status = 'failed'))[1] as last_failure
      from runs group by job, coalesce(message_id, id::text)
  )
  select coalesce(jsonb_object_agg(j.job, jsonb_build_object(
    'slots', coalesce((select jsonb_agg(distinct r.slot_at) from runs r where r.job = j.job and r.slot_at is not null), '[]'::jsonb),
    'failures', coalesce((select jsonb_agg(d.last_failure order by d.last_failure->>'started_at') from deliveries d
                           where d.job = j.job and d.any_failed and not d.ok), '[]'::jsonb),
    'slow', coalesce((select jsonb_agg(jsonb_build_object('run_id', r.id, 'started_at', r.started_at, 'duration_ms', r.duration_ms, 'median_ms', round(u.median_ms)) order by r.started_at)
                       from runs r join usual u on u.job = r.job
                      where r.job = j.job and u.samples >= 5 and r.duration_ms is not null
                        and r.duration_ms > u.median_ms * p_slow_factor and r.duration_ms - u.median_ms >= p_slow_min_extra_ms), '[]'::jsonb),
    'partial', coalesce((select jsonb_agg(jsonb_build_object('run_id', r.id, 'started_at', r.started_at, 'failed', (r.stats->>'failed')::numeric) order by r.started_at)
                          from runs r where r.job = j.job and r.status = 'succeeded' and jsonb_typeof(r.stats->'failed') = 'number'
                           and (r.stats->>'failed')::numeric > 0), '[]'::jsonb),
    'runs', (select count(*) from runs r where r.job = j.job)
  )), '{}'::jsonb)
  from jobs j
$$;
