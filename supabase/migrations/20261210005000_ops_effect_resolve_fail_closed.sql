-- ops_effect_resolve (20261210002000_ops_run_page.sql) compared the effect's status with the one the
-- page showed using `<>`, which is null, not true, when no status is given: a call without
-- p_expected changed the effect whatever its status. No status given is now a refusal like any
-- other, and a retry without a time is an error (its effect would be due never: next_attempt_at
-- null is never claimed). The person acts from a run's page, and a retry runs that run's job again:
-- the effect must be that job's (p_job), or a forged form would change another job's effect and run
-- the wrong job.
drop function if exists public.ops_effect_resolve(text, text, text, timestamptz, text);
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
