-- process-expert-transfers: captured payments of completed appointments past the hold window go to
-- the expert's Stripe connected account. A payment is claimed by one run (SKIP LOCKED, so two runs
-- split the work), sent with idempotency key transfer:<payment id>, and marked transferred only
-- after Stripe accepted it. A failure leaves it for a later run (never the same one).
create or replace function public.expert_transfers_claim(
  p_run_id uuid,
  p_now timestamptz,
  p_hold_days integer,
  p_lease_ms integer,
  p_limit integer default 100,
  p_max_attempts integer default 12
) returns jsonb
language plpgsql as $$
declare
  v_items jsonb;
  v_count integer;
  v_no_account integer;
  v_exhausted integer;
  v_lease interval := make_interval(secs => p_lease_ms / 1000.0);
  v_cutoff timestamptz := p_now - make_interval(days => p_hold_days);
begin
  with due as (
    select p.id
      from public.payments p
      join public.appointments a on a.id = p.appointment_id
      join public.experts e on e.id = p.expert_id
     where p.status = 'captured' and p.transferred_at is null
       and a.status = 'completed' and a.completed_at <= v_cutoff
       and e.stripe_account_id is not null
       and (p.transfer_claimed_by is null or p.transfer_claimed_at <= p_now - v_lease)
       and p.transfer_failed_run is distinct from p_run_id
       and p.transfer_attempts < p_max_attempts
     order by a.completed_at, p.id
     limit p_limit
       for update of p skip locked
  ), claimed as (
    update public.payments p
       set transfer_claimed_by = p_run_id, transfer_claimed_at = p_now, transfer_attempts = p.transfer_attempts + 1
      from due where p.id = due.id
    returning p.id, p.appointment_id, p.expert_id, p.amount_cents - p.platform_fee_cents as net, p.currency, p.stripe_charge_id
  )
  select coalesce(jsonb_agg(jsonb_build_object(
           'payment_id', c.id, 'appointment_id', c.appointment_id, 'expert_id', c.expert_id,
           'amount', c.net, 'currency', c.currency, 'destination', e.stripe_account_id, 'charge_id', c.stripe_charge_id)), '[]'::jsonb),
         count(*)
    into v_items, v_count
    from claimed c join public.experts e on e.id = c.expert_id;

  -- Reported, not claimed: due payments nobody can transfer until someone acts.
  select count(*) filter (where e.stripe_account_id is null),
         count(*) filter (where e.stripe_account_id is not null and p.transfer_attempts >= p_max_attempts)
    into v_no_account, v_exhausted
    from public.payments p
    join public.appointments a on a.id = p.appointment_id
    join public.experts e on e.id = p.expert_id
   where p.status = 'captured' and p.transferred_at is null and a.status = 'completed' and a.completed_at <= v_cutoff;

  return jsonb_build_object('items', v_items, 'more', v_count = p_limit, 'no_account', v_no_account, 'exhausted', v_exhausted);
end $$;

-- [{payment_id, ok: true, transfer_id} | {payment_id, ok: false, error} | {payment_id, released: true}]
create or replace function public.expert_transfers_finish(p_run_id uuid, p_now timestamptz, p_results jsonb)
returns jsonb
language sql as $$
  with r as (
    select (x->>'payment_id')::uuid as id, coalesce((x->>'ok')::boolean, false) as ok,
           coalesce((x->>'released')::boolean, false) as released, x->>'transfer_id' as transfer_id, x->>'error' as error
      from jsonb_array_elements(p_results) x
  ), done as (
    update public.payments p
       set transferred_at = p_now, stripe_transfer_id = r.transfer_id, transfer_error = null,
           transfer_claimed_by = null, transfer_claimed_at = null
      from r where p.id = r.id and r.ok and p.transfer_claimed_by = p_run_id
    returning 1
  ), failed as (
    update public.payments p
       set transfer_error = left(r.error, 1000), transfer_failed_run = p_run_id, transfer_claimed_by = null, transfer_claimed_at = null
      from r where p.id = r.id and not r.ok and not r.released and p.transfer_claimed_by = p_run_id
    returning 1
  ), released as (
    update public.payments p
       set transfer_claimed_by = null, transfer_claimed_at = null, transfer_attempts = greatest(0, p.transfer_attempts - 1)
      from r where p.id = r.id and r.released and p.transfer_claimed_by = p_run_id
    returning 1
  )
  select jsonb_build_object('transferred', (select count(*) from done), 'failed', (select count(*) from failed), 'released', (select count(*) from released))
$$;
