-- Schedules that never silently miss (lib/jobs/catch-up.ts, jobs/system/watchdog.ts).
--
-- schedule_slots: what the watchdog decided for a slot that no delivery reached. The primary key
-- is the decision's key: two watchdogs (the QStash one and keep-alive) decide a slot once, and the
-- catch-up run is keyed by the slot in job_run_open, so a late tick and a person can't run it twice.
--   catch-up  a run was (or is to be) published for the slot; message_id once it was
--   covered   an older missed slot of a sweep job, covered by the catch-up of a later one
--   missed    older than the catch-up window (or catch-up off): reported, never run
create table if not exists public.schedule_slots (
  job text not null,
  slot_at timestamptz not null,
  decision text not null check (decision in ('catch-up', 'covered', 'missed')),
  decided_at timestamptz not null,
  message_id text,
  primary key (job, slot_at)
);
create index if not exists schedule_slots_decided_idx on public.schedule_slots (decided_at);
alter table public.schedule_slots enable row level security;

-- The slots of p_items ([{job, slots: [iso...], after_last_run?}]) that no run records (any status:
-- a failed run was delivered, its retries and dead letter are QStash's) and that no decision covers
-- yet. `after_last_run`: only those after the job's latest run (a schedule missing in QStash has no
-- creation time: it fired until its last run, so earlier slots are not its misses).
create or replace function public.schedule_slots_unseen(p_items jsonb)
returns jsonb
language sql stable as $$
  with wanted as (
    select i->>'job' as job, s::timestamptz as slot_at
      from jsonb_array_elements(p_items) i, jsonb_array_elements_text(i->'slots') s
     where not coalesce((i->>'after_last_run')::boolean, false)
        or s::timestamptz > coalesce((select max(r.slot_at) from public.job_runs r where r.job = i->>'job'), '-infinity')
  )
  select coalesce(jsonb_object_agg(job, slots), '{}'::jsonb) from (
    select w.job, jsonb_agg(w.slot_at order by w.slot_at) as slots
      from wanted w
     where not exists (select 1 from public.job_runs r where r.job = w.job and r.slot_at = w.slot_at)
       -- A tick waiting behind a running run (overlap buffer-one) is on its way, not missed.
       and not exists (select 1 from public.job_runs r where r.job = w.job and r.buffered_slot_at = w.slot_at)
       and not exists (select 1 from public.schedule_slots d where d.job = w.job and d.slot_at = w.slot_at)
     group by w.job
  ) x
$$;

-- Records decisions ([{job, slot, decision}]); returns those this call made (a concurrent caller's
-- are left out, so only one of them acts on a slot).
create or replace function public.schedule_slots_decide(p_items jsonb, p_now timestamptz default null)
returns jsonb
language sql as $$
  with made as (
    insert into public.schedule_slots (job, slot_at, decision, decided_at)
    select i->>'job', (i->>'slot')::timestamptz, i->>'decision', coalesce(p_now, public.cronlayer_now())
      from jsonb_array_elements(p_items) i
    on conflict (job, slot_at) do nothing
    returning job, slot_at, decision
  )
  select coalesce(jsonb_agg(jsonb_build_object('job', job, 'slot', slot_at, 'decision', decision) order by job, slot_at), '[]'::jsonb) from made
$$;

create or replace function public.schedule_slots_published(p_job text, p_slot timestamptz, p_message_id text)
returns void
language sql as $$
  update public.schedule_slots set message_id = p_message_id where job = p_job and slot_at = p_slot
$$;

-- Catch-up decisions whose message was never published (the publish failed): the next watchdog
-- publishes them, if they are still within their window (the caller checks).
create or replace function public.schedule_slots_unpublished(p_since timestamptz)
returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(jsonb_build_object('job', job, 'slot', slot_at) order by slot_at), '[]'::jsonb)
    from public.schedule_slots
   where decision = 'catch-up' and message_id is null and decided_at >= p_since
     and not exists (select 1 from public.job_runs r where r.job = schedule_slots.job and r.slot_at = schedule_slots.slot_at)
$$;

-- What the sweeps decided in (p_from, p_to], per job and decision: keep-alive's digest says so
-- instead of listing those slots again.
create or replace function public.schedule_slots_summary(p_from timestamptz, p_to timestamptz)
returns jsonb
language sql stable as $$
  select coalesce(jsonb_object_agg(job, counts), '{}'::jsonb) from (
    select job, jsonb_object_agg(decision, n) as counts from (
      select job, decision, count(*) as n from public.schedule_slots
       where decided_at > p_from and decided_at <= p_to group by job, decision
    ) c group by job
  ) x
$$;

create or replace function public.schedule_slots_prune(p_before timestamptz, p_limit integer default 5000)
returns jsonb
language sql as $$
  with gone as (
    delete from public.schedule_slots
     where (job, slot_at) in (select job, slot_at from public.schedule_slots where decided_at < p_before order by decided_at limit p_limit)
    returning 1
  )
  select jsonb_build_object('deleted', count(*), 'more', count(*) = p_limit) from gone
$$;

-- Pause on failure: each automatic pause of a schedule. `since` is where the failure streak that
-- caused it began; unique, so two failure callbacks of one streak pause (and alert) once.
create table if not exists public.schedule_pauses (
  job text not null,
  since timestamptz not null,
  paused_at timestamptz not null,
  failures integer not null,
  primary key (job, since)
);
alter table public.schedule_pauses enable row level security;

-- The job's scheduled messages dead-lettered since its last success or its last automatic pause,
-- whichever is later; with p_threshold reached, records the pause and says whether this call did.
create or replace function public.schedule_failure_streak(p_job text, p_threshold integer, p_now timestamptz default null)
returns jsonb
language plpgsql as $$
declare
  v_now timestamptz := coalesce(p_now, public.cronlayer_now());
  v_since timestamptz;
  v_failures integer;
  v_paused boolean := false;
begin
  perform pg_advisory_xact_lock(hashtextextended('cronlayer.pause:' || p_job, 0));
  select greatest(
           (select max(started_at) from public.job_runs where job = p_job and status = 'succeeded'),
           (select max(paused_at) from public.schedule_pauses where job = p_job),
           '-infinity'::timestamptz)
    into v_since;
  select count(*) into v_failures
    from public.dead_letters
   where job = p_job and schedule_id is not null and created_at > v_since;
  if v_failures >= p_threshold then
    insert into public.schedule_pauses (job, since, paused_at, failures)
    values (p_job, v_since, v_now, v_failures)
    on conflict do nothing;
    v_paused := found;
  end if;
  return jsonb_build_object('failures', v_failures, 'since', v_since, 'pause', v_paused);
end $$;

revoke execute on function public.schedule_slots_unseen(jsonb) from public;
revoke execute on function public.schedule_slots_decide(jsonb, timestamptz) from public;
revoke execute on function public.schedule_slots_published(text, timestamptz, text) from public;
revoke execute on function public.schedule_slots_unpublished(timestamptz) from public;
revoke execute on function public.schedule_slots_summary(timestamptz, timestamptz) from public;
revoke execute on function public.schedule_slots_prune(timestamptz, integer) from public;
revoke execute on function public.schedule_failure_streak(text, integer, timestamptz) from public;

-- The latest slot of the job that a run succeeded for, before p_before: keep-alive sweeps back to
-- its previous success, so a daily run that Vercel lost (it never retries) leaves no slot undecided.
-- Slots, not start times: both are the app's clock, as the run's own slot is.
create or replace function public.job_last_success(p_job text, p_before timestamptz)
returns jsonb
language sql stable as $$
  select jsonb_build_object('at', max(slot_at)) from public.job_runs
   where job = p_job and status = 'succeeded' and slot_at < p_before
$$;
revoke execute on function public.job_last_success(text, timestamptz) from public;
