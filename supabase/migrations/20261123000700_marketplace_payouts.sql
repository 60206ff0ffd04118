-- process-pending-payouts: experts whose transferred, not yet paid-out balance reaches the minimum
-- get one Stripe payout per day (key payout:<expert>:<payout_date>). The payout row is created and
-- the payments attached in one transaction, so two runs cannot pay the same money twice; a failed
-- payout keeps its payments and its key, and a later run retries it.
create or replace function public.payouts_claim(
  p_run_id uuid,
  p_now timestamptz,
  p_date date,
  p_min_amount bigint,
  p_lease_ms integer,
  p_limit integer default 100,
  p_max_attempts integer default 5
) returns jsonb
language plpgsql as $$
declare
  v_lease interval := make_interval(secs => p_lease_ms / 1000.0);
  v_new uuid[];
  v_again uuid[];
  v_items jsonb;
  v_exhausted integer;
begin
  with balances as (
    select p.expert_id
      from public.payments p
      join public.experts e on e.id = p.expert_id and p.currency = e.currency
     where p.status = 'captured' and p.transferred_at is not null and p.transferred_at <= p_now and p.payout_id is null
       and e.stripe_account_id is not null
     group by p.expert_id
    having sum(p.amount_cents - p.platform_fee_cents) >= p_min_amount
  ), fresh as (
    select b.expert_id from balances b
     where not exists (select 1 from public.payouts po where po.expert_id = b.expert_id and po.payout_date = p_date)
     order by b.expert_id
     limit p_limit
  ), ins as (
    insert into public.payouts (expert_id, payout_date, currency, status, attempts, claimed_by, claimed_at)
    select f.expert_id, p_date, e.currency, 'pending', 1, p_run_id, p_now
      from fresh f join public.experts e on e.id = f.expert_id
    on conflict (expert_id, payout_date) do nothing
    returning id
  )
  select coalesce(array_agg(id), '{}') into v_new from ins;

  -- The money of each new payout is exactly what was available when it was created.
  update public.payments p set payout_id = po.id
    from public.payouts po
   where po.id = any (v_new)
     and p.expert_id = po.expert_id and p.currency = po.currency and p.status = 'captured'
     and p.transferred_at is not null and p.transferred_at <= p_now and p.payout_id is null;
  update public.payouts po set amount_cents = s.total
    from (select payout_id, sum(amount_cents - platform_fee_cents) as total from public.payments
           where payout_id = any (v_new) group by payout_id) s
   where po.id = s.payout_id;
  delete from public.payouts po where po.id = any (v_new) and po.amount_cents = 0;

  -- Earlier payouts that failed (in another run) or whose run died: retried with their own key.
  with again as (
    select po.id from public.payouts po
     where ((po.status = 'failed' and po.failed_run is distinct from p_run_id)
         or (po.status = 'pending' and (po.claimed_by is null or po.claimed_at <= p_now - v_lease)))
       and po.attempts < p_max_attempts
       and po.id <> all (v_new)
     order by po.payout_date, po.id
     limit p_limit
       for update skip locked
  ), upd as (
    update public.payouts po set status = 'pending', claimed_by = p_run_id, claimed_at = p_now, attempts = po.attempts + 1
      from again where po.id = again.id
    returning po.id
  )
  select coalesce(array_agg(id), '{}') into v_again from upd;

  select coalesce(jsonb_agg(jsonb_build_object(
           'payout_id', po.id, 'expert_id', po.expert_id, 'payout_date', po.payout_date,
           'amount', po.amount_cents, 'currency', po.currency, 'account', e.stripe_account_id) order by po.payout_date, po.expert_id), '[]'::jsonb)
    into v_items
    from public.payouts po
    join public.experts e on e.id = po.expert_id
   where po.id = any (v_new || v_again);

  select count(*) into v_exhausted from public.payouts where status = 'failed' and attempts >= p_max_attempts;
  return jsonb_build_object('items', v_items, 'more', cardinality(v_new) = p_limit or cardinality(v_again) = p_limit, 'exhausted', v_exhausted);
end $$;

-- [{payout_id, ok: true, stripe_payout_id, arrival_date} | {payout_id, ok: false, error} | {payout_id, released: true}]
create or replace function public.payouts_finish(p_run_id uuid, p_results jsonb)
returns jsonb
language sql as $$
  with r as (
    select (x->>'payout_id')::uuid as id, coalesce((x->>'ok')::boolean, false) as ok, coalesce((x->>'released')::boolean, false) as released,
           x->>'stripe_payout_id' as stripe_id, (x->>'arrival_date')::date as arrival, x->>'error' as error
      from jsonb_array_elements(p_results) x
  ), done as (
    update public.payouts po set status = 'in_transit', stripe_payout_id = r.stripe_id, arrival_date = r.arrival, last_error = null, claimed_by = null
      from r where po.id = r.id and r.ok and po.claimed_by = p_run_id
    returning po.amount_cents
  ), failed as (
    update public.payouts po set status = 'failed', failed_run = p_run_id, last_error = left(r.error, 1000), claimed_by = null
      from r where po.id = r.id and not r.ok and not r.released and po.claimed_by = p_run_id
    returning 1
  ), released as (
    update public.payouts po set claimed_by = null, claimed_at = null, attempts = greatest(0, po.attempts - 1)
      from r where po.id = r.id and r.released and po.claimed_by = p_run_id
    returning 1
  )
  select jsonb_build_object('paid', (select count(*) from done), 'amount', (select coalesce(sum(amount_cents), 0) from done),
                            'failed', (select count(*) from failed), 'released', (select count(*) from released))
$$;

-- check-upcoming-payouts: payouts arriving today to 3 days from now (in the expert's zone) ->
-- one notice per payout (key payout-upcoming:<payout>).
create or replace function public.upcoming_payouts_claim(
  p_run_id uuid, p_now timestamptz, p_days integer, p_lease_ms integer, p_limit integer default 200
) returns jsonb
language sql as $$
  with cand as materialized (
    select po.id, 'payout-upcoming:' || po.id as key
      from public.payouts po join public.experts e on e.id = po.expert_id
     where po.status = 'in_transit'
       and po.arrival_date between (p_now at time zone e.time_zone)::date and (p_now at time zone e.time_zone)::date + p_days
       and not exists (
         select 1 from public.notification_claims n
          where n.key = 'payout-upcoming:' || po.id
            and (n.status = 'sent'
              or (n.status = 'claimed' and n.claimed_at > p_now - make_interval(secs => p_lease_ms / 1000.0))
              or (n.status = 'failed' and n.claimed_by = p_run_id)))
     order by po.arrival_date, po.id
     limit p_limit
  ), claimed as (
    insert into public.notification_claims as n (key, kind, subject_id, recipient, status, claimed_by, claimed_at)
    select c.key, 'payout-upcoming', c.id, 'expert', 'claimed', p_run_id, p_now from cand c
    on conflict (key) do update set status = 'claimed', claimed_by = excluded.claimed_by, claimed_at = excluded.claimed_at, attempts = n.attempts + 1
     where (n.status = 'failed' and n.claimed_by <> p_run_id)
        or (n.status = 'claimed' and n.claimed_at <= p_now - make_interval(secs => p_lease_ms / 1000.0))
    returning n.key, n.subject_id
  )
  select jsonb_build_object(
    'items', coalesce((
      select jsonb_agg(jsonb_build_object(
               'key', c.key, 'payout_id', po.id, 'amount', po.amount_cents, 'currency', po.currency, 'arrival_date', po.arrival_date,
               'to', jsonb_build_object('id', e.id, 'name', e.name, 'email', e.email, 'time_zone', e.time_zone)) order by po.arrival_date, po.id)
        from claimed c join public.payouts po on po.id = c.subject_id join public.experts e on e.id = po.expert_id), '[]'::jsonb),
    'more', (select count(*) from cand) = p_limit)
$$;
