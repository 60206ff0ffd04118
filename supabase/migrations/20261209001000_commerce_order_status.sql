-- The shop's order lifecycle as the description has it: every change has a trigger (checkout, the
-- payment, the admin, the courier), each one a notification and an email, once per order and
-- status. Orders get a human number for those emails; a payment confirmed without the stock it
-- paid for is flagged for a person instead of being hidden by a clamp.

-- What customers and admins see (ORD-001001), instead of a prefix of the UUID. The shop may set its
-- own on insert; existing orders are numbered by the default as the column is added.
create sequence if not exists public.commerce_order_number_seq start 1001;
alter table public.commerce_orders
  add column if not exists order_number text not null default ('ORD-' || lpad(nextval('public.commerce_order_number_seq')::text, 6, '0'));
create unique index if not exists commerce_orders_number_idx on public.commerce_orders (order_number);

-- Paid but not fully in stock (its locks had expired and others took the stock): a person decides
-- (restock and ship, or cancel and refund). The order stays `processing`, as it is paid.
alter table public.commerce_orders add column if not exists needs_attention_at timestamptz;
alter table public.commerce_orders add column if not exists attention_reason text;
create index if not exists commerce_orders_attention_idx on public.commerce_orders (needs_attention_at) where needs_attention_at is not null;
-- The courier's delivery webhook names the parcel by its tracking number.
create index if not exists commerce_orders_tracking_idx on public.commerce_orders (tracking_number) where tracking_number is not null;

-- Units of the item that were not in stock when the order was paid (never taken from stock).
alter table public.commerce_order_items add column if not exists short_quantity integer not null default 0;
alter table public.commerce_order_items drop constraint if exists commerce_order_items_short_check;
alter table public.commerce_order_items add constraint commerce_order_items_short_check check (short_quantity between 0 and quantity);

-- What the app shows with a notification: the order it is about ({orderId, orderNumber}).
alter table public.commerce_notifications add column if not exists metadata jsonb not null default '{}'::jsonb;

-- As before (20261130005100), with one change: each item takes from stock only what is there for
-- it, that is its stock less what live locks of other checkouts hold. The rest is its
-- short_quantity; stock never goes negative, and an order with a shortfall is confirmed (the money
-- is taken) but marked needs_attention. `needs_attention` is in the answer of `confirmed` and
-- `already` alike, so whichever caller publishes the emails also publishes the admin alert.
create or replace function public.commerce_confirm_payment(p_transaction_id text, p_amount bigint, p_now timestamptz)
returns jsonb
language plpgsql as $$
declare
  v_pay public.commerce_payments;
  v_order public.commerce_orders;
  v_reason text;
  v_item record;
  v_take integer;
  v_short text[] := '{}';
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
    return jsonb_build_object('outcome', 'already', 'payment_id', v_pay.id, 'order_id', v_order.id, 'order_status', v_order.status,
                              'needs_attention', v_order.needs_attention_at is not null);
  end if;
  if v_reason is null and v_order.status <> 'pending' then
    v_reason := format('the order is %s', v_order.status);
  end if;
  if v_reason is not null then
    return jsonb_build_object('outcome', 'conflict', 'reason', v_reason, 'payment_id', v_pay.id, 'order_id', v_order.id, 'order_status', v_order.status);
  end if;

  update public.commerce_payments set status = 'captured', captured_at = p_now, updated_at = p_now where id = v_pay.id and status = 'pending';
  update public.commerce_orders set status = 'processing', confirmed_at = p_now, updated_at = p_now where id = v_order.id and status = 'pending';
  if not found then
    return jsonb_build_object('outcome', 'already', 'payment_id', v_pay.id, 'order_id', v_order.id, 'order_status', v_order.status,
                              'needs_attention', v_order.needs_attention_at is not null);
  end if;

  -- Products in id order: two orders confirming at once cannot deadlock on them.
  perform 1 from public.commerce_products
   where id in (select product_id from public.commerce_order_items where order_id = v_order.id)
   order by id for update;
  for v_item in
    select i.product_id, i.quantity, p.name,
           p.stock - coalesce((select sum(l.quantity) from public.commerce_inventory_locks l
                                where l.product_id = i.product_id and l.expires_at > p_now
                                  and l.order_id is distinct from v_order.id), 0) as free
      from public.commerce_order_items i join public.commerce_products p on p.id = i.product_id
     where i.order_id = v_order.id
     order by i.product_id
  loop
    v_take := least(v_item.quantity, greatest(v_item.free, 0));
    update public.commerce_products set stock = stock - v_take, updated_at = p_now where id = v_item.product_id;
    if v_take < v_item.quantity then
      update public.commerce_order_items set short_quantity = v_item.quantity - v_take
       where order_id = v_order.id and product_id = v_item.product_id;
      v_short := v_short || format('%s: %s of %s not in stock', v_item.name, v_item.quantity - v_take, v_item.quantity);
    end if;
  end loop;
  delete from public.commerce_inventory_locks where order_id = v_order.id;
  if cardinality(v_short) > 0 then
    update public.commerce_orders
       set needs_attention_at = p_now, attention_reason = 'paid without its stock (its hold had expired): ' || array_to_string(v_short, '; ')
     where id = v_order.id;
  end if;
  return jsonb_build_object('outcome', 'confirmed', 'payment_id', v_pay.id, 'order_id', v_order.id, 'order_status', 'processing',
                            'needs_attention', cardinality(v_short) > 0);
end $$;

-- A change the shop reports (POST /api/commerce/orders/:id/status, the courier's webhook). Outcomes:
--   changed        this call moved the order
--   already        the order reached that status before (a repeat): nothing changes
--   conflict       the move is impossible from where the order is (`reason`, `order_status`)
--   unknown_order
-- placed changes nothing (an order exists once it is placed) and is always `already`. confirmed is
-- not reported here: it follows the payment (commerce_confirm_payment).
create or replace function public.commerce_order_transition(p_order_id uuid, p_status text, p_tracking_number text, p_now timestamptz)
returns jsonb
language plpgsql as $$
declare
  v_order public.commerce_orders;
  v_from text[];
  v_reached boolean;
  v_restocked integer := 0;
begin
  select * into v_order from public.commerce_orders where id = p_order_id for update;
  if not found then
    return jsonb_build_object('outcome', 'unknown_order', 'order_id', p_order_id);
  end if;
  if p_status = 'placed' then
    return jsonb_build_object('outcome', 'already', 'order_id', v_order.id, 'order_status', v_order.status);
  end if;
  v_from := case p_status
    when 'shipped' then array['processing']
    when 'delivered' then array['shipped']
    when 'cancelled' then array['pending', 'processing']
    when 'return_approved' then array['delivered'] end;
  if v_from is null then
    raise exception 'commerce_order_transition: unknown status %', p_status using errcode = '22023';
  end if;
  -- A status the order has reached, even if it has moved on since (a late retry of "shipped"
  -- after the delivery), is a repeat: 200 and nothing new.
  v_reached := case p_status
    when 'shipped' then v_order.shipped_at is not null
    when 'delivered' then v_order.delivered_at is not null
    when 'cancelled' then v_order.cancelled_at is not null
    when 'return_approved' then v_order.return_approved_at is not null end;
  if v_reached then
    if p_status = 'shipped' and v_order.tracking_number is distinct from p_tracking_number then
      return jsonb_build_object('outcome', 'conflict', 'order_id', v_order.id, 'order_status', v_order.status,
                                'reason', format('the order already shipped with tracking number %s', v_order.tracking_number));
    end if;
    return jsonb_build_object('outcome', 'already', 'order_id', v_order.id, 'order_status', v_order.status);
  end if;
  if not v_order.status = any (v_from) then
    return jsonb_build_object('outcome', 'conflict', 'order_id', v_order.id, 'order_status', v_order.status,
                              'reason', format('an order that is %s cannot become %s (only from %s)', v_order.status, p_status, array_to_string(v_from, ' or ')));
  end if;

  update public.commerce_orders set
    status = p_status,
    updated_at = p_now,
    shipped_at = case when p_status = 'shipped' then p_now else shipped_at end,
    tracking_number = case when p_status = 'shipped' then p_tracking_number else tracking_number end,
    delivered_at = case when p_status = 'delivered' then p_now else delivered_at end,
    cancelled_at = case when p_status = 'cancelled' then p_now else cancelled_at end,
    return_approved_at = case when p_status = 'return_approved' then p_now else return_approved_at end
   where id = v_order.id;
  if p_status = 'cancelled' and v_order.status = 'pending' then
    delete from public.commerce_inventory_locks where order_id = v_order.id;
  elsif p_status = 'cancelled' then
    -- A paid order not yet shipped: what it took from stock is back on the shelf (its shortfall never was).
    perform 1 from public.commerce_products
     where id in (select product_id from public.commerce_order_items where order_id = v_order.id)
     order by id for update;
    update public.commerce_products p set stock = p.stock + (i.quantity - i.short_quantity), updated_at = p_now
      from public.commerce_order_items i
     where i.order_id = v_order.id and p.id = i.product_id and i.quantity > i.short_quantity;
    get diagnostics v_restocked = row_count;
  end if;
  return jsonb_build_object('outcome', 'changed', 'order_id', v_order.id, 'order_status', p_status, 'restocked', v_restocked);
end $$;

-- The courier's delivery event: every order shipped under that tracking number (one parcel may
-- carry several). `orders` holds each order's transition; none when the number is unknown.
create or replace function public.commerce_orders_delivered(p_tracking_number text, p_now timestamptz)
returns jsonb
language sql as $$
  select coalesce(jsonb_agg(public.commerce_order_transition(o.id, 'delivered', null, p_now) order by o.id), '[]'::jsonb)
    from public.commerce_orders o
   where o.tracking_number = p_tracking_number
$$;

-- As before, with placed, the order's number, its confirmation time and whether it needs attention,
-- and each item's shortfall (the admin alert uses the same view).
create or replace function public.commerce_order_email_due(p_order_id uuid, p_status text)
returns jsonb
language sql stable as $$
  select jsonb_build_object(
           'order_id', o.id, 'order_number', o.order_number, 'order_status', o.status, 'total', o.total, 'currency', o.currency,
           'tracking_number', o.tracking_number, 'created_at', o.created_at, 'confirmed_at', o.confirmed_at,
           'needs_attention', o.needs_attention_at is not null, 'attention_reason', o.attention_reason,
           'reached', case p_status
                        when 'placed' then true
                        when 'confirmed' then o.confirmed_at is not null
                        when 'shipped' then o.shipped_at is not null and o.tracking_number is not null
                        when 'delivered' then o.delivered_at is not null
                        when 'cancelled' then o.cancelled_at is not null
                        when 'return_approved' then o.return_approved_at is not null
                        when 'needs_attention' then o.needs_attention_at is not null
                        else false end,
           'user', jsonb_build_object('id', u.id, 'email', u.email, 'name', u.name),
           'items', coalesce((select jsonb_agg(jsonb_build_object('name', p.name, 'sku', p.sku, 'quantity', i.quantity, 'unit_price', i.unit_price,
                                                                  'short', i.short_quantity) order by p.name)
                                from public.commerce_order_items i join public.commerce_products p on p.id = i.product_id
                               where i.order_id = o.id), '[]'::jsonb))
    from public.commerce_orders o join public.commerce_users u on u.id = o.user_id
   where o.id = p_order_id
$$;

-- The in-app notification of an effect, with what the app links it to; a retry adds nothing.
drop function if exists public.commerce_notification_add(uuid, text, text, text, text, timestamptz);
create or replace function public.commerce_notification_add(p_user_id uuid, p_key text, p_kind text, p_title text, p_body text, p_metadata jsonb, p_now timestamptz)
returns jsonb
language sql as $$
  with ins as (
    insert into public.commerce_notifications (user_id, key, kind, title, body, metadata, created_at)
    values (p_user_id, p_key, p_kind, p_title, p_body, coalesce(p_metadata, '{}'::jsonb), p_now)
    on conflict (key) do nothing
    returning id
  )
  select jsonb_build_object('created', exists (select 1 from ins))
$$;
