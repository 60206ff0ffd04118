-- The shop's upkeep: low-stock episodes, batched cleanups, the daily sales figures.

-- One pass of check-stock-levels: closes the episodes of products restocked above their
-- threshold, opens one for each product at or below it that has none open, and gives the
-- episodes not yet in an alert one shared key (`stock-alert:<first episode id>`): one alert per
-- run lists them all. Concurrent runs open each episode once (the unique open index) and take
-- disjoint episodes into their alerts (skip locked).
create or replace function public.commerce_stock_alerts_scan(p_now timestamptz)
returns jsonb
language plpgsql as $$
declare
  v_closed integer;
  v_opened integer;
  v_batched integer;
begin
  update public.commerce_stock_alerts a set closed_at = p_now
    from public.commerce_products p
   where p.id = a.product_id and a.closed_at is null and p.stock > p.low_stock_threshold;
  get diagnostics v_closed = row_count;

  insert into public.commerce_stock_alerts (product_id, stock, threshold, opened_at)
  select p.id, p.stock, p.low_stock_threshold, p_now
    from public.commerce_products p
   where p.stock <= p.low_stock_threshold
     and not exists (select 1 from public.commerce_stock_alerts a where a.product_id = p.id and a.closed_at is null)
   order by p.id
  on conflict (product_id) where closed_at is null do nothing;
  get diagnostics v_opened = row_count;

  with pick as (
    select id from public.commerce_stock_alerts where alert_key is null order by id for update skip locked
  ), k as (
    select 'stock-alert:' || min(id) as key from pick
  )
  update public.commerce_stock_alerts a set alert_key = k.key
    from k where k.key is not null and a.id in (select id from pick);
  get diagnostics v_batched = row_count;
  return jsonb_build_object('closed', v_closed, 'opened', v_opened, 'batched', v_batched);
end $$;

-- Alerts not yet sent, after the previous page's last key, each with its products. Left out:
-- effects done, waiting for a person or for their backoff.
create or replace function public.commerce_stock_alerts_due(p_now timestamptz, p_after_key text, p_limit integer)
returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(jsonb_build_object('key', k.alert_key, 'products', k.products) order by k.alert_key), '[]'::jsonb)
    from (select a.alert_key,
                 jsonb_agg(jsonb_build_object('product_id', p.id, 'sku', p.sku, 'name', p.name, 'stock', a.stock, 'threshold', a.threshold)
                           order by a.stock, p.name, p.id) as products
            from public.commerce_stock_alerts a join public.commerce_products p on p.id = a.product_id
           where a.notified_at is null and a.alert_key is not null
             and (p_after_key is null or a.alert_key > p_after_key)
             and not exists (select 1 from public.effects x
                              where x.key = a.alert_key
                                and (x.status in ('succeeded', 'abandoned') or (x.status in ('failed', 'unknown') and x.next_attempt_at > p_now)))
           group by a.alert_key
           order by a.alert_key
           limit p_limit) k
$$;

-- Settles a page of alerts: a sent one marks its episodes notified in the same transaction.
create or replace function public.commerce_stock_alerts_settle(p_run_id uuid, p_now timestamptz, p_results jsonb, p_backoff_ms bigint)
returns jsonb
language sql as $$
  with s as (
    select * from public.effects_settle(p_run_id, p_now, p_results, p_backoff_ms)
  ), done as (
    update public.commerce_stock_alerts a set notified_at = p_now
      from s where a.alert_key = s.key and s.status = 'succeeded' and a.notified_at is null
    returning a.id
  )
  select public.effects_counts(array(select status from s)) from (select count(*) from done) d
$$;

-- Batched cleanups: each deletes at most p_limit rows (skip locked, so concurrent runs split the
-- work) and says whether there may be more.
create or replace function public.commerce_inventory_locks_release(p_now timestamptz, p_limit integer default 5000)
returns jsonb
language sql as $$
  with gone as (
    delete from public.commerce_inventory_locks
     where id in (select id from public.commerce_inventory_locks where expires_at <= p_now order by expires_at limit p_limit for update skip locked)
    returning 1
  )
  select jsonb_build_object('released', count(*), 'more', count(*) = p_limit) from gone
$$;

create or replace function public.commerce_notifications_prune(p_before timestamptz, p_limit integer default 5000)
returns jsonb
language sql as $$
  with gone as (
    delete from public.commerce_notifications
     where id in (select id from public.commerce_notifications
                   where read_at is not null and created_at < p_before order by created_at limit p_limit for update skip locked)
    returning 1
  )
  select jsonb_build_object('deleted', count(*), 'more', count(*) = p_limit) from gone
$$;

-- Expired or used reset tokens.
create or replace function public.commerce_password_resets_prune(p_now timestamptz, p_limit integer default 5000)
returns jsonb
language sql as $$
  with gone as (
    delete from public.commerce_password_resets
     where id in (select id from public.commerce_password_resets
                   where expires_at <= p_now or used_at is not null order by id limit p_limit for update skip locked)
    returning 1
  )
  select jsonb_build_object('deleted', count(*), 'more', count(*) = p_limit) from gone
$$;

-- Unverified users created before p_before, with their dependent rows (addresses, notifications,
-- reset tokens, inventory locks: on delete cascade). Users with an order are kept: an order is a
-- business record.
create or replace function public.commerce_unverified_users_prune(p_before timestamptz, p_limit integer default 1000)
returns jsonb
language sql as $$
  with gone as (
    delete from public.commerce_users
     where id in (select u.id from public.commerce_users u
                   where not u.verified and u.created_at < p_before
                     and not exists (select 1 from public.commerce_orders o where o.user_id = u.id)
                   order by u.created_at limit p_limit for update skip locked)
    returning 1
  )
  select jsonb_build_object('deleted', count(*), 'more', count(*) = p_limit) from gone
$$;

-- A period's sold orders (processing, shipped, delivered) by when they were placed: how many,
-- the total per currency, and the p_top products by quantity.
create or replace function public.commerce_sales_summary(p_from timestamptz, p_to timestamptz, p_top integer default 5)
returns jsonb
language sql stable as $$
  with o as (
    select id, total, currency from public.commerce_orders
     where status in ('processing', 'shipped', 'delivered') and created_at >= p_from and created_at < p_to
  )
  select jsonb_build_object(
    'orders', (select count(*) from o),
    'totals', coalesce((select jsonb_agg(jsonb_build_object('currency', currency, 'total', total) order by currency)
                          from (select currency, sum(total) as total from o group by currency) t), '[]'::jsonb),
    'top', coalesce((select jsonb_agg(jsonb_build_object('product_id', t.product_id, 'name', t.name, 'quantity', t.quantity,
                                                         'revenue', t.revenue, 'currency', t.currency) order by t.quantity desc, t.revenue desc, t.name)
                       from (select i.product_id, p.name, o.currency, sum(i.quantity) as quantity, sum(i.quantity * i.unit_price) as revenue
                               from o join public.commerce_order_items i on i.order_id = o.id
                               join public.commerce_products p on p.id = i.product_id
                              group by i.product_id, p.name, o.currency
                              order by quantity desc, revenue desc, p.name
                              limit p_top) t), '[]'::jsonb))
$$;

-- The days whose summary failed and is due again (their effect's subject is the date): a run
-- sends them with its own day, so a failure late in the evening is not lost to the next tick.
create or replace function public.commerce_sales_summary_retries(p_job text, p_now timestamptz)
returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(subject order by subject), '[]'::jsonb)
    from public.effects
   where job = p_job and status in ('failed', 'unknown') and next_attempt_at <= p_now and attempts < max_attempts and subject is not null
$$;
