-- send-payment-reminders: bookings awaiting payment whose deadline is within the window get a
-- reminder, at most p_max per booking and at least p_spacing apart. Reminder n of a booking has the
-- key payment-reminder:<appointment>:<n>, so a retry of reminder n never becomes reminder n+1.
create or replace function public.payment_reminders_claim(
  p_run_id uuid,
  p_now timestamptz,
  p_window_ms bigint,
  p_spacing_ms bigint,
  p_max integer,
  p_lease_ms integer,
  p_limit integer default 250
) returns jsonb
language sql as $$
  with cand as materialized (
    select a.id, s.sent + 1 as seq
      from public.appointments a
      cross join lateral (
        select count(*) filter (where n.status = 'sent') as sent,
               max(n.sent_at) as last_sent,
               coalesce(bool_or((n.status = 'claimed' and n.claimed_at > p_now - make_interval(secs => p_lease_ms / 1000.0))
                             or (n.status = 'failed' and n.claimed_by = p_run_id)), false) as busy
          from public.notification_claims n
         where n.subject_id = a.id and n.kind = 'payment-reminder'
      ) s
     where a.status = 'pending_payment'
       and a.payment_due_at > p_now and a.payment_due_at <= p_now + make_interval(secs => p_window_ms / 1000.0)
       and s.sent < p_max
       and (s.last_sent is null or s.last_sent <= p_now - make_interval(secs => p_spacing_ms / 1000.0))
       and not s.busy
     order by a.payment_due_at, a.id
     limit p_limit
  ), claimed as (
    insert into public.notification_claims as n (key, kind, subject_id, recipient, seq, status, claimed_by, claimed_at)
    select 'payment-reminder:' || c.id || ':' || c.seq, 'payment-reminder', c.id, 'client', c.seq, 'claimed', p_run_id, p_now from cand c
    on conflict (key) do update set status = 'claimed', claimed_by = excluded.claimed_by, claimed_at = excluded.claimed_at, attempts = n.attempts + 1
     where (n.status = 'failed' and n.claimed_by <> p_run_id)
        or (n.status = 'claimed' and n.claimed_at <= p_now - make_interval(secs => p_lease_ms / 1000.0))
    returning n.key, n.subject_id, n.seq
  )
  select jsonb_build_object(
    'items', coalesce((
      select jsonb_agg(jsonb_build_object(
               'key', c.key, 'appointment_id', a.id, 'seq', c.seq, 'max', p_max,
               'starts_at', a.starts_at, 'payment_due_at', a.payment_due_at,
               'amount', (select sum(p.amount_cents) from public.payments p where p.appointment_id = a.id and p.status = 'pending'),
               'currency', coalesce((select min(p.currency) from public.payments p where p.appointment_id = a.id and p.status = 'pending'), e.currency),
               'to', jsonb_build_object('id', cl.id, 'name', cl.name, 'email', cl.email, 'time_zone', cl.time_zone),
               'with_name', e.name) order by a.payment_due_at, a.id)
        from claimed c
        join public.appointments a on a.id = c.subject_id
        join public.experts e on e.id = a.expert_id
        join public.clients cl on cl.id = a.client_id), '[]'::jsonb),
    'more', (select count(*) from cand) = p_limit)
$$;
