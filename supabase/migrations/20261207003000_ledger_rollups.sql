-- Counters and hourly rollups of the run ledger, kept as runs reach their final status, so that
-- /api/metrics and the console read a bounded number of rows however many runs the ledger holds,
-- and so that pruning old runs takes nothing away from them (Prometheus counters never go down).
--
-- Triggers keep them, not the ledger functions: a run is counted once, when it leaves 'running'
-- (job_run_close, a lapsed lease in job_run_open) or when it is inserted already final (skipped,
-- duplicate). Later edits of a final run's columns are not counted again.

-- Runs that reached each final status, per job, since the ledger began (never decremented).
create table if not exists public.job_run_totals (
  job text not null,
  status text not null,
  runs bigint not null default 0,
  primary key (job, status)
);

-- The Prometheus duration histogram of finished runs (succeeded or failed), per job: one row per
-- bucket (le_ms, its upper bound; 2147483647 stands for +Inf), not cumulative.
create table if not exists public.job_run_duration_totals (
  job text not null,
  le_ms integer not null,
  runs bigint not null default 0,
  sum_ms bigint not null default 0,
  primary key (job, le_ms)
);

-- Per job: the last finished run's start and lag, and when the job last succeeded.
create table if not exists public.job_run_last (
  job text primary key,
  started_at timestamptz,
  lag_ms bigint,
  success_at timestamptz
);

-- Finished runs (succeeded or failed) per job and UTC hour of their start, per duration bucket
-- (job_run_bucket: 10 % wide, -1 when the duration is unknown): the console's windows, daily
-- chart and p95 come from here. Pruned after their own retention (ROLLUPS_RETENTION_DAYS).
create table if not exists public.job_run_hours (
  job text not null,
  hour timestamptz not null,
  bucket smallint not null,
  succeeded bigint not null default 0,
  failed bigint not null default 0,
  primary key (job, hour, bucket)
);
create index if not exists job_run_hours_hour_idx on public.job_run_hours (hour);

-- Effects per job and status, as they are now (a gauge: it goes down as effects move or go).
create table if not exists public.effect_counts (
  job text not null,
  status text not null,
  n bigint not null default 0,
  primary key (job, status)
);

-- Dead letters recorded per job since the ledger began (never decremented by their pruning).
create table if not exists public.dead_letter_totals (
  job text primary key,
  n bigint not null default 0
);

alter table public.job_run_totals enable row level security;
alter table public.job_run_duration_totals enable row level security;
alter table public.job_run_last enable row level security;
alter table public.job_run_hours enable row level security;
alter table public.effect_counts enable row level security;
alter table public.dead_letter_totals enable row level security;

-- The histogram's buckets (ms). lib/ops/metrics.ts takes them from ops_metrics: one place.
create or replace function public.job_run_duration_buckets_ms() returns integer[]
language sql immutable as $$
  select array[50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 120000, 300000]
$$;

create or replace function public.job_run_le_ms(p_ms integer) returns integer
language sql immutable as $$
  select coalesce((select min(b) from unnest(public.job_run_duration_buckets_ms()) b where b >= p_ms), 2147483647)
$$;

-- Log buckets 10 % wide: bucket b holds durations in (1.1^(b-1), 1.1^b] ms, so a p95 read from them
-- is at most 10 % above the exact one. A 300 s run is bucket 133.
create or replace function public.job_run_bucket(p_ms integer) returns smallint
language sql immutable as $$
  select case when p_ms is null then -1 when p_ms <= 1 then 0 else ceil(ln(p_ms) / ln(1.1))::smallint end
$$;

create or replace function public.job_run_bucket_ms(p_bucket integer) returns bigint
language sql immutable as $$
  select case when p_bucket is null or p_bucket < 0 then null else round(power(1.1::numeric, p_bucket))::bigint end
$$;

create or replace function public.job_runs_rollup() returns trigger
language plpgsql as $$
begin
  insert into public.job_run_totals as t (job, status, runs) values (new.job, new.status, 1)
  on conflict (job, status) do update set runs = t.runs + 1;
  if new.status not in ('succeeded', 'failed') then
    return null;
  end if;
  if new.duration_ms is not null then
    insert into public.job_run_duration_totals as t (job, le_ms, runs, sum_ms)
    values (new.job, public.job_run_le_ms(new.duration_ms), 1, new.duration_ms)
    on conflict (job, le_ms) do update set runs = t.runs + 1, sum_ms = t.sum_ms + excluded.sum_ms;
  end if;
  insert into public.job_run_hours as h (job, hour, bucket, succeeded, failed)
  values (new.job, date_trunc('hour', new.started_at, 'UTC'), public.job_run_bucket(new.duration_ms),
          (new.status = 'succeeded')::int, (new.status = 'failed')::int)
  on conflict (job, hour, bucket) do update set succeeded = h.succeeded + excluded.succeeded, failed = h.failed + excluded.failed;
  insert into public.job_run_last as l (job, started_at, lag_ms, success_at)
  values (new.job, new.started_at, new.lag_ms, case when new.status = 'succeeded' then new.finished_at end)
  on conflict (job) do update set
    lag_ms = case when l.started_at is null or excluded.started_at >= l.started_at then excluded.lag_ms else l.lag_ms end,
    started_at = greatest(l.started_at, excluded.started_at),
    success_at = greatest(l.success_at, excluded.success_at);
  return null;
end $$;

drop trigger if exists job_runs_rollup_insert on public.job_runs;
create trigger job_runs_rollup_insert after insert on public.job_runs
  for each row when (new.status <> 'running') execute function public.job_runs_rollup();
drop trigger if exists job_runs_rollup_update on public.job_runs;
create trigger job_runs_rollup_update after update of status on public.job_runs
  for each row when (old.status = 'running' and new.status <> 'running') execute function public.job_runs_rollup();

-- Per statement, the net change per (job, status), applied in one order (job, status) so that two
-- statements never take the counter rows in opposite orders.
create or replace function public.effects_count() returns trigger
language plpgsql as $$
begin
  if tg_op = 'INSERT' then
    insert into public.effect_counts as c (job, status, n)
    select job, status, count(*) from new_rows group by 1, 2 order by 1, 2
    on conflict (job, status) do update set n = c.n + excluded.n;
  elsif tg_op = 'DELETE' then
    insert into public.effect_counts as c (job, status, n)
    select job, status, -count(*) from old_rows group by 1, 2 order by 1, 2
    on conflict (job, status) do update set n = c.n + excluded.n;
  else
    insert into public.effect_counts as c (job, status, n)
    select job, status, sum(d) from (
      select job, status, -1 as d from old_rows union all select job, status, 1 from new_rows
    ) x group by 1, 2 having sum(d) <> 0 order by 1, 2
    on conflict (job, status) do update set n = c.n + excluded.n;
  end if;
  return null;
end $$;

drop trigger if exists effects_count_insert on public.effects;
create trigger effects_count_insert after insert on public.effects
  referencing new table as new_rows for each statement execute function public.effects_count();
drop trigger if exists effects_count_update on public.effects;
create trigger effects_count_update after update on public.effects
  referencing old table as old_rows new table as new_rows for each statement execute function public.effects_count();
drop trigger if exists effects_count_delete on public.effects;
create trigger effects_count_delete after delete on public.effects
  referencing old table as old_rows for each statement execute function public.effects_count();

create or replace function public.dead_letters_count() returns trigger
language plpgsql as $$
begin
  insert into public.dead_letter_totals as t (job, n) values (coalesce(new.job, '(unknown)'), 1)
  on conflict (job) do update set n = t.n + 1;
  return null;
end $$;

drop trigger if exists dead_letters_count on public.dead_letters;
create trigger dead_letters_count after insert on public.dead_letters
  for each row execute function public.dead_letters_count();

-- Recomputes every counter and rollup from the rows the tables hold now. For a ledger that was
-- never pruned (this migration, a bulk load with triggers off): after a prune it would forget the
-- pruned runs, and the counters would go down.
create or replace function public.ledger_rollups_rebuild() returns jsonb
language plpgsql as $$
begin
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

select public.ledger_rollups_rebuild();

revoke execute on function public.ledger_rollups_rebuild() from public;
