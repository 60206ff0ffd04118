-- Issue 30: deliveries at the database's pace, recovery decided by the close, flat settles.
--
-- 1. job_run_open serialized every open of a job on the job's advisory lock, held until the commit
--    had flushed the WAL: at concurrency 20 the one-time messages of one job opened one at a time.
--    A plain message (no slot, no concurrency limit: nothing decided across the job's runs) now
--    serializes only with the deliveries of its own message id; ticks, slots and concurrency limits
--    keep the job's lock. A message that turns out to carry a slot (an earlier attempt had one)
--    takes the job's lock too before anything is decided by the slot (lock order: message, job).
-- 2. job_run_close commits without waiting for the WAL flush (docs/decisions/008) and closes the
--    job's open alert incident in the same call when the run succeeded and is not a catch-up or
--    backfill, answering `recovered` with what the recovery notice needs: a delivery is again one
--    open and one close. alert_recover stays for callers outside a run.
-- 3. effects_settle finds a page's claims by primary key (key = any(...)), not through
--    effects_run_idx, which holds every claim the run made so far (dead versions too, until a
--    vacuum): a page costs the same at the end of a run as at its start.

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
  -- Nothing about this open depends on the job's other runs: only on its own message's.
  v_plain boolean := p_kind = 'message' and p_concurrency is null and p_slot_at is null;
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

  if not v_plain then
    -- Per job: two opens of one slot (or one buffer) serialize here, so each sees the other's row.
    perform pg_advisory_xact_lock(hashtextextended('cronlayer.job:' || p_job, 0));
  elsif p_message_id is not null then
    -- Two deliveries of one message serialize here, so the second sees the first's run.
    perform pg_advisory_xact_lock(hashtextextended('cronlayer.message:' || p_job || ':' || p_message_id, 0));
  end if;

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
    if v_plain and v_slot is not null then
      -- The slot is decided across the job's runs: under the job's lock, after the message's.
      perform pg_advisory_xact_lock(hashtextextended('cronlayer.job:' || p_job, 0));
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

-- Answers `recovered` (alert_recover's answer) when this close ended the job's open incident:
-- exactly one close wins it, as one alert_recover call did.
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
  v_recovered jsonb;
begin
  if p_status not in ('succeeded', 'failed') then
    raise exception 'a run closes as succeeded or failed, not %', p_status using errcode = '22023';
  end if;
  -- A close lost to a database crash leaves the run 'running' until its lease lapses, as a close
  -- that never arrived does; every guarantee holds (docs/decisions/008-closes-commit-without-flush.md).
  -- The transaction's counters (job_runs_rollup) are then no longer held through a WAL flush.
  -- It is the whole transaction's setting: never call this inside a transaction that claims or settles.
  perform set_config('synchronous_commit', 'off', true);
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
  -- A catch-up or backfill says nothing of whether the schedule fires again: no recovery.
  if v_row.status = 'succeeded' and v_row.trigger not in ('catch-up', 'backfill') then
    v_recovered := public.alert_recover(v_row.job, v_now);
  end if;
  return jsonb_build_object('closed', true, 'run_id', v_row.id, 'status', v_row.status, 'duration_ms', v_row.duration_ms)
    || case when v_recovered->>'decision' = 'recovered' then jsonb_build_object('recovered', v_recovered) else '{}'::jsonb end;
end $$;

create or replace function public.effects_settle(p_run_id uuid, p_now timestamptz, p_results jsonb, p_backoff_ms bigint default 60000)
returns table (key text, subject text, status text, result jsonb)
language sql as $$
  with r as (
    -- A key given twice counts once (its first outcome).
    select distinct on (x->>'key') x->>'key' as key, x->>'outcome' as outcome, x->'result' as result, left(x->>'error', 1000) as error
      from jsonb_array_elements(p_results) with ordinality as t (x, ord)
     where x->>'outcome' in ('succeeded', 'failed', 'unknown', 'abandoned', 'released')
     order by x->>'key', ord
  ), page as materialized (
    -- By primary key only: nothing here may lead the planner to effects_run_idx.
    select e.key, e.run_id, e.status, e.attempts, e.reconcile from public.effects e where e.key = any (array(select r.key from r))
  ), mine as materialized (
    -- A first attempt that never started leaves no trace (gone); everything else is updated.
    select p.key, r.outcome, r.result, r.error, (r.outcome = 'released' and p.attempts = 1 and not p.reconcile) as gone
      from page p join r on r.key = p.key
     where p.run_id = p_run_id and p.status = 'claimed'
  ), gone as (
    -- Each row is found from `mine` by primary key. Run and status are checked again on the row
    -- itself, in case a concurrent reclaim changed it since `page`, as a row comparison that
    -- neither an index nor effects_run_idx's predicate can take (that index reads every claim
    -- the run made so far).
    delete from public.effects e using mine m
     where e.key = m.key and m.gone
       and (e.run_id, e.status) is not distinct from (p_run_id, 'claimed'::text) and e.attempts = 1 and not e.reconcile
    returning e.key
  ), upd as (
    update public.effects e
       set status = case
             when m.outcome = 'released' then case when e.reconcile then 'unknown' else 'failed' end
             when m.outcome in ('failed', 'unknown') and e.attempts >= e.max_attempts then 'abandoned'
             else m.outcome end,
           attempts = case when m.outcome = 'released' then e.attempts - 1 else e.attempts end,
           next_attempt_at = case
             when m.outcome = 'released' then p_now
             -- Exponential backoff (1, 2, 4 ... times p_backoff_ms, at most 6 hours) with full-range jitter
             -- in its upper half, so runs that failed together do not retry together.
             when m.outcome in ('failed', 'unknown') then p_now + make_interval(secs =>
               least(p_backoff_ms / 1000.0 * power(2, least(e.attempts - 1, 20)), 21600) * (0.5 + random() / 2))
           end,
           result = coalesce(m.result, e.result),
           last_error = case when m.outcome = 'succeeded' then null when m.outcome = 'released' then e.last_error else coalesce(m.error, e.last_error) end,
           finished_at = case when m.outcome in ('succeeded', 'abandoned')
                                or (m.outcome in ('failed', 'unknown') and e.attempts >= e.max_attempts) then p_now end,
           lease_until = null, updated_at = p_now
      from mine m
     where e.key = m.key and not m.gone
       and (e.run_id, e.status) is not distinct from (p_run_id, 'claimed'::text)
    returning e.key, e.subject, case when m.outcome = 'released' then 'released' else e.status end as status, e.result
  )
  select key, subject, status, result from upd
  union all
  select key, null, 'released', null from gone
$$;
