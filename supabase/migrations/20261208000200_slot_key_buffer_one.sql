-- Issue 28: a slot runs once, and overlap "buffer-one".
--
-- 1. Triggers `catch-up` (the watchdog runs a missed slot) and `backfill` (a past range replayed):
--    one-time QStash messages that name their slot.
-- 2. The slot key: a run that has a slot (a scheduled tick, or a catch-up/backfill message) is keyed
--    by (job, slot_at). A doubled tick (a transport firing twice for one slot, with two message ids)
--    used to run twice; a catch-up racing a late tick would too. Now: a succeeded run of the slot
--    makes the open a duplicate; a running one makes a tick skip and a message come back later
--    (in_flight, 429 + Retry-After). A failed run of the slot does not block it.
-- 3. Overlap "buffer-one": a tick arriving while a run holds the job waits (429 + Retry-After) if no
--    other tick waits; later ticks skip. The waiter is recorded on the run it waits for
--    (buffered_message_id, buffered_slot_at, buffered_at): at most one waits per holder, so the
--    holder is where "the only one" is decided, atomically under the job's advisory lock, with no
--    new status for the rollups, job_stats and the console to learn. The columns stay after the
--    holder closes: the ledger shows who waited, and the waiter, delivered again, runs with the slot
--    it first arrived for.

alter table public.job_runs drop constraint if exists job_runs_trigger_check;
-- NOT VALID, then VALIDATE: the check of the existing rows does not block writes to the ledger.
alter table public.job_runs add constraint job_runs_trigger_check
  check (trigger in ('qstash', 'vercel', 'manual', 'cli', 'catch-up', 'backfill')) not valid;
alter table public.job_runs validate constraint job_runs_trigger_check;

alter table public.job_runs add column if not exists buffered_message_id text;
alter table public.job_runs add column if not exists buffered_slot_at timestamptz;
alter table public.job_runs add column if not exists buffered_at timestamptz;
-- A waiter delivered again finds the slot it was buffered for: one probe, only buffered rows indexed.
create index if not exists job_runs_buffered_idx on public.job_runs (job, buffered_message_id) where buffered_message_id is not null;

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
  v_waiting_since timestamptz;
begin
  if p_deadline is not null and v_now > p_deadline then
    -- The caller has answered its delivery already (500, retried): a run opened now would be
    -- 'running' with nobody to run it, holding the job until its lease lapsed.
    raise exception 'job_run_open arrived % after its caller gave up; nothing recorded', v_now - p_deadline
      using errcode = '57014';
  end if;
  if p_overlap not in ('skip', 'allow', 'buffer-one') then
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

  -- Per job: two opens of one slot (or one buffer) serialize here, so each sees the other's row.
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
    else
      -- A buffered tick delivered again: it runs for the slot it first arrived for.
      select b.buffered_slot_at, b.buffered_at into v_prev
        from public.job_runs b
       where b.job = p_job and b.buffered_message_id = p_message_id
       order by b.buffered_at
       limit 1;
      if found then
        v_slot := coalesce(v_prev.buffered_slot_at, v_slot);
        v_waiting_since := v_prev.buffered_at;
      end if;
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

  -- The slot key, whatever the message id: one probe of job_runs_job_slot_idx (a slot has few rows).
  if v_slot is not null then
    select id, status, started_at, timeout_ms, lease_expires_at, renewed_at into v_prev
      from public.job_runs
     where job = p_job and slot_at = v_slot and status in ('succeeded', 'running')
     order by (status = 'succeeded') desc
     limit 1;
    if found and v_prev.status = 'succeeded' then
      insert into public.job_runs (job, trigger, status, message_id, schedule_id, attempt, slot_at, started_at, finished_at, duration_ms, stats)
      values (p_job, p_trigger, 'duplicate', p_message_id, p_schedule_id, p_attempt, v_slot, v_now, v_now, 0,
              jsonb_build_object('original_run_id', v_prev.id, 'same_slot', true))
      returning id into v_id;
      return jsonb_build_object('decision', 'duplicate', 'run_id', v_id, 'original_run_id', v_prev.id);
    elsif found and p_kind = 'tick' then
      -- A second tick of a running slot is a doubled delivery, not a later tick: it never takes
      -- buffer-one's place, and the running run's own message is retried by QStash if it fails.
      insert into public.job_runs (job, trigger, status, message_id, schedule_id, attempt, slot_at, started_at, finished_at, duration_ms, stats)
      values (p_job, p_trigger, 'skipped', p_message_id, p_schedule_id, p_attempt, v_slot, v_now, v_now, 0,
              jsonb_build_object('held_by', v_prev.id, 'same_slot', true))
      returning id into v_id;
      return jsonb_build_object('decision', 'skip', 'run_id', v_id, 'held_by', v_prev.id, 'reason', 'slot running');
    elsif found then
      return jsonb_build_object('decision', 'in_flight', 'run_id', v_prev.id,
        'retry_after_ms', public.job_run_retry_after_ms(v_prev.started_at, v_prev.timeout_ms, v_prev.lease_expires_at, v_prev.renewed_at, p_renew_ms, v_now));
    end if;
    -- A catch-up or backfill of a slot whose tick waits in buffer-one comes back after that tick.
    if p_kind = 'message' then
      select id, started_at, timeout_ms, lease_expires_at, renewed_at into v_prev
        from public.job_runs
       where job = p_job and status = 'running' and buffered_slot_at = v_slot
       limit 1;
      if found then
        return jsonb_build_object('decision', 'in_flight', 'run_id', v_prev.id,
          'retry_after_ms', public.job_run_retry_after_ms(v_prev.started_at, v_prev.timeout_ms, v_prev.lease_expires_at, v_prev.renewed_at, p_renew_ms, v_now));
      end if;
    end if;
  end if;

  if p_kind = 'tick' and p_overlap in ('skip', 'buffer-one') then
    -- The oldest holder (ends first); whether another tick already waits on any holder.
    select r.id, r.started_at, r.timeout_ms, r.lease_expires_at, r.renewed_at,
           count(*) over () as running,
           (array_agg(r.buffered_message_id) filter (where r.buffered_message_id is distinct from p_message_id and r.buffered_message_id is not null) over ())[1] as other_waiter
      into v_prev
      from public.job_runs r
     where r.job = p_job and r.status = 'running'
     order by r.started_at
     limit 1;
    if found then
      -- Only a tick that QStash delivers again can wait (it has a message id); Vercel cron, a
      -- person's run and the CLI are not delivered again, so they skip.
      if p_overlap = 'buffer-one' and p_message_id is not null and v_prev.other_waiter is null then
        update public.job_runs
           set buffered_message_id = p_message_id,
               buffered_slot_at = v_slot,
               buffered_at = coalesce(v_waiting_since, v_now)
         where id = v_prev.id and buffered_message_id is distinct from p_message_id;
        return jsonb_build_object('decision', 'buffered', 'held_by', v_prev.id, 'running', v_prev.running, 'slot_at', v_slot,
          'retry_after_ms', public.job_run_retry_after_ms(v_prev.started_at, v_prev.timeout_ms, v_prev.lease_expires_at, v_prev.renewed_at, p_renew_ms, v_now));
      end if;
      insert into public.job_runs (job, trigger, status, message_id, schedule_id, attempt, slot_at, started_at, finished_at, duration_ms, stats)
      values (p_job, p_trigger, 'skipped', p_message_id, p_schedule_id, p_attempt, v_slot, v_now, v_now, 0,
              jsonb_strip_nulls(jsonb_build_object('held_by', v_prev.id, 'waiting', v_prev.other_waiter)))
      returning id into v_id;
      -- A plain overlap skip answers as before (no reason); the reason names what is new.
      return jsonb_strip_nulls(jsonb_build_object('decision', 'skip', 'run_id', v_id, 'held_by', v_prev.id,
        'reason', case when v_prev.other_waiter is not null then 'another tick waits' end));
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
