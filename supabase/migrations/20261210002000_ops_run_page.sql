-- The console's run page (/ops/runs/<id>), its effect actions and the console's action log.
--
-- 1. A run keeps its payload and a few of its log lines, written by the close it already makes
--    (no new round trip): the payload as parsed (at most 8 KB, else a note of its size), and its
--    warn/error lines, plus its last lines when it failed (lib/jobs/kept-lines.ts, at most 16 KB).
--    A run that never closed (its process died) has neither: the page says so.
-- 2. ops_actions: every console action, with the operator who signed in, what, on what, why and
--    how it ended. Kept as long as runs (the retention job, RUNS_RETENTION_DAYS).
-- 3. ops_effect_resolve: a person retries, abandons or marks as made an effect that needs one,
--    within the claim's rules (docs/decisions/006-fenced-claims.md): never a claimed effect, and
--    only from the status the person saw.

alter table public.job_runs add column if not exists payload jsonb;
alter table public.job_runs add column if not exists logs jsonb;

-- The close of 20261209008000_ledger_close_plans.sql, with the payload and the kept lines.
drop function if exists public.job_run_close(uuid, text, jsonb, jsonb);
create or replace function public.job_run_close(
  p_run_id uuid,
  p_status text,
  p_stats jsonb default null,
  p_error jsonb default null,
  p_payload jsonb default null,
  p_logs jsonb default null
) returns jsonb
language plpgsql as $$
declare
  v_now timestamptz := public.cronlayer_now();
  v_row public.job_runs;
  v_inc record;
begin
  if p_status not in ('succeeded', 'failed') then
    raise exception 'a run closes as succeeded or failed, not %', p_status using errcode = '22023';
  end if;
  -- docs/decisions/008-closes-commit-without-flush.md: never inside a transaction that claims or settles.
  perform set_config('synchronous_commit', 'off', true);
  update public.job_runs
     set status = p_status,
         finished_at = v_now,
         duration_ms = least(2147483647, greatest(0, extract(epoch from (v_now - started_at)) * 1000))::integer,
         lease_expires_at = null,
         stats = p_stats,
         error = p_error,
         payload = p_payload,
         logs = p_logs
   where id = p_run_id and status = 'running'
  returning * into v_row;
  if not found then
    return jsonb_build_object('closed', false, 'run_id', p_run_id);
  end if;
  if v_row.status = 'succeeded' and v_row.trigger not in ('catch-up', 'backfill') then
    update public.alert_incidents set recovered_at = v_now
     where job = v_row.job and recovered_at is null
    returning id, opened_at, alerts into v_inc;
    if found then
      return jsonb_build_object('closed', true, 'run_id', v_row.id, 'status', v_row.status, 'duration_ms', v_row.duration_ms,
        'recovered', jsonb_build_object('decision', 'recovered', 'incident_id', v_inc.id,
          'key', format('alert:%s:%s:recovered', v_row.job, v_inc.id), 'opened_at', v_inc.opened_at, 'alerts', v_inc.alerts,
          'failures', (select count(*) from public.alert_events e where e.incident_id = v_inc.id)));
    end if;
  end if;
  return jsonb_build_object('closed', true, 'run_id', v_row.id, 'status', v_row.status, 'duration_ms', v_row.duration_ms);
end $$;

create table if not exists public.ops_actions (
  id bigserial primary key,
  at timestamptz not null,
  operator text not null check (length(operator) between 1 and 40),
  action text not null,
  -- What it was done to: a job, a run id, an effect key, a dead letter id (any of them may be null).
  job text,
  run_id uuid,
  effect_key text,
  target text,
  reason text,
  ok boolean not null,
  outcome text not null
);
create index if not exists ops_actions_at_idx on public.ops_actions (at);
create index if not exists ops_actions_run_idx on public.ops_actions (run_id) where run_id is not null;
create index if not exists ops_actions_effect_idx on public.ops_actions (effect_key) where effect_key is not null;
alter table public.ops_actions enable row level security;

-- p_action: {operator, action, job?, run_id?, effect_key?, target?, reason?, ok, outcome}
create or replace function public.ops_action_record(p_now timestamptz, p_action jsonb)
returns jsonb language sql as $$
  insert into public.ops_actions (at, operator, action, job, run_id, effect_key, target, reason, ok, outcome)
  values (p_now, left(p_action->>'operator', 40), left(p_action->>'action', 40), left(p_action->>'job', 100),
          (p_action->>'run_id')::uuid, left(p_action->>'effect_key', 500), left(p_action->>'target', 500),
          left(p_action->>'reason', 1000), coalesce((p_action->>'ok')::boolean, false), left(coalesce(p_action->>'outcome', ''), 2000))
  returning jsonb_build_object('id', id)
$$;

create or replace function public.ops_actions_prune(p_before timestamptz, p_limit integer default 5000)
returns jsonb language sql as $$
  with gone as (
    delete from public.ops_actions
     where id in (select id from public.ops_actions where at < p_before order by at limit p_limit)
    returning 1
  )
  select jsonb_build_object('deleted', count(*), 'more', count(*) = p_limit) from gone
$$;

-- Everything the run page shows from the database, in one call: the run, the effects it holds or
-- last claimed (an effect names only its latest run), the batches they went out in, the other
-- deliveries of its message, and the console actions on the run or its effects.
create or replace function public.ops_run_detail(p_run_id uuid)
returns jsonb language sql stable as $$
  with run as (select * from public.job_runs where id = p_run_id),
  fx as (select * from public.effects where run_id = p_run_id order by key limit 500)
  select case when not exists (select 1 from run) then null else jsonb_build_object(
    'run', (select to_jsonb(r) - 'lease_expires_at' from run r),
    'effects', coalesce((select jsonb_agg(to_jsonb(e) order by e.key) from fx e), '[]'::jsonb),
    'batches', coalesce((select jsonb_agg(jsonb_build_object('key', b.key, 'keys', to_jsonb(b.keys), 'attempts', to_jsonb(b.attempt_numbers), 'single', b.single, 'created_at', b.created_at) order by b.created_at, b.key)
                           from public.effect_batches b where b.job = (select job from run) and b.keys && array(select key from fx)), '[]'::jsonb),
    'deliveries', coalesce((select jsonb_agg(jsonb_build_object('id', o.id, 'status', o.status, 'attempt', o.attempt, 'started_at', o.started_at) order by o.started_at)
                              from public.job_runs o, run r where r.message_id is not null and o.job = r.job and o.message_id = r.message_id), '[]'::jsonb),
    'actions', coalesce((select jsonb_agg(to_jsonb(a) order by a.at, a.id) from public.ops_actions a
                           where a.run_id = p_run_id or a.effect_key in (select key from fx)), '[]'::jsonb)
  ) end
$$;

-- A person's decision on one effect. p_action:
--   retry    due again now, with one more attempt if it had none left. An unknown effect stays
--            unknown, so a job that can look it up at its provider does so first; a failed or
--            abandoned one becomes failed (not made) and the job's next run makes it.
--   made     succeeded: the person found it made at the provider (an unknown or abandoned one).
--   abandon  abandoned with the person's reason: no run makes it again.
-- Refused when the effect is not in p_expected (what the page showed; none given is a refusal too),
-- or is claimed: a run holds it, and only its run may settle it. The row lock of the update orders
-- it with any claim. Refused also when it is not an effect of p_job: the person acts from a run's
-- page, and a retry runs that run's job again, so a forged form must not change another job's
-- effect. A retry needs its time (p_now): next_attempt_at null is never claimed.
create or replace function public.ops_effect_resolve(p_key text, p_action text, p_expected text, p_now timestamptz, p_note text, p_job text)
returns jsonb language plpgsql as $$
declare
  v_before public.effects;
  v_after public.effects;
  v_allowed text[] := case p_action when 'retry' then array['failed', 'unknown', 'abandoned']
                                    when 'made' then array['failed', 'unknown', 'abandoned']
                                    when 'abandon' then array['failed', 'unknown'] end;
begin
  if v_allowed is null then
    raise exception 'an effect is retried, marked made or abandoned, not %', coalesce(p_action, '(no action)') using errcode = '22023';
  end if;
  if p_now is null then
    raise exception 'ops_effect_resolve needs the time of the decision (p_now)' using errcode = '22023';
  end if;
  select * into v_before from public.effects where key = p_key for update;
  if not found then
    return jsonb_build_object('ok', false, 'error', 'no such effect');
  end if;
  if v_before.job is distinct from p_job then
    return jsonb_build_object('ok', false, 'status', v_before.status, 'error', format('it is an effect of %s, not of %s', v_before.job, coalesce(p_job, '(no job given)')));
  end if;
  if v_before.status is distinct from p_expected then
    return jsonb_build_object('ok', false, 'status', v_before.status, 'error', format('it is %s now, not %s: reload the page and decide again', v_before.status, coalesce(nullif(p_expected, ''), '(no status given)')));
  end if;
  if not (v_before.status = any(v_allowed)) then
    return jsonb_build_object('ok', false, 'status', v_before.status, 'error', format('%s %s effect cannot be %s', case when v_before.status in ('abandoned', 'unknown') then 'an' else 'a' end, v_before.status,
      case p_action when 'retry' then 'retried' when 'made' then 'marked made' else 'abandoned' end));
  end if;
  update public.effects e
     set status = case p_action when 'retry' then case when e.status = 'unknown' then 'unknown' else 'failed' end
                                when 'made' then 'succeeded' else 'abandoned' end,
         attempts = case when p_action = 'retry' then least(e.attempts, e.max_attempts - 1) else e.attempts end,
         next_attempt_at = case when p_action = 'retry' then p_now end,
         finished_at = case when p_action = 'retry' then null else p_now end,
         last_error = case when p_action = 'abandon' then left(p_note, 1000) else e.last_error end,
         lease_until = null,
         updated_at = p_now
   where e.key = p_key
  returning * into v_after;
  return jsonb_build_object('ok', true, 'job', v_after.job, 'run_id', v_before.run_id, 'from', v_before.status, 'status', v_after.status,
                            'attempts', v_after.attempts, 'max_attempts', v_after.max_attempts);
end $$;
