-- Payments of the shop: one confirmation function shared by the Razorpay webhook and
-- reconcile-stale-payments, so whichever arrives first confirms and the other finds it done.
-- Both lock the payment, then its order, in that order, and change them only from `pending`:
-- running both at once confirms once.

-- Confirms the order of a payment Razorpay reports captured. Outcomes:
--   confirmed        this call moved the order to processing: stock taken, its locks gone
--   already          an earlier call did
--   conflict         it cannot be confirmed (the payment failed, the order was cancelled, the
--                    amount differs): a person decides (a refund, most likely); `reason` says why
--   unknown_payment  no payment with this Razorpay id
-- p_amount: what Razorpay says was captured (null: not checked).
create or replace function public.commerce_confirm_payment(p_transaction_id text, p_amount bigint, p_now timestamptz)
returns jsonb
language plpgsql as $$
declare
  v_pay public.commerce_payments;
  v_order public.commerce_orders;
  v_reason text;
begin
  select * into v_pay from public.commerce_payments where transaction_id = p_transaction_id for update;
  if not found then
    return jsonb_build_object('outcome', 'unknown_payment', 'transaction_id', p_transaction_id);
  end if;
  select * into v_order from public.commerce_orders where id = v_pay.order_id for update;
  v_reason := case
    when v_pay.status = 'failed' then 'the payment is marked failed'
    when p_amount is not null and p_amount <> v_pay.amount then format('Razorpay captured %s, the payment is for %s', p_amount, v_pay.amount)
  end;
  if v_reason is null and v_pay.status = 'captured' then
    return jsonb_build_object('outcome', 'already', 'payment_id', v_pay.id, 'order_id', v_order.id, 'order_status', v_order.status);
  end if;
  -- Cancelled, failed, or paid by another attempt: this money has no order to go to.
  if v_reason is null and v_order.status <> 'pending' then
    v_reason := format('the order is %s', v_order.status);
  end if;
  if v_reason is not null then
    return jsonb_build_object('outcome', 'conflict', 'reason', v_reason, 'payment_id', v_pay.id, 'order_id', v_order.id, 'order_status', v_order.status);
  end if;

  -- Both rows are locked and pending: this call is the one that confirms. The updates stay
  -- conditional all the same, so a confirmation can never be applied twice.
  update public.commerce_payments set status = 'captured', captured_at = p_now, updated_at = p_now where id = v_pay.id and status = 'pending';
  update public.commerce_orders set status = 'processing', confirmed_at = p_now, updated_at = p_now where id = v_order.id and status = 'pending';
  if not found then
    return jsonb_build_object('outcome', 'already', 'payment_id', v_pay.id, 'order_id', v_order.id, 'order_status', v_order.status);
  end if;

  -- The held stock becomes sold stock. Products are locked in id order: two orders confirming at
  -- once cannot deadlock on them.
  perform 1 from public.commerce_products
   where id in (select product_id from public.commerce_order_items where order_id = v_order.id)
   order by id for update;
  update public.commerce_products p set stock = greatest(p.stock - i.quantity, 0), updated_at = p_now
    from public.commerce_order_items i
   where i.order_id = v_order.id and p.id = i.product_id;
  delete from public.commerce_inventory_locks where order_id = v_order.id;
  return jsonb_build_object('outcome', 'confirmed', 'payment_id', v_pay.id, 'order_id', v_order.id, 'order_status', 'processing');
end $$;

-- Marks a payment Razorpay reports failed. The order's inventory locks are released and the
-- order marked payment_failed only when no other attempt of it is pending or captured (a
-- customer may retry with a new payment). Outcomes: failed, already, conflict (it was captured),
-- unknown_payment; `released`: locks deleted.
create or replace function public.commerce_fail_payment(p_transaction_id text, p_now timestamptz)
returns jsonb
language plpgsql as $$
declare
  v_pay public.commerce_payments;
  v_released integer := 0;
begin
  select * into v_pay from public.commerce_payments where transaction_id = p_transaction_id for update;
  if not found then
    return jsonb_build_object('outcome', 'unknown_payment', 'transaction_id', p_transaction_id);
  end if;
  perform 1 from public.commerce_orders where id = v_pay.order_id for update;
  if v_pay.status = 'captured' then
    return jsonb_build_object('outcome', 'conflict', 'reason', 'the payment is captured', 'payment_id', v_pay.id, 'order_id', v_pay.order_id);
  end if;
  update public.commerce_payments set status = 'failed', failed_at = p_now, updated_at = p_now
   where id = v_pay.id and status = 'pending';
  if not found then
    return jsonb_build_object('outcome', 'already', 'payment_id', v_pay.id, 'order_id', v_pay.order_id, 'released', 0);
  end if;
  if not exists (select 1 from public.commerce_payments where order_id = v_pay.order_id and id <> v_pay.id and status in ('pending', 'captured')) then
    update public.commerce_orders set status = 'payment_failed', updated_at = p_now where id = v_pay.order_id and status = 'pending';
    delete from public.commerce_inventory_locks where order_id = v_pay.order_id;
    get diagnostics v_released = row_count;
  end if;
  return jsonb_build_object('outcome', 'failed', 'payment_id', v_pay.id, 'order_id', v_pay.order_id, 'released', v_released);
end $$;

-- Payments to ask Razorpay about, after the previous page's last (created_at, id): pending for
-- longer than p_stale_ms, and any whose reconcile effect failed and is due again (it may have
-- confirmed the order and then failed to publish its email: the next attempt finishes that).
-- Left out: effects that wait for a person or their backoff; effects_claim has the last word.
create or replace function public.commerce_stale_payments_due(
  p_job text, p_now timestamptz, p_stale_ms bigint, p_after_created_at timestamptz, p_after_id uuid, p_limit integer
) returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(jsonb_build_object(
           'payment_id', d.id, 'transaction_id', d.transaction_id, 'order_id', d.order_id, 'amount', d.amount,
           'currency', d.currency, 'status', d.status, 'created_at', d.created_at) order by d.created_at, d.id), '[]'::jsonb)
    from (select c.*
            from (select p.* from public.commerce_payments p
                   where p.status = 'pending' and p.created_at <= p_now - make_interval(secs => p_stale_ms / 1000.0)
                  union
                  select p.* from public.effects x join public.commerce_payments p on p.id::text = x.subject
                   where x.job = p_job and x.status in ('failed', 'unknown') and x.next_attempt_at <= p_now) c
           where (p_after_id is null or (c.created_at, c.id) > (p_after_created_at, p_after_id))
             and not exists (select 1 from public.effects x
                              where x.key = 'payment:' || c.id || ':reconcile'
                                and (x.status in ('succeeded', 'abandoned') or (x.status in ('failed', 'unknown') and x.next_attempt_at > p_now)))
           order by c.created_at, c.id
           limit p_limit) d
$$;

-- Settles a page of reconciliations. A payment Razorpay still reports neither captured nor failed
-- (result.outcome = 'left') changed nothing: its effect is released, so the next run asks again.
create or replace function public.commerce_reconcile_settle(p_run_id uuid, p_now timestamptz, p_results jsonb, p_backoff_ms bigint)
returns jsonb
language sql as $$
  select public.effects_counts(array(
    select status from public.effects_settle(p_run_id, p_now,
      coalesce((select jsonb_agg(case when x->>'outcome' = 'succeeded' and x->'result'->>'outcome' = 'left'
                                      then jsonb_build_object('key', x->>'key', 'outcome', 'released') else x end)
                  from jsonb_array_elements(p_results) x), '[]'::jsonb),
      p_backoff_ms)))
$$;

-- What the email of an order event needs, or null when there is no such order. `reached`: the
-- order did get to that status (a message about anything else is not sent).
create or replace function public.commerce_order_email_due(p_order_id uuid, p_status text)
returns jsonb
language sql stable as $$
  select jsonb_build_object(
           'order_id', o.id, 'order_status', o.status, 'total', o.total, 'currency', o.currency, 'tracking_number', o.tracking_number,
           'created_at', o.created_at,
           'reached', case p_status
                        when 'confirmed' then o.confirmed_at is not null
                        when 'shipped' then o.shipped_at is not null and o.tracking_number is not null
                        when 'delivered' then o.delivered_at is not null
                        when 'cancelled' then o.cancelled_at is not null
                        when 'return_approved' then o.return_approved_at is not null
                        else false end,
           'user', jsonb_build_object('id', u.id, 'email', u.email, 'name', u.name),
           'items', coalesce((select jsonb_agg(jsonb_build_object('name', p.name, 'quantity', i.quantity, 'unit_price', i.unit_price) order by p.name)
                                from public.commerce_order_items i join public.commerce_products p on p.id = i.product_id
                               where i.order_id = o.id), '[]'::jsonb))
    from public.commerce_orders o join public.commerce_users u on u.id = o.user_id
   where o.id = p_order_id
$$;

-- The in-app notification of an effect; a retry of the same effect adds nothing.
create or replace function public.commerce_notification_add(p_user_id uuid, p_key text, p_kind text, p_title text, p_body text, p_now timestamptz)
returns jsonb
language sql as $$
  with ins as (
    insert into public.commerce_notifications (user_id, key, kind, title, body, created_at)
    values (p_user_id, p_key, p_kind, p_title, p_body, p_now)
    on conflict (key) do nothing
    returning id
  )
  select jsonb_build_object('created', exists (select 1 from ins))
$$;
