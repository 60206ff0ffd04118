-- The run ledger: one row per delivery that passed authentication. It is also the lock: dedup by
-- message id, overlap leases and signature replay protection are decided here, atomically, in one
-- call (job_run_open), so no second lock service has to be kept in step.

create table if not exists public.job_runs (
  id uuid primary key default gen_random_uuid(),
  job text not null,
  trigger text not null check (trigger in ('qstash', 'vercel', 'manual', 'cli')),
  status text not null check (status in ('running', 'succeeded', 'failed', 'skipped', 'duplicate')),
  message_id text,
  schedule_id text,
  attempt integer not null default 0,
  slot_at timestamptz,
  started_at timestamptz not null default clock_timestamp(),
  finished_at timestamptz,
  duration_ms integer,
  lag_ms integer,
  lease_expires_at timestamptz,
  stats jsonb,
  error jsonb
);
create index if not exists job_runs_job_started_idx on public.job_runs (job, started_at desc);
create index if not exists job_runs_message_idx on public.job_runs (job, message_id) where message_id is not null;
create index if not exists job_runs_running_idx on public.job_runs (job) where status = 'running';

-- Each signature (its jti) is accepted once; rows are useless after the token's exp.
create table if not exists public.used_signatures (
  jti text primary key,
  expires_at timestamptz not null
);
create index if not exists used_signatures_expires_idx on public.used_signatures (expires_at);

-- Only the service role (which bypasses RLS) may touch these through the Supabase API.
alter table public.job_runs enable row level security;
alter table public.used_signatures enable row level security;

create or replace function public.cronlayer_ping() returns jsonb
language sql stable as $$ select jsonb_build_object('ok', true, 'now', now()) $$;

create or replace function public.job_run_open(
  p_job text,
  p_trigger text,
  p_message_id text default null,
  p_schedule_id text default null,
  p_attempt integer default 0,
  p_jti text default null,
  p_jti_expires_at timestamptz default null,
  p_overlap text default 'skip',
  p_lease_ms integer default 60000,
  p_slot_at timestamptz default null
) returns jsonb
language plpgsql as $$
declare
  v_now timestamptz := clock_timestamp();
  v_prev record;
  v_id uuid;
begin
  if p_overlap not in ('skip', 'allow') then
    raise exception 'unknown overlap policy %', p_overlap using errcode = '22023';
  end if;

  if p_jti is not null then
    insert into public.used_signatures (jti, expires_at)
    values (p_jti, coalesce(p_jti_expires_at, v_now + interval '5 minutes'))
    on conflict (jti) do nothing;
    if not found then
      return jsonb_build_object('decision', 'replay');
    end if;
  end if;

  -- Decisions for one job are serialized for the length of this call only.
  perform pg_advisory_xact_lock(hashtextextended('cronlayer.job:' || p_job, 0));

  -- A run still 'running' past its lease lost its process: record it as failed, free the lease.
  update public.job_runs
     set status = 'failed',
         finished_at = lease_expires_at,
         duration_ms = (extract(epoch from (lease_expires_at - started_at)) * 1000)::integer,
         lease_expires_at = null,
         error = jsonb_build_object('name', 'LeaseExpired',
           'message', 'the run did not close before its lease (the job timeout) ran out; its process probably died')
   where job = p_job and status = 'running' and lease_expires_at <= v_now;

  if p_message_id is not null then
    select id, status, lease_expires_at into v_prev
      from public.job_runs
     where job = p_job and message_id = p_message_id and status in ('succeeded', 'running')
     order by (status = 'succeeded') desc
     limit 1;
    if found and v_prev.status = 'succeeded' then
      insert into public.job_runs (job, trigger, status, message_id, schedule_id, attempt, slot_at, started_at, finished_at, duration_ms, stats)
      values (p_job, p_trigger, 'duplicate', p_message_id, p_schedule_id, p_attempt, p_slot_at, v_now, v_now, 0,
              jsonb_build_object('original_run_id', v_prev.id))
      returning id into v_id;
      return jsonb_build_object('decision', 'duplicate', 'run_id', v_id, 'original_run_id', v_prev.id);
    elsif found then
      -- Not done yet: the first attempt may still fail, so QStash must keep a delivery to retry.
      return jsonb_build_object('decision', 'in_flight', 'run_id', v_prev.id,
        'retry_after_ms', greatest(1000, (extract(epoch from (v_prev.lease_expires_at - v_now)) * 1000)::integer));
    end if;
  end if;

  if p_overlap = 'skip' then
    select id into v_prev from public.job_runs where job = p_job and status = 'running' limit 1;
    if found then
      insert into public.job_runs (job, trigger, status, message_id, schedule_id, attempt, slot_at, started_at, finished_at, duration_ms, stats)
      values (p_job, p_trigger, 'skipped', p_message_id, p_schedule_id, p_attempt, p_slot_at, v_now, v_now, 0,
              jsonb_build_object('held_by', v_prev.id))
      returning id into v_id;
      return jsonb_build_object('decision', 'skip', 'run_id', v_id, 'held_by', v_prev.id);
    end if;
  end if;

  insert into public.job_runs (job, trigger, status, message_id, schedule_id, attempt, slot_at, started_at, lag_ms, lease_expires_at)
  values (p_job, p_trigger, 'running', p_message_id, p_schedule_id, p_attempt, p_slot_at, v_now,
          case when p_slot_at is null then null else greatest(0, (extract(epoch from (v_now - p_slot_at)) * 1000)::integer) end,
          v_now + make_interval(secs => p_lease_ms / 1000.0))
  returning id into v_id;
  return jsonb_build_object('decision', 'run', 'run_id', v_id, 'started_at', v_now);
end $$;

create or replace function public.job_run_close(
  p_run_id uuid,
  p_status text,
  p_stats jsonb default null,
  p_error jsonb default null
) returns jsonb
language plpgsql as $$
declare
  v_row public.job_runs;
begin
  if p_status not in ('succeeded', 'failed') then
    raise exception 'a run closes as succeeded or failed, not %', p_status using errcode = '22023';
  end if;
  update public.job_runs
     set status = p_status,
         finished_at = clock_timestamp(),
         duration_ms = (extract(epoch from (clock_timestamp() - started_at)) * 1000)::integer,
         lease_expires_at = null,
         stats = p_stats,
         error = p_error
   where id = p_run_id and status = 'running'
  returning * into v_row;
  if not found then
    return jsonb_build_object('closed', false, 'run_id', p_run_id);
  end if;
  return jsonb_build_object('closed', true, 'run_id', v_row.id, 'status', v_row.status, 'duration_ms', v_row.duration_ms);
end $$;

-- Signatures older than their exp can never be replayed; keep-alive calls this daily.
create or replace function public.used_signatures_prune() returns jsonb
language sql as $$
  with gone as (delete from public.used_signatures where expires_at < now() returning 1)
  select jsonb_build_object('deleted', count(*)) from gone
$$;
