-- Run leases that hold while a run lives and lapse soon after it dies, overlap decided for
-- scheduled ticks only, concurrency limits for messages, and lag that fits any slot.
--
-- Before: the lease was the job's timeout (up to minutes), so a killed process held its job that
-- long; a message arriving while another run held the lease was answered "skipped" and lost; lag
-- was cast to integer, so a slot more than 24.8 days back failed the open with "integer out of range".

-- 30 days of lag in milliseconds is past the integer range. Existing values are carried over.
alter table public.job_runs alter column lag_ms type bigint;
-- The run's own timeout: a second delivery of its message is told to come back when the run is
-- expected to end, not when the lease (renewed while the run lives) would lapse.
alter table public.job_runs add column if not exists timeout_ms integer;
-- What a message run counts against when its job limits concurrency (per job: '', or per key).
-- The running runs of one job are few: job_runs_running_idx finds them, no index of its own.
alter table public.job_runs add column if not exists concurrency_key text;

-- How long a delivery that found this run in its way should wait: until the run's expected end
-- (start + timeout); a run already past its timeout is settling, and has settled or lost its
-- lease by the lease's end. At least one second.
create or replace function public.job_run_expected_wait_ms(
  p_started_at timestamptz, p_timeout_ms integer, p_lease_expires_at timestamptz, p_now timestamptz
) returns bigint
language sql immutable as $$
  select greatest(1000, ceil(extract(epoch from (
    case when p_timeout_ms is not null and p_started_at + make_interval(secs => p_timeout_ms / 1000.0) > p_now
         then p_started_at + make_interval(secs => p_timeout_ms / 1000.0)
         else coalesce(p_lease_expires_at, p_now) end - p_now)) * 1000))::bigint
$$;

drop function if exists public.job_run_open(text, text, text, text, integer, text, timestamptz, text, integer, timestamptz);

-- p_kind: 'tick' (a scheduled run: Vercel cron, a QStash schedule, a manual or CLI run) follows the
-- overlap policy; 'message' (a one-time or event delivery, which carries its own work) is never
-- skipped: it runs, or waits while p_concurrency runs with its key already hold the job.
create or replace function public.job_run_open(
  p_job text,
  p_trigger text,
  p_message_id text default null,
  p_schedule_id text default null,
  p_attempt integer default 0,
  p_jti text default null,
  p_jti_expires_at timestamptz default null,
  p_overlap text default 'skip',
  p_lease_ms integer default 30000,
  p_slot_at timestamptz default null,
  p_kind text default 'tick',
  p_timeout_ms integer default null,
  p_concurrency integer default null,
  p_concurrency_key text default null
) returns jsonb
language plpgsql as $$
declare
  v_now timestamptz := clock_timestamp();
  v_prev record;
  v_slot timestamptz := p_slot_at;
  v_key text := case when p_concurrency is null then null else coalesce(p_concurrency_key, '') end;
  v_id uuid;
begin
  if p_overlap not in ('skip', 'allow') then
    raise exception 'unknown overlap policy %', p_overlap using errcode = '22023';
  end if;
  if p_kind not in ('tick', 'message') then
    raise exception 'unknown run kind % (tick or message)', p_kind using errcode = '22023';
  end if;
  if p_concurrency is not null and p_concurrency < 1 then
    raise exception 'concurrency limit must be at least 1, got %', p_concurrency using errcode = '22023';
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

  -- A run still 'running' past its lease stopped renewing it: its process died.
  update public.job_runs
     set status = 'failed',
         finished_at = lease_expires_at,
         duration_ms = least(2147483647, greatest(0, extract(epoch from (lease_expires_at - started_at)) * 1000))::integer,
         lease_expires_at = null,
         error = jsonb_build_object('name', 'LeaseExpired',
           'message', 'the run stopped renewing its lease and did not close: its process probably died or lost the database')
   where job = p_job and status = 'running' and lease_expires_at <= v_now;

  if p_message_id is not null then
    -- A retry belongs to the slot of its first attempt, so lag and missed-run checks see the real delay.
    select r.slot_at into v_prev
      from public.job_runs r
     where r.job = p_job and r.message_id = p_message_id and r.slot_at is not null
     order by r.started_at
     limit 1;
    if found then
      v_slot := v_prev.slot_at;
    end if;

    select id, status, started_at, timeout_ms, lease_expires_at into v_prev
      from public.job_runs
     where job = p_job and message_id = p_message_id and status in ('succeeded', 'running')
     order by (status = 'succeeded') desc
     limit 1;
    if found and v_prev.status = 'succeeded' then
      insert into public.job_runs (job, trigger, status, message_id, schedule_id, attempt, slot_at, started_at, finished_at, duration_ms, stats)
      values (p_job, p_trigger, 'duplicate', p_message_id, p_schedule_id, p_attempt, v_slot, v_now, v_now, 0,
              jsonb_build_object('original_run_id', v_prev.id))
      returning id into v_id;
      return jsonb_build_object('decision', 'duplicate', 'run_id', v_id, 'original_run_id', v_prev.id);
    elsif found then
      -- Not done yet: the first attempt may still fail, so QStash must keep a delivery to retry.
      return jsonb_build_object('decision', 'in_flight', 'run_id', v_prev.id,
        'retry_after_ms', public.job_run_expected_wait_ms(v_prev.started_at, v_prev.timeout_ms, v_prev.lease_expires_at, v_now));
    end if;
  end if;

  if p_kind = 'tick' and p_overlap = 'skip' then
    select id into v_prev from public.job_runs where job = p_job and status = 'running' limit 1;
    if found then
      insert into public.job_runs (job, trigger, status, message_id, schedule_id, attempt, slot_at, started_at, finished_at, duration_ms, stats)
      values (p_job, p_trigger, 'skipped', p_message_id, p_schedule_id, p_attempt, v_slot, v_now, v_now, 0,
              jsonb_build_object('held_by', v_prev.id))
      returning id into v_id;
      return jsonb_build_object('decision', 'skip', 'run_id', v_id, 'held_by', v_prev.id);
    end if;
  end if;

  if p_kind = 'message' and p_concurrency is not null then
    -- Without a key the limit is per job and counts every run of it; with one, the runs sharing it.
    select count(*) as n, min(public.job_run_expected_wait_ms(started_at, timeout_ms, lease_expires_at, v_now)) as wait_ms,
           (array_agg(id order by started_at))[1] as held_by
      into v_prev
      from public.job_runs
     where job = p_job and status = 'running' and (v_key = '' or concurrency_key = v_key);
    if v_prev.n >= p_concurrency then
      return jsonb_build_object('decision', 'wait', 'held_by', v_prev.held_by, 'running', v_prev.n, 'retry_after_ms', v_prev.wait_ms);
    end if;
  end if;

  insert into public.job_runs (job, trigger, status, message_id, schedule_id, attempt, slot_at, started_at, lag_ms,
                               lease_expires_at, timeout_ms, concurrency_key)
  values (p_job, p_trigger, 'running', p_message_id, p_schedule_id, p_attempt, v_slot, v_now,
          case when v_slot is null then null else greatest(0, (extract(epoch from (v_now - v_slot)) * 1000)::bigint) end,
          v_now + make_interval(secs => p_lease_ms / 1000.0), p_timeout_ms, v_key)
  returning id into v_id;
  return jsonb_build_object('decision', 'run', 'run_id', v_id, 'started_at', v_now, 'slot_at', v_slot);
end $$;

-- Extends the lease of a run that is still running; a run someone else already recorded as
-- failed (its lease lapsed) is not revived: the caller learns it lost the lease.
create or replace function public.job_run_renew(p_run_id uuid, p_lease_ms integer default 30000) returns jsonb
language plpgsql as $$
declare
  v_until timestamptz;
begin
  update public.job_runs
     set lease_expires_at = clock_timestamp() + make_interval(secs => p_lease_ms / 1000.0)
   where id = p_run_id and status = 'running'
  returning lease_expires_at into v_until;
  if not found then
    return jsonb_build_object('renewed', false, 'run_id', p_run_id);
  end if;
  return jsonb_build_object('renewed', true, 'run_id', p_run_id, 'lease_expires_at', v_until);
end $$;
