-- process-expert-transfers and process-pending-payouts move onto effects (20261130001000_effects.sql).
-- A transfer is the effect `transfer:<payment>`, a payout `payout:<expert>:<payout_date>`; the key
-- is Stripe's Idempotency-Key as before. The claim, the attempts, the backoff and the last error
-- of each live in its effect row; payments and payouts keep only what they are about. An outcome
-- that may have happened (`unknown`) is looked up at Stripe before any retry: Stripe forgets an
-- idempotency key after 24 hours, so a retry later than that would pay twice on the key alone.

-- Due transfers: captured payments of completed appointments past the hold window, to experts with
-- a Stripe account, after the previous page's last (completed_at, payment id). Left out: effects
-- that wait for a person (abandoned) or for their backoff; effects_claim has the last word.
-- `no_account` (first page only): due payments whose expert has not finished Stripe onboarding.
-- Served by payments_transfer_due_idx (the not yet transferred payments) and the primary keys.
create or replace function public.expert_transfers_due(
  p_now timestamptz, p_hold_days integer, p_after_completed_at timestamptz, p_after_id uuid, p_limit integer
) returns jsonb
language sql stable as $$
  select jsonb_build_object(
    'items', coalesce((
      select jsonb_agg(jsonb_build_object(
               'payment_id', d.id, 'appointment_id', d.appointment_id, 'expert_id', d.expert_id, 'amount', d.amount,
               'currency', d.currency, 'destination', d.stripe_account_id, 'charge_id', d.stripe_charge_id, 'completed_at', d.completed_at)
               order by d.completed_at, d.id)
        from (select p.id, p.appointment_id, p.expert_id, p.amount_cents - p.platform_fee_cents as amount, p.currency, p.stripe_charge_id,
                     e.stripe_account_id, a.completed_at
                from public.payments p
                join public.appointments a on a.id = p.appointment_id
                join public.experts e on e.id = p.expert_id
               where p.status = 'captured' and p.transferred_at is null
                 and a.status = 'completed' and a.completed_at <= p_now - make_interval(days => p_hold_days)
                 and e.stripe_account_id is not null
                 and (p_after_id is null or (a.completed_at, p.id) > (p_after_completed_at, p_after_id))
                 and not exists (select 1 from public.effects x
                                  where x.key = 'transfer:' || p.id
                                    and (x.status in ('succeeded', 'abandoned') or (x.status in ('failed', 'unknown') and x.next_attempt_at > p_now)))
               order by a.completed_at, p.id
               limit p_limit) d), '[]'::jsonb),
    'no_account', case when p_after_id is null then (
      select count(*)
        from public.payments p
        join public.appointments a on a.id = p.appointment_id
        join public.experts e on e.id = p.expert_id
       where p.status = 'captured' and p.transferred_at is null
         and a.status = 'completed' and a.completed_at <= p_now - make_interval(days => p_hold_days)
         and e.stripe_account_id is null) end)
$$;

-- Settles a page of transfers: a made one marks its payment transferred (and so available for a
-- payout) in the same transaction as its effect.
create or replace function public.expert_transfers_settle(p_run_id uuid, p_now timestamptz, p_results jsonb, p_backoff_ms bigint)
returns jsonb
language sql as $$
  with s as (
    select * from public.effects_settle(p_run_id, p_now, p_results, p_backoff_ms)
  ), done as (
    update public.payments p
       set transferred_at = p_now, stripe_transfer_id = s.result->>'id'
      from s where p.id = s.subject::uuid and s.status = 'succeeded' and p.transferred_at is null
    returning p.id
  )
  select public.effects_counts(array(select status from s)) from (select count(*) from done) d
$$;

-- Today's payouts: one per expert whose transferred, not yet paid-out balance reaches the minimum,
-- holding exactly the payments available when it was created (created and attached in one
-- transaction, and unique per expert and day, so concurrent runs cannot pay the same money twice).
-- Called once per run, before the payouts are made.
create or replace function public.payouts_plan(p_now timestamptz, p_date date, p_min_amount bigint)
returns jsonb
language plpgsql as $$
declare
  v_new uuid[];
begin
  with balances as (
    select p.expert_id
      from public.payments p
      join public.experts e on e.id = p.expert_id and p.currency = e.currency
     where p.status = 'captured' and p.transferred_at is not null and p.transferred_at <= p_now and p.payout_id is null
       and e.stripe_account_id is not null
     group by p.expert_id
    having sum(p.amount_cents - p.platform_fee_cents) >= p_min_amount
  ), ins as (
    insert into public.payouts (expert_id, payout_date, currency, status, created_at)
    select b.expert_id, p_date, e.currency, 'pending', p_now
      from balances b join public.experts e on e.id = b.expert_id
     where not exists (select 1 from public.payouts po where po.expert_id = b.expert_id and po.payout_date = p_date)
     order by b.expert_id -- one lock order for concurrent runs
    on conflict (expert_id, payout_date) do nothing
    returning id
  )
  select coalesce(array_agg(id), '{}') into v_new from ins;

  update public.payments p set payout_id = po.id
    from public.payouts po
   where po.id = any (v_new)
     and p.expert_id = po.expert_id and p.currency = po.currency and p.status = 'captured'
     and p.transferred_at is not null and p.transferred_at <= p_now and p.payout_id is null;
  update public.payouts po set amount_cents = s.total
    from (select payout_id, sum(amount_cents - platform_fee_cents) as total from public.payments
           where payout_id = any (v_new) group by payout_id) s
   where po.id = s.payout_id;
  -- Another run's payout (of another day) took the money first.
  delete from public.payouts po where po.id = any (v_new) and po.amount_cents = 0;

  return jsonb_build_object('planned', (select count(*) from public.payouts where id = any (v_new)));
end $$;

-- Due payouts: pending ones (of any day: a retry keeps its own day's key) after the previous page's
-- last (payout_date, id), leaving out effects that wait for a person or their backoff.
-- `created_at` bounds the lookup at Stripe when an outcome is unknown. Served by payouts_pending_idx.
create or replace function public.payouts_due(p_now timestamptz, p_after_date date, p_after_id uuid, p_limit integer)
returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(jsonb_build_object(
           'payout_id', po.id, 'expert_id', po.expert_id, 'payout_date', po.payout_date, 'amount', po.amount_cents,
           'currency', po.currency, 'account', po.stripe_account_id, 'created_at', po.created_at) order by po.payout_date, po.id), '[]'::jsonb)
    from (select po.*, e.stripe_account_id
            from public.payouts po
            join public.experts e on e.id = po.expert_id
           where po.status = 'pending' and e.stripe_account_id is not null
             and (p_after_id is null or (po.payout_date, po.id) > (p_after_date, p_after_id))
             and not exists (select 1 from public.effects x
                              where x.key = 'payout:' || po.expert_id || ':' || to_char(po.payout_date, 'YYYY-MM-DD')
                                and (x.status in ('succeeded', 'abandoned') or (x.status in ('failed', 'unknown') and x.next_attempt_at > p_now)))
           order by po.payout_date, po.id
           limit p_limit) po
$$;

-- Settles a page of payouts: a made one is in transit with Stripe's id and arrival date.
create or replace function public.payouts_settle(p_run_id uuid, p_now timestamptz, p_results jsonb, p_backoff_ms bigint)
returns jsonb
language sql as $$
  with s as (
    select * from public.effects_settle(p_run_id, p_now, p_results, p_backoff_ms)
  ), done as (
    update public.payouts po
       set status = 'in_transit', stripe_payout_id = s.result->>'id', arrival_date = (s.result->>'arrivalDate')::date
      from s where po.id = s.subject::uuid and s.status = 'succeeded' and po.status = 'pending'
    returning po.id
  )
  select public.effects_counts(array(select status from s)) from (select count(*) from done) d
$$;

-- Claims in flight, failures waiting for a retry and recent successes become effects, so nothing
-- is paid twice or forgotten across the change. A live claim stays claimed by its run for the
-- effects lease (15 minutes from its claim): if that run never settles, the next one takes it over
-- and reconciles first. A failure that may have reached Stripe (a 5xx, a network error, a timeout)
-- is `unknown`, so it is looked up before it is tried again; a rejected one is `failed`. Both are
-- due now, with their attempts carried; out of attempts (12 for transfers, 5 for payouts, as the
-- old claims allowed) they are abandoned. Successes older than the effects' retention (30 days)
-- are left out: their tables mark them done, and the retention sweep would delete them anyway.
insert into public.effects (key, job, subject, status, run_id, lease_until, attempts, max_attempts, next_attempt_at, result, last_error, created_at, updated_at, finished_at)
select 'transfer:' || p.id, 'process-expert-transfers', p.id::text, c.status,
       case when c.status = 'claimed' then p.transfer_claimed_by end,
       case when c.status = 'claimed' then p.transfer_claimed_at + interval '15 minutes' end,
       greatest(p.transfer_attempts, 1), greatest(12, p.transfer_attempts),
       case when c.status in ('failed', 'unknown') then now() end,
       case when c.status = 'succeeded' then jsonb_build_object('id', p.stripe_transfer_id) end,
       case when c.status <> 'succeeded' then p.transfer_error end,
       coalesce(p.transfer_claimed_at, p.transferred_at, now()), now(),
       case when c.status = 'succeeded' then p.transferred_at when c.status = 'abandoned' then now() end
  from public.payments p,
       lateral (select case
                  when p.transferred_at is not null then 'succeeded'
                  when p.transfer_claimed_by is not null then 'claimed'
                  when p.transfer_attempts >= 12 then 'abandoned'
                  when p.transfer_error ~ '(HTTP 5[0-9][0-9]|network error|TimeoutError|AbortError)' then 'unknown'
                  else 'failed' end as status) c
 where (p.transferred_at is null and (p.transfer_claimed_by is not null or p.transfer_attempts > 0 or p.transfer_error is not null))
    or p.transferred_at > now() - interval '30 days'
on conflict (key) do nothing;

insert into public.effects (key, job, subject, status, run_id, lease_until, attempts, max_attempts, next_attempt_at, result, last_error, created_at, updated_at, finished_at)
select 'payout:' || po.expert_id || ':' || to_char(po.payout_date, 'YYYY-MM-DD'), 'process-pending-payouts', po.id::text, c.status,
       case when c.status = 'claimed' then po.claimed_by end,
       case when c.status = 'claimed' then po.claimed_at + interval '15 minutes' end,
       greatest(po.attempts, 1), greatest(5, po.attempts),
       case when c.status in ('failed', 'unknown') then now() end,
       case when c.status = 'succeeded' then jsonb_build_object('id', po.stripe_payout_id, 'arrivalDate', po.arrival_date) end,
       case when c.status <> 'succeeded' then po.last_error end,
       coalesce(po.claimed_at, po.created_at), now(),
       case when c.status = 'succeeded' then po.created_at when c.status = 'abandoned' then now() end
  from public.payouts po,
       lateral (select case
                  when po.status = 'in_transit' then 'succeeded'
                  when po.status = 'pending' and po.claimed_by is not null then 'claimed'
                  when po.attempts >= 5 then 'abandoned'
                  when po.last_error ~ '(HTTP 5[0-9][0-9]|network error|TimeoutError|AbortError)' then 'unknown'
                  else 'failed' end as status) c
 where (po.status = 'in_transit' and po.created_at > now() - interval '30 days')
    or (po.status = 'pending' and (po.claimed_by is not null or po.attempts > 0))
    or po.status = 'failed'
on conflict (key) do nothing;

drop function if exists public.expert_transfers_claim(uuid, timestamptz, integer, integer, integer, integer);
drop function if exists public.expert_transfers_finish(uuid, timestamptz, jsonb);
drop function if exists public.payouts_claim(uuid, timestamptz, date, bigint, integer, integer, integer);
drop function if exists public.payouts_finish(uuid, jsonb);

-- A payout's failure is its effect's now: the payout waits as pending until it is made.
alter table public.payouts drop constraint if exists payouts_status_check;
update public.payouts set status = 'pending' where status = 'failed';
alter table public.payouts
  add constraint payouts_status_check check (status in ('pending', 'in_transit')),
  drop column attempts, drop column claimed_by, drop column claimed_at, drop column failed_run, drop column last_error;
alter table public.payments
  drop column transfer_claimed_by, drop column transfer_claimed_at, drop column transfer_failed_run,
  drop column transfer_attempts, drop column transfer_error;

-- payouts_due's keyset.
create index if not exists payouts_pending_idx on public.payouts (payout_date, id) where status = 'pending';
