-- Failure alerts grouped per job per incident. An incident opens with a job's first failure (a dead
-- letter, a missed slot) and alerts then; more failures within the cooldown are counted, not sent;
-- past the cooldown one more alert says how many came meanwhile; the job's next success closes it
-- with one recovery notice. Every decision is one atomic call, so two instances (two failure
-- callbacks at once, a callback redelivered) never send the same alert twice.

create table if not exists public.alert_incidents (
  id uuid primary key default gen_random_uuid(),
  job text not null,
  opened_at timestamptz not null,
  last_alert_at timestamptz not null,
  -- Alerts sent for this incident, and failures noted since the last one (not sent: cooldown).
  alerts integer not null default 1,
  quiet integer not null default 0,
  recovered_at timestamptz
);
-- One open incident per job: the index is also what makes two concurrent openings one.
create unique index if not exists alert_incidents_open_idx on public.alert_incidents (job) where recovered_at is null;
alter table public.alert_incidents enable row level security;

-- Each failure once (a dead letter's message, a missed slot), with what was decided for it, so a
-- redelivered callback gets the same answer instead of a second alert.
create table if not exists public.alert_events (
  job text not null,
  reason text not null,
  incident_id uuid references public.alert_incidents (id) on delete cascade,
  decision text not null check (decision in ('pending', 'alert', 'quiet')),
  key text,
  at timestamptz not null,
  primary key (job, reason)
);
alter table public.alert_events enable row level security;

-- Each channel's send of an alert is an effect (job 'alerts', key alert:<job>:<incident>:<n>:<channel>),
-- claimed and settled with effects_claim / effects_finish like every other side effect.

create or replace function public.alert_note(p_job text, p_reason text, p_now timestamptz, p_cooldown_ms integer)
returns jsonb language plpgsql as $$
declare
  v_event public.alert_events;
  v_inc public.alert_incidents;
  v_decision text;
  v_key text;
  v_quiet integer := 0;
  v_opened boolean := false;
begin
  -- The failure first: a concurrent call with the same one waits here for this transaction, then
  -- reads what it decided (and counts nothing twice).
  insert into public.alert_events (job, reason, decision, at) values (p_job, p_reason, 'pending', p_now)
  on conflict (job, reason) do nothing;
  if not found then
    select * into v_event from public.alert_events where job = p_job and reason = p_reason;
    return jsonb_build_object('decision', v_event.decision, 'key', v_event.key, 'incident_id', v_event.incident_id, 'repeat', true);
  end if;
  insert into public.alert_incidents (job, opened_at, last_alert_at) values (p_job, p_now, p_now)
  on conflict (job) where recovered_at is null do nothing
  returning * into v_inc;
  if v_inc.id is not null then
    v_opened := true;
    v_decision := 'alert';
  else
    -- Open already (or opened by a concurrent call, whose row this waits for).
    select * into v_inc from public.alert_incidents where job = p_job and recovered_at is null for update;
    if v_inc.last_alert_at <= p_now - make_interval(secs => p_cooldown_ms / 1000.0) then
      v_quiet := v_inc.quiet;
      update public.alert_incidents set alerts = alerts + 1, quiet = 0, last_alert_at = p_now where id = v_inc.id returning * into v_inc;
      v_decision := 'alert';
    else
      update public.alert_incidents set quiet = quiet + 1 where id = v_inc.id;
      v_decision := 'quiet';
    end if;
  end if;
  if v_decision = 'alert' then
    v_key := format('alert:%s:%s:%s', p_job, v_inc.id, v_inc.alerts);
  end if;
  update public.alert_events set incident_id = v_inc.id, decision = v_decision, key = v_key where job = p_job and reason = p_reason;
  return jsonb_build_object('decision', v_decision, 'key', v_key, 'incident_id', v_inc.id, 'opened', v_opened,
    'alerts', v_inc.alerts, 'quiet_since_last', v_quiet, 'opened_at', v_inc.opened_at, 'repeat', false);
end $$;

-- The job succeeded: its open incident (if any) closes, and exactly one caller learns it did.
create or replace function public.alert_recover(p_job text, p_now timestamptz)
returns jsonb language sql as $$
  with closed as (
    update public.alert_incidents set recovered_at = p_now
     where job = p_job and recovered_at is null
    returning id, opened_at, alerts, quiet
  )
  select coalesce((select jsonb_build_object('decision', 'recovered', 'incident_id', id, 'key', format('alert:%s:%s:recovered', p_job, id),
                     'opened_at', opened_at, 'alerts', alerts,
                     'failures', (select count(*) from public.alert_events e where e.incident_id = closed.id))
                   from closed), jsonb_build_object('decision', 'none'))
$$;

revoke execute on function public.alert_note(text, text, timestamptz, integer) from public;
revoke execute on function public.alert_recover(text, timestamptz) from public;
