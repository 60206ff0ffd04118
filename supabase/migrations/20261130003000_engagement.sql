-- Engagement (the language-learning product): learners, and the emails they were sent.
--
-- A practice reminder goes out in the learner's 09:00 hour, in their zone, on a day they have not
-- practised; founder emails go out on days 1, 2 and 3 after sign-up (their calendar). The planners
-- only say who is due; the send jobs make each email once through effects (keys
-- `practice:<learner>:<local date>`, `founder:<learner>:<step>`), and the finish function below
-- records what went out in engagement_sends in the same transaction. Effects are pruned after 30
-- days; engagement_sends is kept, so a founder step stays sent forever.

-- A zone PostgreSQL does not know would fail every planner page it lands on: refused at the door.
create or replace function public.engagement_valid_zone(p_zone text) returns boolean
language plpgsql stable as $$
begin
  perform now() at time zone p_zone;
  return true;
exception when invalid_parameter_value then
  return false;
end $$;

create table if not exists public.learners (
  id uuid primary key default gen_random_uuid(),
  email text not null unique check (position('@' in email) > 1),
  name text,
  -- The language the learner reads the app (and its emails) in: en, es, fr, de, pt ...
  language text not null default 'en' check (language ~ '^[a-z]{2}(-[A-Z]{2})?$'),
  time_zone text not null default 'UTC' constraint learners_time_zone_valid check (public.engagement_valid_zone(time_zone)),
  signed_up_at timestamptz not null default now(),
  reminders_opted_in boolean not null default true,
  last_practised_at timestamptz,
  -- Set by the unsubscribe link: no engagement email of any kind after it.
  unsubscribed_at timestamptz,
  created_at timestamptz not null default now()
);
-- The practice planner walks zone by zone: the distinct zones, then each due zone's learners.
create index if not exists learners_reminder_zone_idx on public.learners (time_zone, id) where reminders_opted_in and unsubscribed_at is null;
-- The founder planner: learners who signed up in the last few days.
create index if not exists learners_signed_up_idx on public.learners (signed_up_at, id);
alter table public.learners enable row level security;

create table if not exists public.engagement_sends (
  -- The effect key that made it.
  key text primary key,
  learner_id uuid not null references public.learners (id) on delete cascade,
  kind text not null check (kind in ('practice', 'founder')),
  local_date date,
  step smallint check (step between 1 and 3),
  email_id text,
  sent_at timestamptz not null,
  check ((kind = 'practice') = (local_date is not null) and (kind = 'founder') = (step is not null))
);
create index if not exists engagement_sends_learner_idx on public.engagement_sends (learner_id, sent_at);
alter table public.engagement_sends enable row level security;

-- Learners whose local time at p_now is in the 09:00 hour, opted in, who have not practised on
-- their local today and have no reminder for it: a page after (p_after_zone, p_after_id).
-- Zones come first (a skip scan over the index: a few hundred at most), so only the learners of
-- the zones at 09:xx are read. A zone 30 or 45 minutes off the hour (Asia/Kolkata) is at 09:30 at
-- the hourly :00 tick: still its 09:00 hour, so exactly one tick a day finds each zone.
create or replace function public.engagement_practice_due(p_now timestamptz, p_after_zone text, p_after_id uuid, p_limit integer)
returns jsonb
language sql stable as $$
  with recursive zones (z) as (
    (select time_zone from public.learners where reminders_opted_in and unsubscribed_at is null order by time_zone limit 1)
    union all
    select (select l.time_zone from public.learners l
             where l.reminders_opted_in and l.unsubscribed_at is null and l.time_zone > zones.z
             order by l.time_zone limit 1)
      from zones where zones.z is not null
  ), nine as (
    select z, (p_now at time zone z)::date as local_date
      from zones
     where z is not null and extract(hour from p_now at time zone z) = 9
  )
  select coalesce(jsonb_agg(jsonb_build_object('learner_id', d.id, 'time_zone', d.time_zone, 'local_date', d.local_date)
           order by d.time_zone, d.id), '[]'::jsonb)
    from (select l.id, l.time_zone, n.local_date
            from nine n
            join public.learners l on l.time_zone = n.z
           where l.reminders_opted_in and l.unsubscribed_at is null
             and (l.time_zone, l.id) > (coalesce(p_after_zone, ''), coalesce(p_after_id, '00000000-0000-0000-0000-000000000000'::uuid))
             and (l.last_practised_at is null or (l.last_practised_at at time zone l.time_zone)::date < n.local_date)
             and not exists (select 1 from public.engagement_sends s where s.key = 'practice:' || l.id || ':' || n.local_date)
           order by l.time_zone, l.id
           limit p_limit) d
$$;

-- Learners on day 1, 2 or 3 after sign-up in their own calendar (day 0 is the day they signed up),
-- not unsubscribed, who have not had that step: a page after (p_after_signed_up_at, p_after_id).
-- Every zone's calendar is within a day of UTC's, so the last five days of sign-ups hold them all.
create or replace function public.engagement_founder_due(p_now timestamptz, p_after_signed_up_at timestamptz, p_after_id uuid, p_limit integer)
returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(jsonb_build_object('learner_id', d.id, 'step', d.step, 'signed_up_at', d.signed_up_at)
           order by d.signed_up_at, d.id), '[]'::jsonb)
    from (select l.id, l.signed_up_at, s.step
            from public.learners l
           cross join lateral (select ((p_now at time zone l.time_zone)::date - (l.signed_up_at at time zone l.time_zone)::date) as step) s
           where l.signed_up_at > p_now - interval '5 days' and l.signed_up_at <= p_now
             and (l.signed_up_at, l.id) > (coalesce(p_after_signed_up_at, '-infinity'::timestamptz), coalesce(p_after_id, '00000000-0000-0000-0000-000000000000'::uuid))
             and s.step between 1 and 3
             and l.unsubscribed_at is null
             and not exists (select 1 from public.engagement_sends x where x.key = 'founder:' || l.id || ':' || s.step)
           order by l.signed_up_at, l.id
           limit p_limit) d
$$;

-- At delivery: the learner, when their reminder for p_local_date is still wanted (opted in, still
-- that day in their zone, not practised on it, not sent). [] when not.
create or replace function public.engagement_practice_target(p_learner uuid, p_local_date date, p_now timestamptz)
returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(jsonb_build_object('learner_id', l.id, 'email', l.email, 'name', l.name, 'language', l.language,
           'time_zone', l.time_zone, 'local_date', p_local_date)), '[]'::jsonb)
    from public.learners l
   where l.id = p_learner
     and l.reminders_opted_in and l.unsubscribed_at is null
     and (p_now at time zone l.time_zone)::date = p_local_date
     and (l.last_practised_at is null or (l.last_practised_at at time zone l.time_zone)::date < p_local_date)
     and not exists (select 1 from public.engagement_sends s where s.key = 'practice:' || l.id || ':' || p_local_date)
$$;

-- At delivery: the learner, when founder email p_step is still wanted (not unsubscribed, not sent).
create or replace function public.engagement_founder_target(p_learner uuid, p_step integer)
returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(jsonb_build_object('learner_id', l.id, 'email', l.email, 'name', l.name, 'language', l.language,
           'time_zone', l.time_zone, 'signed_up_at', l.signed_up_at, 'step', p_step)), '[]'::jsonb)
    from public.learners l
   where l.id = p_learner and l.unsubscribed_at is null
     and not exists (select 1 from public.engagement_sends s where s.key = 'founder:' || l.id || ':' || p_step)
$$;

-- Settles a send job's page (effects_settle) and records each email that went out, in one
-- transaction: keys are `practice:<learner>:<yyyy-mm-dd>` or `founder:<learner>:<step>`, the
-- result `{email: <Resend id>}`.
create or replace function public.engagement_sends_finish(p_run_id uuid, p_now timestamptz, p_results jsonb, p_backoff_ms bigint default 60000)
returns jsonb
language sql as $$
  with settled as (
    select * from public.effects_settle(p_run_id, p_now, p_results, p_backoff_ms)
  ), sent as (
    insert into public.engagement_sends (key, learner_id, kind, local_date, step, email_id, sent_at)
    select s.key, split_part(s.key, ':', 2)::uuid, split_part(s.key, ':', 1),
           case when s.key like 'practice:%' then split_part(s.key, ':', 3)::date end,
           case when s.key like 'founder:%' then split_part(s.key, ':', 3)::smallint end,
           s.result->>'email', p_now
      from settled s
     where s.status = 'succeeded'
       and exists (select 1 from public.learners l where l.id::text = split_part(s.key, ':', 2))
    on conflict (key) do nothing
    returning 1
  )
  select public.effects_counts(array(select status from settled))
$$;

-- The unsubscribe link: no more engagement email for this learner. Returns whether the learner
-- exists and whether this call changed anything (a second click changes nothing).
create or replace function public.engagement_unsubscribe(p_learner uuid, p_now timestamptz)
returns jsonb
language sql as $$
  with before as (
    select reminders_opted_in, unsubscribed_at from public.learners where id = p_learner
  ), upd as (
    update public.learners
       set reminders_opted_in = false, unsubscribed_at = coalesce(unsubscribed_at, p_now)
     where id = p_learner
    returning 1
  )
  -- Every part of the statement sees the rows as they were before it: `before` is the old state.
  select jsonb_build_object('found', exists (select 1 from before),
                            'changed', exists (select 1 from before where reminders_opted_in or unsubscribed_at is null))
    from (select count(*) from upd) u
$$;
