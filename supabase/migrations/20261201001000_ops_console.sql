-- The operations console (/ops) and /api/metrics: read-only views of the ledger, effects and dead
-- letters, plus the sign-in rate limit. Each is one call returning jsonb, like every other function.

-- Wrong passwords, one row each: the sign-in refuses a client (and everyone, past a global cap)
-- with too many in the window. Kept in Postgres, not Redis: Redis is optional, sign-in is not.
create table if not exists public.ops_login_failures (
  id bigserial primary key,
  client text not null,
  at timestamptz not null
);
create index if not exists ops_login_failures_client_idx on public.ops_login_failures (client, at);
create index if not exists ops_login_failures_at_idx on public.ops_login_failures (at);
alter table public.ops_login_failures enable row level security;

-- Whether a client may try a password now: at most p_max failures per client and p_global_max in
-- all within the window (a spoofed client address must not buy unlimited guesses).
create or replace function public.ops_login_check(p_client text, p_now timestamptz, p_window_ms integer, p_max integer, p_global_max integer)
returns jsonb language sql stable as $$
  with w as (
    select client, at from public.ops_login_failures
    where at > p_now - make_interval(secs => p_window_ms / 1000.0)
  ), mine as (select count(*) n, min(at) first_at from w where client = p_client),
     all_ as (select count(*) n, min(at) first_at from w)
  select case
    when (select n from mine) >= p_max then jsonb_build_object('allowed', false, 'retry_after_ms',
      greatest(1000, ceil(extract(epoch from ((select first_at from mine) + make_interval(secs => p_window_ms / 1000.0) - p_now)) * 1000)::bigint))
    when (select n from all_) >= p_global_max then jsonb_build_object('allowed', false, 'retry_after_ms',
      greatest(1000, ceil(extract(epoch from ((select first_at from all_) + make_interval(secs => p_window_ms / 1000.0) - p_now)) * 1000)::bigint))
    else jsonb_build_object('allowed', true)
  end
$$;

create or replace function public.ops_login_failed(p_client text, p_now timestamptz)
returns jsonb language sql as $$
  -- Old rows go on each failure: the table never outgrows a day of guesses.
  with gone as (delete from public.ops_login_failures where at < p_now - interval '1 day' returning 1),
       ins as (insert into public.ops_login_failures (client, at) values (p_client, p_now) returning 1)
  select jsonb_build_object('recorded', (select count(*) from ins), 'pruned', (select count(*) from gone))
$$;

-- Per job: the last run, 24 h and 7 d success rate and p95, one bucket a day for the chart, and
-- the effects that need a person. One call for the whole jobs table.
create or replace function public.ops_jobs_overview(p_now timestamptz, p_jobs text[])
returns jsonb language sql stable as $$
  with jobs as (select unnest(p_jobs) job),
  finished as (
    select r.job, r.status, r.duration_ms, r.started_at from public.job_runs r
    where r.job = any(p_jobs) and r.started_at > p_now - interval '7 days' and r.status in ('succeeded', 'failed')
  ),
  last_run as (
    select distinct on (r.job) r.job, r.id, r.status, r.started_at, r.duration_ms, r.lag_ms, r.trigger
    from public.job_runs r where r.job = any(p_jobs) order by r.job, r.started_at desc
  ),
  win as (
    select f.job, w.name,
      count(*) runs,
      count(*) filter (where f.status = 'succeeded') ok,
      percentile_cont(0.95) within group (order by f.duration_ms) filter (where f.duration_ms is not null) p95
    from finished f cross join (values ('24h', interval '24 hours'), ('7d', interval '7 days')) w(name, span)
    where f.started_at > p_now - w.span group by f.job, w.name
  ),
  days as (
    select f.job, date_trunc('day', f.started_at at time zone 'UTC') d,
      count(*) runs, count(*) filter (where f.status = 'failed') failed,
      percentile_cont(0.95) within group (order by f.duration_ms) filter (where f.duration_ms is not null) p95
    from finished f group by 1, 2
  ),
  fx as (
    select e.job, count(*) filter (where e.status = 'unknown') unknown, count(*) filter (where e.status = 'abandoned') abandoned
    from public.effects e where e.job = any(p_jobs) and e.status in ('unknown', 'abandoned') group by e.job
  )
  select coalesce(jsonb_object_agg(j.job, jsonb_build_object(
    'last', (select to_jsonb(l) - 'job' from last_run l where l.job = j.job),
    'windows', coalesce((select jsonb_object_agg(w.name, jsonb_build_object('runs', w.runs, 'succeeded', w.ok,
        'success_rate', case when w.runs > 0 then round(w.ok::numeric / w.runs, 4) end, 'p95_ms', round(w.p95::numeric)))
      from win w where w.job = j.job), '{}'::jsonb),
    'days', coalesce((select jsonb_agg(jsonb_build_object('day', to_char(d.d, 'YYYY-MM-DD'), 'runs', d.runs, 'failed', d.failed, 'p95_ms', round(d.p95::numeric)) order by d.d)
      from days d where d.job = j.job), '[]'::jsonb),
    'needs_person', jsonb_build_object('unknown', coalesce((select unknown from fx where fx.job = j.job), 0),
                                       'abandoned', coalesce((select abandoned from fx where fx.job = j.job), 0))
  )), '{}'::jsonb)
  from jobs j
$$;

-- One job's runs, newest first, filtered by status, trigger and time (each filter optional).
create or replace function public.ops_job_runs(p_job text, p_status text, p_trigger text, p_from timestamptz, p_to timestamptz, p_limit integer)
returns jsonb language sql stable as $$
  select coalesce(jsonb_agg(to_jsonb(r) - 'lease_expires_at' order by r.started_at desc), '[]'::jsonb)
  from (
    select * from public.job_runs
    where job = p_job
      and (p_status is null or status = p_status)
      and (p_trigger is null or trigger = p_trigger)
      and (p_from is null or started_at >= p_from)
      and (p_to is null or started_at < p_to)
    order by started_at desc
    limit least(greatest(p_limit, 1), 500)
  ) r
$$;

create or replace function public.ops_run(p_run_id uuid)
returns jsonb language sql stable as $$
  select to_jsonb(r) from public.job_runs r where r.id = p_run_id
$$;

-- Everything /api/metrics exports, from the ledger, effects and dead letters. Durations are put in
-- the histogram's buckets here (with each bucket's sum), so a scrape reads a few rows, not every run.
create or replace function public.ops_metrics(p_buckets_ms integer[])
returns jsonb language sql stable as $$
  select jsonb_build_object(
    'runs', (select coalesce(jsonb_agg(jsonb_build_object('job', job, 'status', status, 'count', n)), '[]'::jsonb)
             from (select job, status, count(*) n from public.job_runs group by 1, 2) t),
    'durations', (select coalesce(jsonb_agg(jsonb_build_object('job', job, 'le_ms', le, 'count', n, 'sum_ms', s)), '[]'::jsonb)
                  from (select job, (select min(b) from unnest(p_buckets_ms) b where b >= duration_ms) le, count(*) n, sum(duration_ms) s
                        from public.job_runs where status in ('succeeded', 'failed') and duration_ms is not null group by 1, 2) t),
    'last', (select coalesce(jsonb_agg(jsonb_build_object('job', job, 'lag_ms', lag_ms, 'success_at', success_at)), '[]'::jsonb)
             from (select distinct on (job) job, lag_ms,
                     (select max(finished_at) from public.job_runs s where s.job = r.job and s.status = 'succeeded') success_at
                   from public.job_runs r where status in ('succeeded', 'failed') order by job, started_at desc) t),
    'dead_letters', (select coalesce(jsonb_agg(jsonb_build_object('job', job, 'count', n)), '[]'::jsonb)
                     from (select coalesce(job, '(unknown)') job, count(*) n from public.dead_letters group by 1) t),
    'effects', (select coalesce(jsonb_agg(jsonb_build_object('job', job, 'status', status, 'count', n)), '[]'::jsonb)
                from (select job, status, count(*) n from public.effects group by 1, 2) t)
  )
$$;

revoke execute on function public.ops_login_check(text, timestamptz, integer, integer, integer) from public;
revoke execute on function public.ops_login_failed(text, timestamptz) from public;
revoke execute on function public.ops_jobs_overview(timestamptz, text[]) from public;
revoke execute on function public.ops_job_runs(text, text, text, timestamptz, timestamptz, integer) from public;
revoke execute on function public.ops_run(uuid) from public;
revoke execute on function public.ops_metrics(integer[]) from public;
