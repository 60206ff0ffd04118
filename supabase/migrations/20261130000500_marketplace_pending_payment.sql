-- Bookings awaiting payment have a deadline (payment_due_at). Past it the booking lapses: it is
-- marked expired by cleanup-expired-reservations and the slot hold it kept is released, so the
-- expert's time can be booked again. Until it is paid a booking is not an appointment: only
-- confirmed ones get appointment reminders (send-payment-reminders speaks to unpaid ones).

-- 'expired' says why the booking ended (the client never paid), which 'cancelled' would hide.
alter table public.appointments drop constraint if exists appointments_status_check;
alter table public.appointments add constraint appointments_status_check
  check (status in ('pending_payment', 'confirmed', 'completed', 'cancelled', 'expired'));

-- Expires unpaid bookings past their deadline and releases the slot hold of each: the held
-- reservation of the same expert, client and start. A hold that a later booking of the same slot
-- still needs (the client booked again) is kept. Set-based, paged by p_limit, safe to run twice or
-- concurrently (SKIP LOCKED splits the work; an expired booking no longer matches).
create or replace function public.expire_unpaid_bookings(p_now timestamptz default now(), p_limit integer default 5000)
returns jsonb
language sql as $$
  with lapsed as (
    select id from public.appointments
     where status = 'pending_payment' and payment_due_at <= p_now
     order by payment_due_at, id
     limit p_limit
       for update skip locked
  ), expired as (
    update public.appointments a
       set status = 'expired'
      from lapsed
     where a.id = lapsed.id
    returning a.id, a.expert_id, a.client_id, a.starts_at
  ), released as (
    update public.slot_reservations r
       set status = 'released', released_at = p_now
      from expired e
     where r.status = 'held'
       and r.expert_id = e.expert_id and r.client_id = e.client_id and r.slot_start = e.starts_at
       and not exists (
         select 1 from public.appointments live
          where live.expert_id = r.expert_id and live.client_id = r.client_id and live.starts_at = r.slot_start
            and live.id <> e.id
            and (live.status = 'confirmed' or (live.status = 'pending_payment' and (live.payment_due_at is null or live.payment_due_at > p_now))))
    returning r.id
  )
  select jsonb_build_object(
    'expired', (select count(*) from expired),
    'released', (select count(*) from released),
    'more', (select count(*) from lapsed) = p_limit)
$$;

-- As in 20261123000600_appointment_reminders.sql, but only confirmed appointments are reminded: a
-- booking still awaiting payment may lapse before it starts, and telling the expert to expect it
-- (or the client to attend it) would be wrong.
create or replace function public.appointment_reminders_claim(
  p_kind text,
  p_run_id uuid,
  p_now timestamptz,
  p_window_ms bigint,
  p_lease_ms integer,
  p_limit integer default 250,
  p_after_starts_at timestamptz default null,
  p_after_id uuid default null
) returns jsonb
language plpgsql as $$
declare
  v_result jsonb;
begin
  if p_kind not in ('24h', '1h') then
    raise exception 'unknown reminder kind % (24h or 1h)', p_kind using errcode = '22023';
  end if;
    with cand as materialized (
      select a.id, a.starts_at
        from public.appointments a
       where a.status = 'confirmed'
         and a.starts_at > p_now and a.starts_at <= p_now + make_interval(secs => p_window_ms / 1000.0)
         and (p_after_id is null or (a.starts_at, a.id) > (p_after_starts_at, p_after_id))
       order by a.starts_at, a.id
       limit p_limit
    ), want as (
      -- No NOT EXISTS pre-filter: ON CONFLICT finds sent reminders through the primary key,
      -- whatever the planner believes about a table that grew by 100,000 rows since its last ANALYZE.
      select c.id, r.recipient, 'reminder:' || p_kind || ':' || c.id || ':' || r.recipient as key
        from cand c cross join (values ('client'), ('expert')) r (recipient)
       order by c.starts_at, c.id, r.recipient
    ), claimed as (
      insert into public.notification_claims as n (key, kind, subject_id, recipient, status, claimed_by, claimed_at)
      select w.key, 'reminder-' || p_kind, w.id, w.recipient, 'claimed', p_run_id, p_now from want w
      on conflict (key) do update set status = 'claimed', claimed_by = excluded.claimed_by, claimed_at = excluded.claimed_at, attempts = n.attempts + 1
       where (n.status = 'failed' and n.claimed_by <> p_run_id)
          or (n.status = 'claimed' and n.claimed_at <= p_now - make_interval(secs => p_lease_ms / 1000.0))
      returning n.key, n.subject_id, n.recipient
    )
    select jsonb_build_object(
      'items', coalesce((
        select jsonb_agg(jsonb_build_object(
                 'key', c.key,
                 'appointment_id', a.id,
                 'recipient', c.recipient,
                 'starts_at', a.starts_at,
                 'ends_at', a.ends_at,
                 'to', case when c.recipient = 'client'
                            then jsonb_build_object('id', cl.id, 'name', cl.name, 'email', cl.email, 'time_zone', cl.time_zone)
                            else jsonb_build_object('id', e.id, 'name', e.name, 'email', e.email, 'time_zone', e.time_zone) end,
                 'with_name', case when c.recipient = 'client' then e.name else cl.name end)
                 order by a.starts_at, a.id, c.recipient)
          from claimed c
          join public.appointments a on a.id = c.subject_id
          join public.experts e on e.id = a.expert_id
          join public.clients cl on cl.id = a.client_id), '[]'::jsonb),
      'more', (select count(*) from cand) = p_limit,
      'next', (select jsonb_build_object('starts_at', starts_at, 'id', id) from cand order by starts_at desc, id desc limit 1))
    into v_result;
  return v_result;
end $$;
