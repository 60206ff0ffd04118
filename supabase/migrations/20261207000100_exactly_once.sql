-- Exactly once under every interleaving: what a seeded simulation of runs and effects found.
--
-- 1. The ledger reads one clock, cronlayer_now(): the database's, unless the session sets
--    `cronlayer.clock` (the simulation drives leases on a virtual clock; nothing else sets it).
-- 2. An open that arrives after its caller gave up records nothing (p_deadline): a statement held
--    by a frozen connection used to create a 'running' run for a delivery already answered 500.
-- 3. A delivery that finds its message's run in the way is told to come back when that run
--    frees the job: at its expected end while it shows signs of life (renewals), at its lease's
--    end once it has stopped renewing (a crashed run frees its job within one lease).
-- 4. A run asks for a retry run only for effects it settled itself, not for the whole job's.

create or replace function public.cronlayer_now() returns timestamptz
language sql stable as $$
  select coalesce(nullif(current_setting('cronlayer.clock', true), '')::timestamptz, clock_timestamp())
$$;

-- The last sign of life of a running run: its open, then each renewal.
alter table public.job_runs add column if not exists renewed_at timestamptz;

create or replace function public.job_run_retry_after_ms(
  p_started_at timestamptz, p_timeout_ms integer, p_lease_expires_at timestamptz,
  p_renewed_at timestamptz, p_renew_ms integer, p_now timestamptz
) returns bigint
language sql immutable as $$
  select greatest(1000, ceil(extract(epoch from (
    case when p_timeout_ms is not null
              and p_started_at + make_interval(secs => p_timeout_ms / 1000.0) > p_now
              -- Renewed within one and a half intervals: alive, it ends around its timeout.
              and coalesce(p_renewed_at, p_started_at) + make_interval(secs => coalesce(p_renew_ms, 10000) * 1.5 / 1000.0) > p_now
         then p_started_at + make_interval(secs => p_timeout_ms / 1000.0)
         else coalesce(p_lease_expires_at, p_now) end - p_now)) * 1000))::bigint
$$;

drop function if exists public.job_run_open(text, text, text, text, integer, text, timestamptz, text, integer, timestamptz, text, integer, integer, text);

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
  p_concurrency_key text default null,
  -- When the caller stops waiting for this answer; past it, nothing is recorded.
  p_deadline timestamptz default null,
  p_renew_ms integer default 10000
) returns jsonb
language plpgsql as $$
declare
  v_now timestamptz := public.cronlayer_now();
  v_prev record;
  v_slot timestamptz := p_slot_at;
  v_key text := case when p_concurrency is null then null else coalesce(p_concurrency_key, '') end;
  v_id uuid;
begin
  if p_deadline is not null and v_now > p_deadline then
    -- The caller has answered its delivery already (500, retried): a run opened now would be
    -- 'running' with nobody to run it, holding the job until its lease lapsed.
    raise exception 'job_run_open arrived % after its caller gave up; nothing recorded', v_now - p_deadline
      using errcode = '57014';
  end if;
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

  perform pg_advisory_xact_lock(hashtextextended('cronlayer.job:' || p_job, 0));

  -- A run still 'running' past its lease stopped renewing it: its process died, or lost the
  -- database for half a lease and fenced itself (lib/jobs/lease.ts): it makes no effect any more.
  update public.job_runs
     set status = 'failed',
         finished_at = lease_expires_at,
         duration_ms = least(2147483647, greatest(0, extract(epoch from (lease_expires_at - started_at)) * 1000))::integer,
         lease_expires_at = null,
         error = jsonb_build_object('name', 'LeaseExpired',
           'message', 'the run stopped renewing its lease and did not close: its process probably died or lost the database')
   where job = p_job and status = 'running' and lease_expires_at <= v_now;

  if p_message_id is not null then
    select r.slot_at into v_prev
      from public.job_runs r
     where r.job = p_job and r.message_id = p_message_id and r.slot_at is not null
     order by r.started_at
     limit 1;
    if found then
      v_slot := v_prev.slot_at;
    end if;

    select id, status, started_at, timeout_ms, lease_expires_at, renewed_at into v_prev
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
      return jsonb_build_object('decision', 'in_flight', 'run_id', v_prev.id,
        'retry_after_ms', public.job_run_retry_after_ms(v_prev.started_at, v_prev.timeout_ms, v_prev.lease_expires_at, v_prev.renewed_at, p_renew_ms, v_now));
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
    select count(*) as n,
           min(public.job_run_retry_after_ms(started_at, timeout_ms, lease_expires_at, renewed_at, p_renew_ms, v_now)) as wait_ms,
           (array_agg(id order by started_at))[1] as held_by
      into v_prev
      from public.job_runs
     where job = p_job and status = 'running' and (v_key = '' or concurrency_key = v_key);
    if v_prev.n >= p_concurrency then
      return jsonb_build_object('decision', 'wait', 'held_by', v_prev.held_by, 'running', v_prev.n, 'retry_after_ms', v_prev.wait_ms);
    end if;
  end if;

  insert into public.job_runs (job, trigger, status, message_id, schedule_id, attempt, slot_at, started_at, lag_ms,
                               lease_expires_at, renewed_at, timeout_ms, concurrency_key)
  values (p_job, p_trigger, 'running', p_message_id, p_schedule_id, p_attempt, v_slot, v_now,
          case when v_slot is null then null else greatest(0, (extract(epoch from (v_now - v_slot)) * 1000)::bigint) end,
          v_now + make_interval(secs => p_lease_ms / 1000.0), v_now, p_timeout_ms, v_key)
  returning id into v_id;
  return jsonb_build_object('decision', 'run', 'run_id', v_id, 'started_at', v_now, 'slot_at', v_slot);
end $$;

drop function if exists public.job_run_expected_wait_ms(timestamptz, integer, timestamptz, timestamptz);

create or replace function public.job_run_renew(p_run_id uuid, p_lease_ms integer default 30000) returns jsonb
language plpgsql as $$
declare
  v_now timestamptz := public.cronlayer_now();
  v_until timestamptz;
begin
  update public.job_runs
     set lease_expires_at = v_now + make_interval(secs => p_lease_ms / 1000.0), renewed_at = v_now
   where id = p_run_id and status = 'running'
  returning lease_expires_at into v_until;
  if not found then
    return jsonb_build_object('renewed', false, 'run_id', p_run_id);
  end if;
  return jsonb_build_object('renewed', true, 'run_id', p_run_id, 'lease_expires_at', v_until);
end $$;

create or replace function public.job_run_close(
  p_run_id uuid,
  p_status text,
  p_stats jsonb default null,
  p_error jsonb default null
) returns jsonb
language plpgsql as $$
declare
  v_now timestamptz := public.cronlayer_now();
  v_row public.job_runs;
begin
  if p_status not in ('succeeded', 'failed') then
    raise exception 'a run closes as succeeded or failed, not %', p_status using errcode = '22023';
  end if;
  update public.job_runs
     set status = p_status,
         finished_at = v_now,
         duration_ms = least(2147483647, greatest(0, extract(epoch from (v_now - started_at)) * 1000))::integer,
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

-- The effects this run settled as failed or unknown that may be tried again: when the first is
-- due, after p_now. Only the run's own: a message run asks for a retry of its own payload's
-- effects, never because another payload of the same job waits out its backoff.
drop function if exists public.effects_next_attempt(text, timestamptz);
create or replace function public.effects_next_attempt(p_job text, p_now timestamptz, p_run_id uuid)
returns jsonb
language sql stable as $$
  select to_jsonb(min(next_attempt_at)) from public.effects
   where run_id = p_run_id and job = p_job and status in ('failed', 'unknown')
     and next_attempt_at > p_now and attempts < max_attempts
$$;
create index if not exists effects_run_retry_idx on public.effects (run_id) where status in ('failed', 'unknown');
