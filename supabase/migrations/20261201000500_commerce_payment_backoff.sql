-- A payment Razorpay keeps reporting as created (a checkout the customer abandoned) was asked about
-- every 10 minutes, forever: 144 calls a day each, against Razorpay's rate limits. Each answer that
-- leaves it pending now spaces the next question by a quarter of its age, from 10 minutes up to
-- 6 hours: a 2-hour-old payment is asked again in 30 minutes, a day-old one 4 times a day.
alter table public.commerce_payments add column if not exists next_check_at timestamptz;

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
                     and (p.next_check_at is null or p.next_check_at <= p_now)
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

create or replace function public.commerce_reconcile_settle(p_run_id uuid, p_now timestamptz, p_results jsonb, p_backoff_ms bigint)
returns jsonb
language sql as $$
  with later as (
    update public.commerce_payments p
       set next_check_at = p_now + least(greatest(interval '10 minutes', (p_now - p.created_at) / 4), interval '6 hours')
      from jsonb_array_elements(p_results) x
     where x->>'outcome' = 'succeeded' and x->'result'->>'outcome' = 'left'
       and p.id::text = split_part(x->>'key', ':', 2)
  )
  select public.effects_counts(array(
    select status from public.effects_settle(p_run_id, p_now,
      coalesce((select jsonb_agg(case when x->>'outcome' = 'succeeded' and x->'result'->>'outcome' = 'left'
                                      then jsonb_build_object('key', x->>'key', 'outcome', 'released') else x end)
                  from jsonb_array_elements(p_results) x), '[]'::jsonb),
      p_backoff_ms)))
$$;
