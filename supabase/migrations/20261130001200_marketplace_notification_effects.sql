-- The notification jobs move onto effects (20261130001000_effects.sql): appointment reminders
-- (24 h and 1 h), payment reminders, upcoming-payout notices, and keep-alive's re-consent notices
-- and alerts. Each job's due function below says what should be sent; effects_claim decides what
-- a run sends, and the effect row remembers it. notification_claims and its functions go; their
-- rows become effects, so nothing is sent twice or forgotten across the change.

-- The due functions page by keyset as one row comparison, `(sort key, id) > (after)`, the first
-- page starting below every row: an index range scan. (`after is null or ...` makes the planner
-- filter every earlier row of the index, on every page.)

-- Reminders of confirmed appointments starting in (p_now, p_now + p_window_ms]: one item per
-- appointment and recipient, after the previous page's last (starts_at, id, recipient). A booking
-- still awaiting payment may lapse before it starts, so it is not reminded.
create or replace function public.appointment_reminders_due(
  p_now timestamptz, p_window_ms bigint, p_after_starts_at timestamptz, p_after_id uuid, p_after_recipient text, p_limit integer
) returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(jsonb_build_object(
           'appointment_id', i.id, 'recipient', i.recipient, 'starts_at', i.starts_at, 'ends_at', i.ends_at,
           'to', case when i.recipient = 'client'
                      then jsonb_build_object('id', cl.id, 'name', cl.name, 'email', cl.email, 'time_zone', cl.time_zone)
                      else jsonb_build_object('id', e.id, 'name', e.name, 'email', e.email, 'time_zone', e.time_zone) end,
           'with_name', case when i.recipient = 'client' then e.name else cl.name end)
           order by i.starts_at, i.id, i.recipient), '[]'::jsonb)
    from (select a.id, a.starts_at, a.ends_at, a.expert_id, a.client_id, r.recipient
            -- Enough appointments for p_limit items when the first one is half done.
            from (select * from public.appointments a
                   where a.status = 'confirmed'
                     and a.starts_at > p_now and a.starts_at <= p_now + make_interval(secs => p_window_ms / 1000.0)
                     and (a.starts_at, a.id) >= (coalesce(p_after_starts_at, p_now), coalesce(p_after_id, '00000000-0000-0000-0000-000000000000'::uuid))
                   order by a.starts_at, a.id
                   limit p_limit / 2 + 1) a
           cross join (values ('client'), ('expert')) r (recipient)
           where (a.starts_at, a.id, r.recipient) > (coalesce(p_after_starts_at, p_now), coalesce(p_after_id, '00000000-0000-0000-0000-000000000000'::uuid), coalesce(p_after_recipient, ''))
           order by a.starts_at, a.id, r.recipient
           limit p_limit) i
    join public.experts e on e.id = i.expert_id
    join public.clients cl on cl.id = i.client_id
$$;

-- Bookings awaiting payment whose deadline is within p_window_ms, after the previous page's last
-- (payment_due_at, id). `seq` is the reminder this booking is due next: one more than the
-- reminders that went out (succeeded effects), so a failed reminder n is offered again as n and
-- never becomes n+1. At most p_max, the last at least p_spacing_ms ago.
create or replace function public.payment_reminders_due(
  p_now timestamptz, p_window_ms bigint, p_spacing_ms bigint, p_max integer, p_after_due_at timestamptz, p_after_id uuid, p_limit integer
) returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(jsonb_build_object(
           'appointment_id', a.id, 'seq', a.seq, 'max', p_max, 'starts_at', a.starts_at, 'payment_due_at', a.payment_due_at,
           'amount', (select sum(p.amount_cents) from public.payments p where p.appointment_id = a.id and p.status = 'pending'),
           'currency', coalesce((select min(p.currency) from public.payments p where p.appointment_id = a.id and p.status = 'pending'), e.currency),
           'to', jsonb_build_object('id', cl.id, 'name', cl.name, 'email', cl.email, 'time_zone', cl.time_zone),
           'with_name', e.name) order by a.payment_due_at, a.id), '[]'::jsonb)
    from (select a.id, a.starts_at, a.payment_due_at, a.expert_id, a.client_id, s.sent + 1 as seq
            from public.appointments a
           cross join lateral (
             select count(*) as sent, max(x.finished_at) as last_sent
               from public.effects x
              where x.subject = a.id::text and x.job = 'send-payment-reminders' and x.status = 'succeeded'
           ) s
           where a.status = 'pending_payment'
             and a.payment_due_at > p_now and a.payment_due_at <= p_now + make_interval(secs => p_window_ms / 1000.0)
             and (a.payment_due_at, a.id) > (coalesce(p_after_due_at, p_now), coalesce(p_after_id, '00000000-0000-0000-0000-000000000000'::uuid))
             and s.sent < p_max
             and (s.last_sent is null or s.last_sent <= p_now - make_interval(secs => p_spacing_ms / 1000.0))
           order by a.payment_due_at, a.id
           limit p_limit) a
    join public.experts e on e.id = a.expert_id
    join public.clients cl on cl.id = a.client_id
$$;

-- Payouts in transit arriving from today to p_days ahead in the expert's own calendar, after the
-- previous page's last (arrival_date, id).
create or replace function public.upcoming_payouts_due(
  p_now timestamptz, p_days integer, p_after_arrival date, p_after_id uuid, p_limit integer
) returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(jsonb_build_object(
           'payout_id', po.id, 'amount', po.amount_cents, 'currency', po.currency, 'arrival_date', po.arrival_date,
           'to', jsonb_build_object('id', e.id, 'name', e.name, 'email', e.email, 'time_zone', e.time_zone))
           order by po.arrival_date, po.id), '[]'::jsonb)
    from (select po.* from public.payouts po join public.experts e on e.id = po.expert_id
           where po.status = 'in_transit'
             -- Every zone's today is within a day of UTC's: the index narrows, the zone decides.
             and po.arrival_date between (p_now at time zone 'UTC')::date - 1 and (p_now at time zone 'UTC')::date + 1 + p_days
             and po.arrival_date between (p_now at time zone e.time_zone)::date and (p_now at time zone e.time_zone)::date + p_days
             and (po.arrival_date, po.id) > (coalesce(p_after_arrival, '-infinity'::date), coalesce(p_after_id, '00000000-0000-0000-0000-000000000000'::uuid))
           order by po.arrival_date, po.id
           limit p_limit) po
    join public.experts e on e.id = po.expert_id
$$;

-- Connections whose grant was revoked within p_within_ms, after the previous page's last
-- (revoked_at, id); `revoked` (epoch seconds) makes one notice per revocation, so a connection
-- revoked again after the expert reconnected gets a new one. Bounded in time because succeeded
-- effects are kept 30 days (effects_prune): an older revocation is never offered again.
create or replace function public.reconsent_notices_due(
  p_now timestamptz, p_after_revoked_at timestamptz, p_after_id uuid, p_limit integer, p_within_ms bigint default 1209600000
) returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(jsonb_build_object(
           'connection_id', c.id, 'revoked_at', c.revoked_at, 'revoked', floor(extract(epoch from c.revoked_at))::bigint,
           'to', jsonb_build_object('id', e.id, 'name', e.name, 'email', e.email, 'time_zone', e.time_zone))
           order by c.revoked_at, c.id), '[]'::jsonb)
    from (select * from public.calendar_connections c
           where c.status = 'needs_reconsent'
             and c.revoked_at > p_now - make_interval(secs => p_within_ms / 1000.0)
             and (c.revoked_at, c.id) > (coalesce(p_after_revoked_at, '-infinity'::timestamptz), coalesce(p_after_id, '00000000-0000-0000-0000-000000000000'::uuid))
           order by c.revoked_at, c.id
           limit p_limit) c
    join public.experts e on e.id = c.expert_id
$$;

-- Every claim becomes the effect of the job that makes it: sent -> succeeded, failed -> due again
-- now, a claim in flight -> held until the old job timeout would have passed (15 min), after which
-- any run takes it over. Claims had no attempt limit: each keeps at least one more attempt.
insert into public.effects (key, job, subject, status, run_id, lease_until, attempts, max_attempts, next_attempt_at, last_error, created_at, updated_at, finished_at)
select n.key,
       case n.kind
         when 'reminder-24h' then 'appointment-reminders'
         when 'reminder-1h' then 'appointment-reminders-1hr'
         when 'payment-reminder' then 'send-payment-reminders'
         when 'payout-upcoming' then 'check-upcoming-payouts'
         when 'reconsent' then 'keep-alive'
         when 'alert' then 'keep-alive'
         else n.kind end,
       n.subject_id::text,
       case n.status when 'sent' then 'succeeded' else n.status end,
       case when n.status = 'claimed' then n.claimed_by end,
       case when n.status = 'claimed' then n.claimed_at + interval '15 minutes' end,
       n.attempts,
       greatest(8, n.attempts + 1),
       case when n.status = 'failed' then now() end,
       case when n.status <> 'sent' then n.last_error end,
       n.claimed_at,
       now(),
       case when n.status = 'sent' then coalesce(n.sent_at, n.claimed_at) end
  from public.notification_claims n
on conflict (key) do nothing;

drop function if exists public.notification_claims_finish(uuid, timestamptz, jsonb);
drop function if exists public.notification_claim_key(text, text, uuid, timestamptz, integer, uuid, text);
drop function if exists public.appointment_reminders_claim(text, uuid, timestamptz, bigint, integer, integer, timestamptz, uuid);
drop function if exists public.payment_reminders_claim(uuid, timestamptz, bigint, bigint, integer, integer, integer);
drop function if exists public.upcoming_payouts_claim(uuid, timestamptz, integer, integer, integer);
drop function if exists public.reconsent_notices_claim(uuid, timestamptz, integer, integer);
drop table public.notification_claims;

-- The keysets of the due functions; the two with the same predicate supersede the old
-- single-column indexes. A booking's sent reminders are found by effects_subject_idx.
create index if not exists appointments_confirmed_starts_idx on public.appointments (starts_at, id) where status = 'confirmed';
create index if not exists appointments_awaiting_payment_idx on public.appointments (payment_due_at, id) where status = 'pending_payment';
drop index if exists public.appointments_payment_due_idx;
create index if not exists payouts_in_transit_idx on public.payouts (arrival_date, id) where status = 'in_transit';
drop index if exists public.payouts_arrival_idx;
create index if not exists calendar_connections_revoked_idx on public.calendar_connections (revoked_at, id) where status = 'needs_reconsent';
