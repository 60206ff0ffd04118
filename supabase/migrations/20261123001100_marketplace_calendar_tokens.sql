-- keep-alive's maintenance: Google Calendar tokens expiring soon are refreshed (claimed by one run
-- at a time); a revoked grant marks the connection as needing re-consent instead of failing.
-- Access tokens live an hour, so nearly every connection is "expiring within 24 h": one refresh
-- per connection per p_min_interval_ms keeps refresh tokens alive without redoing it on a repeat run.
create or replace function public.calendar_tokens_claim(
  p_run_id uuid, p_now timestamptz, p_horizon_ms bigint, p_lease_ms integer, p_limit integer default 100, p_min_interval_ms bigint default 72000000
) returns jsonb
language sql as $$
  with due as (
    select c.id from public.calendar_connections c
     where c.status = 'active' and c.expires_at <= p_now + make_interval(secs => p_horizon_ms / 1000.0)
       and (c.refreshed_at is null or c.refreshed_at <= p_now - make_interval(secs => p_min_interval_ms / 1000.0))
       and (c.claimed_by is null or c.claimed_at <= p_now - make_interval(secs => p_lease_ms / 1000.0))
       and c.failed_run is distinct from p_run_id
     order by c.expires_at, c.id
     limit p_limit
       for update skip locked
  ), claimed as (
    update public.calendar_connections c set claimed_by = p_run_id, claimed_at = p_now
      from due where c.id = due.id
    returning c.id, c.expert_id, c.refresh_token, c.expires_at
  )
  select jsonb_build_object(
    'items', coalesce((
      select jsonb_agg(jsonb_build_object(
               'connection_id', c.id, 'refresh_token', c.refresh_token, 'expires_at', c.expires_at,
               'expert', jsonb_build_object('id', e.id, 'name', e.name, 'email', e.email, 'time_zone', e.time_zone)) order by c.expires_at, c.id)
        from claimed c join public.experts e on e.id = c.expert_id), '[]'::jsonb),
    'more', (select count(*) from claimed) = p_limit)
$$;

-- [{connection_id, ok: true, access_token, expires_at, refresh_token?, scope?}
--  | {connection_id, revoked: true, error} | {connection_id, ok: false, error} | {connection_id, released: true}]
create or replace function public.calendar_tokens_finish(p_run_id uuid, p_now timestamptz, p_results jsonb)
returns jsonb
language sql as $$
  with r as (
    select (x->>'connection_id')::uuid as id, coalesce((x->>'ok')::boolean, false) as ok,
           coalesce((x->>'revoked')::boolean, false) as revoked, coalesce((x->>'released')::boolean, false) as released,
           x->>'access_token' as access_token, (x->>'expires_at')::timestamptz as expires_at,
           x->>'refresh_token' as refresh_token, x->>'scope' as scope, x->>'error' as error
      from jsonb_array_elements(p_results) x
  ), upd as (
    update public.calendar_connections c
       set access_token = case when r.ok then r.access_token else c.access_token end,
           expires_at = case when r.ok then r.expires_at else c.expires_at end,
           refresh_token = case when r.ok then coalesce(r.refresh_token, c.refresh_token) else c.refresh_token end,
           scope = case when r.ok then coalesce(r.scope, c.scope) else c.scope end,
           refreshed_at = case when r.ok then p_now else c.refreshed_at end,
           status = case when r.revoked then 'needs_reconsent' else c.status end,
           revoked_at = case when r.revoked then p_now else c.revoked_at end,
           failed_run = case when not r.ok and not r.revoked and not r.released then p_run_id else c.failed_run end,
           last_error = case when r.ok then null when r.released then c.last_error else left(r.error, 1000) end,
           claimed_by = null, claimed_at = null
      from r where c.id = r.id and c.claimed_by = p_run_id
    returning r.ok, r.revoked, r.released
  )
  select jsonb_build_object('refreshed', count(*) filter (where ok), 'revoked', count(*) filter (where revoked),
                            'failed', count(*) filter (where not ok and not revoked and not released), 'released', count(*) filter (where released))
  from upd
$$;

-- One notice per revocation (key reconsent:<connection>:<revoked_at epoch>): a connection revoked
-- again after the expert reconnected gets a new one. Claimed separately from the refresh, so a
-- notice that failed to send is retried by the next keep-alive although the token is not refreshed.
create or replace function public.reconsent_notices_claim(p_run_id uuid, p_now timestamptz, p_lease_ms integer, p_limit integer default 100)
returns jsonb
language sql as $$
  with cand as materialized (
    select c.id, c.expert_id, 'reconsent:' || c.id || ':' || floor(extract(epoch from c.revoked_at))::bigint as key
      from public.calendar_connections c
     where c.status = 'needs_reconsent' and c.revoked_at is not null
  ), todo as materialized (
    select cand.* from cand
     where not exists (
       select 1 from public.notification_claims n
        where n.key = cand.key
          and (n.status = 'sent'
            or (n.status = 'claimed' and n.claimed_at > p_now - make_interval(secs => p_lease_ms / 1000.0))
            or (n.status = 'failed' and n.claimed_by = p_run_id)))
     order by cand.key
     limit p_limit
  ), claimed as (
    insert into public.notification_claims as n (key, kind, subject_id, recipient, status, claimed_by, claimed_at)
    select t.key, 'reconsent', t.id, 'expert', 'claimed', p_run_id, p_now from todo t
    on conflict (key) do update set status = 'claimed', claimed_by = excluded.claimed_by, claimed_at = excluded.claimed_at, attempts = n.attempts + 1
     where (n.status = 'failed' and n.claimed_by <> p_run_id)
        or (n.status = 'claimed' and n.claimed_at <= p_now - make_interval(secs => p_lease_ms / 1000.0))
    returning n.key, n.subject_id
  )
  select jsonb_build_object(
    'items', coalesce((
      select jsonb_agg(jsonb_build_object('key', c.key, 'connection_id', cc.id,
               'to', jsonb_build_object('id', e.id, 'name', e.name, 'email', e.email, 'time_zone', e.time_zone)) order by c.key)
        from claimed c join public.calendar_connections cc on cc.id = c.subject_id join public.experts e on e.id = cc.expert_id), '[]'::jsonb),
    'more', (select count(*) from todo) = p_limit)
$$;
