-- The clinic product: a doctor sends a patient a form with a deadline; a patient who has not
-- submitted it by then gets a call from a voice assistant. The call is a one-time QStash message
-- published for the deadline (owner `form:<id>:deadline` in job_messages); check-forms, hourly,
-- sweeps the forms whose message was lost. The call itself is the effect `call:<form id>`.
--
--   pending      waiting for the patient or the deadline
--   submitted    the patient sent it (before or after a call): never called again
--   called       the call was placed (call_id, called_at, a row in calls)
--   call_failed  the call could not be placed for good (a number Vapi refuses, out of attempts)
create table if not exists public.patients (
  id uuid primary key default gen_random_uuid(),
  name text not null check (length(name) between 1 and 200),
  -- E.164: a plus, a country code, at most 15 digits in all.
  phone text not null unique check (phone ~ '^\+[1-9][0-9]{6,14}$'),
  zone text,
  created_at timestamptz not null default now()
);
alter table public.patients enable row level security;

create table if not exists public.forms (
  id uuid primary key default gen_random_uuid(),
  patient_id uuid not null references public.patients (id) on delete cascade,
  title text not null check (length(title) between 1 and 300),
  deadline timestamptz not null,
  status text not null default 'pending' check (status in ('pending', 'submitted', 'called', 'call_failed')),
  -- The QStash message that calls at the deadline (the latest one published).
  call_message_id text,
  call_id text,
  called_at timestamptz,
  submitted_at timestamptz,
  -- Why the call failed last (the effect's error, copied for the API): attempts, claims and
  -- backoff live in effects only.
  call_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
-- check-forms: pending forms by deadline.
create index if not exists forms_pending_deadline_idx on public.forms (deadline, id) where status = 'pending';
create index if not exists forms_patient_idx on public.forms (patient_id);
alter table public.forms enable row level security;

create table if not exists public.calls (
  id uuid primary key default gen_random_uuid(),
  form_id uuid not null references public.forms (id) on delete cascade,
  patient_id uuid not null references public.patients (id) on delete cascade,
  phone text not null,
  provider text not null,
  -- The provider's id of the call (Vapi's call id); one row per call placed.
  call_id text not null unique,
  status text,
  created_at timestamptz not null default now()
);
create index if not exists calls_form_idx on public.calls (form_id);
alter table public.calls enable row level security;

-- What the API answers about a form.
create or replace function public.form_json(f public.forms) returns jsonb
language sql stable as $$
  select jsonb_build_object('id', f.id, 'status', f.status, 'title', f.title, 'deadline', f.deadline, 'patientId', f.patient_id,
                            'callMessageId', f.call_message_id, 'callId', f.call_id, 'calledAt', f.called_at,
                            'submittedAt', f.submitted_at, 'lastError', f.call_error)
$$;

-- Creates a form for a patient, found by phone (name and zone updated) or created.
create or replace function public.forms_create(p_patient jsonb, p_title text, p_deadline timestamptz, p_now timestamptz)
returns jsonb
language sql as $$
  with p as (
    insert into public.patients as x (name, phone, zone, created_at)
    values (p_patient->>'name', p_patient->>'phone', p_patient->>'zone', p_now)
    on conflict (phone) do update set name = excluded.name, zone = coalesce(excluded.zone, x.zone)
    returning x.id
  ), f as (
    insert into public.forms (patient_id, title, deadline, created_at, updated_at)
    select p.id, p_title, p_deadline, p_now, p_now from p
    returning *
  )
  select public.form_json(f) from f
$$;

-- A form that could not be scheduled is taken back, so the caller can simply retry.
create or replace function public.forms_discard(p_form_id uuid) returns jsonb
language sql as $$
  with d as (delete from public.forms where id = p_form_id and status = 'pending' and call_message_id is null returning 1)
  select jsonb_build_object('deleted', count(*)) from d
$$;

create or replace function public.forms_get(p_form_id uuid) returns jsonb
language sql stable as $$
  select public.form_json(f) from public.forms f where f.id = p_form_id
$$;

-- Records the message that now calls at the deadline.
create or replace function public.forms_set_message(p_form_id uuid, p_message_id text, p_now timestamptz) returns jsonb
language sql as $$
  update public.forms f set call_message_id = p_message_id, updated_at = p_now where f.id = p_form_id
  returning public.form_json(f)
$$;

-- Moves a pending form's deadline. {found: false} for no such form; {form} as it is now otherwise
-- (the caller sees from its status whether the move applied: only a pending form moves).
create or replace function public.forms_move_deadline(p_form_id uuid, p_deadline timestamptz, p_now timestamptz) returns jsonb
language sql as $$
  with upd as (
    update public.forms f set deadline = p_deadline, updated_at = p_now
     where f.id = p_form_id and f.status = 'pending'
    returning public.form_json(f) as j
  )
  select case
    when exists (select 1 from upd) then jsonb_build_object('found', true, 'moved', true, 'form', (select j from upd))
    when exists (select 1 from public.forms where id = p_form_id) then jsonb_build_object('found', true, 'moved', false, 'form', (select public.form_json(f) from public.forms f where f.id = p_form_id))
    else jsonb_build_object('found', false) end
$$;

-- The patient submitted the form: from any state (a called patient may still send it).
-- Submitting twice changes nothing.
create or replace function public.forms_submit(p_form_id uuid, p_now timestamptz) returns jsonb
language sql as $$
  with upd as (
    update public.forms f set status = 'submitted', submitted_at = p_now, updated_at = p_now
     where f.id = p_form_id and f.status <> 'submitted'
    returning public.form_json(f) as j
  )
  select case
    when exists (select 1 from upd) then jsonb_build_object('found', true, 'form', (select j from upd))
    when exists (select 1 from public.forms where id = p_form_id) then jsonb_build_object('found', true, 'form', (select public.form_json(f) from public.forms f where f.id = p_form_id))
    else jsonb_build_object('found', false) end
$$;

-- call-form's due work: the one form, if it is still pending and its deadline has come. Read at
-- delivery, so a submitted form, a moved deadline or a call already made all mean "nothing to do".
create or replace function public.forms_call_due(p_form_id uuid, p_now timestamptz) returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(jsonb_build_object('form_id', f.id, 'title', f.title, 'deadline', f.deadline,
                                               'patient', jsonb_build_object('id', p.id, 'name', p.name, 'phone', p.phone))), '[]'::jsonb)
    from public.forms f join public.patients p on p.id = f.patient_id
   where f.id = p_form_id and f.status = 'pending' and f.deadline <= p_now
$$;

-- Settles call-form's effect and records it on the form in the same transaction: a call placed
-- marks the form called and adds a row to calls; a call abandoned (refused for good, or out of
-- attempts) marks it call_failed; any failure keeps its error on the form.
-- The result of a placed call: {id, status, provider, phone}.
create or replace function public.forms_call_settle(p_run_id uuid, p_now timestamptz, p_results jsonb, p_backoff_ms bigint)
returns jsonb
language sql as $$
  with s as (
    select * from public.effects_settle(p_run_id, p_now, p_results, p_backoff_ms)
  ), r as (
    select x->>'key' as key, left(x->>'error', 1000) as error from jsonb_array_elements(p_results) x
  ), called as (
    update public.forms f
       set status = case when f.status = 'pending' then 'called' else f.status end,
           call_id = s.result->>'id', called_at = p_now, call_error = null, updated_at = p_now
      from s where f.id = s.subject::uuid and s.status = 'succeeded'
    returning f.id, f.patient_id, s.result
  ), logged as (
    insert into public.calls (form_id, patient_id, phone, provider, call_id, status, created_at)
    select c.id, c.patient_id, c.result->>'phone', coalesce(c.result->>'provider', 'vapi'), c.result->>'id', c.result->>'status', p_now from called c
    on conflict (call_id) do nothing
    returning 1
  ), failed as (
    update public.forms f
       set status = case when s.status = 'abandoned' and f.status = 'pending' then 'call_failed' else f.status end,
           call_error = coalesce(r.error, f.call_error), updated_at = p_now
      from s left join r on r.key = s.key
     where f.id = s.subject::uuid and s.status in ('failed', 'unknown', 'abandoned')
    returning 1
  )
  select public.effects_counts(array(select status from s))
    from (select (select count(*) from called) + (select count(*) from logged) + (select count(*) from failed)) done
$$;

-- check-forms: pending forms past their deadline that no one-time message will call: none is
-- scheduled for the form, or the one scheduled was due more than the grace ago (lost, or
-- dead-lettered after its retries). Keyset-paged by (deadline, id) after the previous page's last.
create or replace function public.forms_overdue(
  p_now timestamptz, p_grace_ms bigint, p_after_deadline timestamptz, p_after_id uuid, p_limit integer
) returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(jsonb_build_object('form_id', f.id, 'deadline', f.deadline) order by f.deadline, f.id), '[]'::jsonb)
    from (select f.id, f.deadline from public.forms f
           where f.status = 'pending' and f.deadline <= p_now and f.called_at is null
             and (f.deadline, f.id) > (coalesce(p_after_deadline, '-infinity'), coalesce(p_after_id, '00000000-0000-0000-0000-000000000000'))
             and not exists (select 1 from public.job_messages m
                              where m.owner = 'form:' || f.id || ':deadline' and m.status = 'scheduled'
                                and coalesce(m.not_before, m.created_at) > p_now - make_interval(secs => p_grace_ms / 1000.0))
           order by f.deadline, f.id
           limit p_limit) f
$$;
