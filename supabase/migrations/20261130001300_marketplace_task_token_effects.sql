-- process-tasks and keep-alive's token refresh move onto effects (20261130001000_effects.sql):
-- the claim, the attempts, the backoff and the last error of each are an effect row now; the
-- domain tables keep only what they are about (a task's status, a connection's tokens).

-- Due admin tasks after the previous page's last (run_at, id), each with its own max_attempts
-- (its effect's limit).
create or replace function public.admin_tasks_due(
  p_now timestamptz, p_after_run_at timestamptz, p_after_id uuid, p_limit integer
) returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(jsonb_build_object('id', t.id, 'kind', t.kind, 'payload', t.payload, 'run_at', t.run_at, 'max_attempts', t.max_attempts)
                            order by t.run_at, t.id), '[]'::jsonb)
    from (select * from public.admin_tasks t
           where t.status = 'pending' and t.run_at <= p_now
             and (p_after_id is null or (t.run_at, t.id) > (p_after_run_at, p_after_id))
           order by t.run_at, t.id
           limit p_limit) t
$$;

-- Settles a page of tasks: made -> done, abandoned (permanent error or out of attempts) -> failed.
-- A failed or unknown one stays pending; its effect says when it is due again.
create or replace function public.admin_tasks_settle(p_run_id uuid, p_now timestamptz, p_results jsonb, p_backoff_ms bigint)
returns jsonb
language sql as $$
  with s as (
    select * from public.effects_settle(p_run_id, p_now, p_results, p_backoff_ms)
  ), ended as (
    update public.admin_tasks t
       set status = case when s.status = 'succeeded' then 'done' else 'failed' end, finished_at = p_now
      from s where t.id = s.subject::uuid and s.status in ('succeeded', 'abandoned') and t.status = 'pending'
    returning t.id
  )
  select public.effects_counts(array(select status from s)) from (select count(*) from ended) e
$$;

-- Active connections whose access token expires within p_horizon_ms and that were not refreshed
-- within p_min_interval_ms, after the previous page's last (expires_at, id). Access tokens live
-- an hour, so nearly every connection is due: the interval keeps refresh tokens alive without
-- redoing a refresh on a repeat run. `window` is when the current refresh window opened: the
-- last refresh, or the last revocation (a reconnected grant starts a new window).
create or replace function public.calendar_tokens_due(
  p_now timestamptz, p_horizon_ms bigint, p_after_expires_at timestamptz, p_after_id uuid, p_limit integer, p_min_interval_ms bigint default 72000000
) returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(jsonb_build_object(
           'connection_id', c.id, 'refresh_token', c.refresh_token, 'expires_at', c.expires_at,
           'window', coalesce(floor(extract(epoch from greatest(c.refreshed_at, c.revoked_at)))::bigint, 0)) order by c.expires_at, c.id), '[]'::jsonb)
    from (select * from public.calendar_connections c
           where c.status = 'active' and c.expires_at <= p_now + make_interval(secs => p_horizon_ms / 1000.0)
             and (c.refreshed_at is null or c.refreshed_at <= p_now - make_interval(secs => p_min_interval_ms / 1000.0))
             and (p_after_id is null or (c.expires_at, c.id) > (p_after_expires_at, p_after_id))
           order by c.expires_at, c.id
           limit p_limit) c
$$;

-- Settles a page of refreshes. A result is {access_token, expires_at, refresh_token?, scope?} or
-- {revoked: true, reason}: new tokens go to the connection only, the effect keeps the rest (never
-- a secret). A revoked grant marks the connection as needing re-consent.
create or replace function public.calendar_tokens_settle(p_run_id uuid, p_now timestamptz, p_results jsonb, p_backoff_ms bigint)
returns jsonb
language sql as $$
  with r as (
    select x->>'key' as key, x->'result' as result,
           case when jsonb_typeof(x->'result') = 'object' then jsonb_set(x, '{result}', (x->'result') - 'access_token' - 'refresh_token') else x end as kept
      from jsonb_array_elements(p_results) x
  ), s as (
    select * from public.effects_settle(p_run_id, p_now, (select coalesce(jsonb_agg(kept), '[]'::jsonb) from r), p_backoff_ms)
  ), upd as (
    update public.calendar_connections c
       set access_token = case when revoked then c.access_token else r.result->>'access_token' end,
           expires_at = case when revoked then c.expires_at else (r.result->>'expires_at')::timestamptz end,
           refresh_token = case when revoked then c.refresh_token else coalesce(r.result->>'refresh_token', c.refresh_token) end,
           scope = case when revoked then c.scope else coalesce(r.result->>'scope', c.scope) end,
           refreshed_at = case when revoked then c.refreshed_at else p_now end,
           status = case when revoked then 'needs_reconsent' else c.status end,
           revoked_at = case when revoked then p_now else c.revoked_at end
      from s join r on r.key = s.key, lateral (select coalesce((r.result->>'revoked')::boolean, false) as revoked) v
     where c.id = s.subject::uuid and s.status = 'succeeded'
    returning c.id
  )
  select public.effects_counts(array(select status from s)) from (select count(*) from upd) u
$$;

-- Claims in flight and failures waiting for a retry become effects, so nothing is done twice or
-- forgotten across the change. A task's attempts carry over; one in flight or still pending gets
-- at least one more attempt, as the old claim gave it.
insert into public.effects (key, job, subject, status, attempts, max_attempts, next_attempt_at, last_error, created_at, updated_at, finished_at)
select 'task:' || t.id, 'process-tasks', t.id::text,
       case t.status when 'done' then 'succeeded' when 'failed' then 'abandoned' when 'running' then 'unknown' else 'failed' end,
       greatest(t.attempts, 1),
       case when t.status in ('done', 'failed') then greatest(t.max_attempts, t.attempts, 1) else greatest(t.max_attempts, t.attempts + 1) end,
       -- A run that held a task when its claim moved may have sent it: due once the old lease (240 s) passed.
       case t.status when 'pending' then t.run_at when 'running' then coalesce(t.claimed_at, now()) + interval '240 seconds' end,
       t.last_error, t.created_at, now(),
       case when t.status in ('done', 'failed') then coalesce(t.finished_at, now()) end
  from public.admin_tasks t
 where t.status in ('done', 'failed', 'running') or t.attempts > 0
on conflict (key) do nothing;

update public.admin_tasks set status = 'pending' where status = 'running';

-- The key each connection's next refresh will use (calendar_tokens_due's window); a revocation was
-- made in the window before it, which its refreshed_at opened.
insert into public.effects (key, job, subject, status, attempts, next_attempt_at, last_error, result, created_at, updated_at, finished_at)
select 'token-refresh:' || c.id || ':' || coalesce(floor(extract(epoch from
         case when c.status = 'needs_reconsent' then c.refreshed_at else greatest(c.refreshed_at, c.revoked_at) end))::bigint, 0),
       'keep-alive', c.id::text,
       case when c.status = 'needs_reconsent' then 'succeeded' when c.claimed_by is not null then 'unknown' else 'failed' end,
       1,
       -- A claim's old lease was the keep-alive timeout (120 s); a failed refresh was due for any other run.
       case when c.status = 'needs_reconsent' then null when c.claimed_by is not null then coalesce(c.claimed_at, now()) + interval '120 seconds' else now() end,
       case when c.status = 'needs_reconsent' then null else c.last_error end,
       case when c.status = 'needs_reconsent' then jsonb_build_object('revoked', true, 'reason', c.last_error) end,
       now(), now(),
       case when c.status = 'needs_reconsent' then coalesce(c.revoked_at, now()) end
  from public.calendar_connections c
 where (c.status = 'active' and (c.claimed_by is not null or c.failed_run is not null))
    or (c.status = 'needs_reconsent' and c.last_error is not null)
on conflict (key) do nothing;

drop function if exists public.admin_tasks_claim(uuid, timestamptz, integer, integer);
drop function if exists public.admin_tasks_finish(uuid, timestamptz, bigint, jsonb);
drop function if exists public.calendar_tokens_claim(uuid, timestamptz, bigint, integer, integer, bigint);
drop function if exists public.calendar_tokens_finish(uuid, timestamptz, jsonb);

alter table public.admin_tasks
  drop column attempts, drop column claimed_by, drop column claimed_at, drop column last_error,
  drop constraint if exists admin_tasks_status_check,
  add constraint admin_tasks_status_check check (status in ('pending', 'done', 'failed'));
alter table public.calendar_connections
  drop column claimed_by, drop column claimed_at, drop column failed_run, drop column last_error;

-- admin_tasks_due's keyset.
drop index if exists public.admin_tasks_due_idx;
create index if not exists admin_tasks_pending_idx on public.admin_tasks (run_at, id) where status = 'pending';
-- calendar_tokens_due's keyset.
drop index if exists public.calendar_connections_expiry_idx;
create index if not exists calendar_connections_due_idx on public.calendar_connections (expires_at, id) where status = 'active';
