-- appointment-reminders (24h) and appointment-reminders-1hr: one reminder per appointment, kind and
-- recipient (client, expert), key reminder:<kind>:<appointment>:<recipient>. Claimed here before
-- sending and finished after (notification_claims_finish), so concurrent or repeated runs send each
-- reminder once. Pages move forward by (starts_at, id): a run never rescans what it already did.
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
       where a.status in ('pending_payment', 'confirmed')
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
