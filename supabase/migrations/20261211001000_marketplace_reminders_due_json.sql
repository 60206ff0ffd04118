-- appointment_reminders_due builds its page as json, not jsonb: the answer is only ever sent to
-- the job, and jsonb_build_object/jsonb_agg parse and sort every object of the page into jsonb's
-- binary form first. On pages of 400 reminders that was 7.9-11.8 ms against 3.3-5.3 ms as json
-- (a quarter of the reminders job's database time; bench/README.md). Same rows, same keys.
drop function if exists public.appointment_reminders_due(timestamptz, bigint, timestamptz, uuid, text, integer);

create or replace function public.appointment_reminders_due(
  p_now timestamptz, p_window_ms bigint, p_after_starts_at timestamptz, p_after_id uuid, p_after_recipient text, p_limit integer
) returns json
language sql stable as $$
  select coalesce(json_agg(json_build_object(
           'appointment_id', i.id, 'recipient', i.recipient, 'starts_at', i.starts_at, 'ends_at', i.ends_at,
           'to', case when i.recipient = 'client'
                      then json_build_object('id', cl.id, 'name', cl.name, 'email', cl.email, 'time_zone', cl.time_zone)
                      else json_build_object('id', e.id, 'name', e.name, 'email', e.email, 'time_zone', e.time_zone) end,
           'with_name', case when i.recipient = 'client' then e.name else cl.name end)
           order by i.starts_at, i.id, i.recipient), '[]'::json)
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
