-- process-tasks: due admin tasks are claimed by one run, run, and marked done, or retried later with
-- a backoff until max_attempts, then failed. Audit-log rows past retention are deleted in batches.
create or replace function public.admin_tasks_claim(p_run_id uuid, p_now timestamptz, p_lease_ms integer, p_limit integer default 50)
returns jsonb
language sql as $$
  with due as (
    select t.id from public.admin_tasks t
     where (t.status = 'pending' and t.run_at <= p_now)
        or (t.status = 'running' and t.claimed_at <= p_now - make_interval(secs => p_lease_ms / 1000.0))
     order by t.run_at, t.id
     limit p_limit
       for update skip locked
  ), claimed as (
    update public.admin_tasks t set status = 'running', claimed_by = p_run_id, claimed_at = p_now, attempts = t.attempts + 1
      from due where t.id = due.id
    returning t.id, t.kind, t.payload, t.attempts, t.max_attempts, t.run_at
  )
  select jsonb_build_object(
    'items', coalesce((select jsonb_agg(jsonb_build_object('id', id, 'kind', kind, 'payload', payload, 'attempt', attempts, 'max_attempts', max_attempts) order by run_at, id) from claimed), '[]'::jsonb),
    'more', (select count(*) from claimed) = p_limit)
$$;

-- [{id, ok: true} | {id, ok: false, error, permanent?} | {id, released: true}]. A retryable failure
-- waits p_backoff_ms * attempts before it is due again (so this run does not pick it up again).
create or replace function public.admin_tasks_finish(p_run_id uuid, p_now timestamptz, p_backoff_ms bigint, p_results jsonb)
returns jsonb
language sql as $$
  with r as (
    select (x->>'id')::uuid as id, coalesce((x->>'ok')::boolean, false) as ok, coalesce((x->>'released')::boolean, false) as released,
           coalesce((x->>'permanent')::boolean, false) as permanent, x->>'error' as error
      from jsonb_array_elements(p_results) x
  ), upd as (
    update public.admin_tasks t
       set status = case when r.ok then 'done'
                         when r.released then 'pending'
                         when r.permanent or t.attempts >= t.max_attempts then 'failed'
                         else 'pending' end,
           finished_at = case when r.ok or r.permanent or (not r.released and t.attempts >= t.max_attempts) then p_now end,
           run_at = case when not r.ok and not r.released and not r.permanent and t.attempts < t.max_attempts
                         then p_now + make_interval(secs => p_backoff_ms * t.attempts / 1000.0) else t.run_at end,
           attempts = case when r.released then greatest(0, t.attempts - 1) else t.attempts end,
           last_error = case when r.ok then null when r.released then t.last_error else left(r.error, 1000) end,
           claimed_by = null, claimed_at = null
      from r where t.id = r.id and t.claimed_by = p_run_id and t.status = 'running'
    returning t.status, r.ok, r.released
  )
  select jsonb_build_object(
    'done', count(*) filter (where ok),
    'retrying', count(*) filter (where not ok and not released and status = 'pending'),
    'failed', count(*) filter (where status = 'failed'),
    'released', count(*) filter (where released))
  from upd
$$;

create or replace function public.audit_log_prune(p_before timestamptz, p_limit integer default 5000)
returns jsonb
language sql as $$
  with gone as (
    delete from public.audit_log
     where id in (select id from public.audit_log where at < p_before order by at limit p_limit)
    returning 1
  )
  select jsonb_build_object('deleted', count(*), 'more', count(*) = p_limit) from gone
$$;
