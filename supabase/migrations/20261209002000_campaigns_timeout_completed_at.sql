-- A node that times out is finished too: TIMEOUT records completed_at (the moment the timeout
-- took it) beside did_timeout, as COMPLETED does, so "when did this node end" has one column.
-- campaign_run_timeout is 20261130004100's with that one change.
create or replace function public.campaign_run_timeout(
  p_campaign_id uuid, p_node_id text, p_product_user_id text, p_attempt integer, p_message_id text, p_now timestamptz,
  p_early_ms integer default 60000
) returns jsonb
language plpgsql as $$
declare
  r public.campaign_node_runs;
  was text;
begin
  select * into r from public.campaign_node_runs
   where campaign_id = p_campaign_id and node_id = p_node_id and product_user_id = p_product_user_id
   for update;
  if not found then
    return jsonb_build_object('found', false);
  end if;
  was := r.state;
  if was not in ('PENDING', 'RUNNING', 'FAILED') then
    perform public.campaign_event(r.id, was, was, p_now, p_attempt, p_message_id, null, null, 'timeout ignored: the node is ' || was);
    return jsonb_build_object('found', true, 'changed', false, 'run', public.campaign_run_json(r));
  end if;
  -- The timeout of a run that was moved (or has none any more) is not due.
  if r.timeout_at is null or p_now < r.timeout_at - make_interval(secs => p_early_ms / 1000.0) then
    perform public.campaign_event(r.id, was, was, p_now, p_attempt, p_message_id, null, null, 'timeout ignored: due at ' || coalesce(r.timeout_at::text, 'no time'));
    return jsonb_build_object('found', true, 'changed', false, 'run', public.campaign_run_json(r));
  end if;
  update public.campaign_node_runs set state = 'TIMEOUT', did_timeout = true, completed_at = p_now, updated_at = p_now
   where id = r.id returning * into r;
  perform public.campaign_event(r.id, was, 'TIMEOUT', p_now, p_attempt, p_message_id);
  return jsonb_build_object('found', true, 'changed', true, 'run', public.campaign_run_json(r));
end
$$;

-- Runs that timed out before this: the time of their TIMEOUT transition, from the audit.
update public.campaign_node_runs r
   set completed_at = coalesce((select max(e.at) from public.campaign_node_events e
                                 where e.run_id = r.id and e.to_state = 'TIMEOUT' and e.from_state is distinct from 'TIMEOUT'), r.updated_at)
 where r.state = 'TIMEOUT' and r.completed_at is null;
