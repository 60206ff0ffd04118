-- Reconciling the app's dead letters with QStash's DLQ (keep-alive, the console). A failure
-- callback that never reached the app (the database was down for each of its attempts) leaves a
-- message in QStash's DLQ and no row here; one that reached the app but whose alert did not go out
-- on every channel leaves unsettled alert sends. Of the DLQ's messages, these are the ones to
-- record or alert again, found in one call: everything else is settled and costs nothing.
create or replace function public.dead_letters_unsettled(p_message_ids text[], p_now timestamptz)
returns jsonb language sql stable as $$
  select coalesce(jsonb_agg(m.id order by m.ord), '[]'::jsonb)
    from unnest(p_message_ids) with ordinality as m (id, ord)
    left join public.dead_letters d on d.source_message_id = m.id
    left join public.alert_events e on e.job = d.job and e.reason = 'dead-letter:' || m.id
   where d.id is null
      or (d.job is not null and (
            -- Recorded, but the instance stopped before (or while) deciding the alert.
            e.job is null or e.decision = 'pending'
            -- Decided to alert, and a channel's send is still to be made (or its sender died).
            or (e.key is not null and exists (
                  select 1 from public.effects x
                   where x.subject = d.job and x.job = 'alerts' and starts_with(x.key, e.key || ':')
                     and ((x.status in ('failed', 'unknown') and x.attempts < x.max_attempts)
                       or (x.status = 'claimed' and x.lease_until <= p_now))))))
$$;

revoke execute on function public.dead_letters_unsettled(text[], timestamptz) from public;
