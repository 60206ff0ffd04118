-- The node-run state machine. Each function is one call that locks the run, makes at most one
-- transition and writes its audit row; a delivery that changes nothing is recorded too (from =
-- to, with a note). COMPLETED and TIMEOUT race on the row lock: whichever commits first wins and
-- the other finds the row no longer RUNNING (or no longer open) and changes nothing.
create or replace function public.campaign_run_json(r public.campaign_node_runs) returns jsonb
language sql stable as $$
  select jsonb_build_object('id', r.id, 'campaignId', r.campaign_id, 'nodeId', r.node_id, 'userId', r.user_id,
    'productUserId', r.product_user_id, 'state', r.state, 'runAt', r.run_at, 'timeoutAt', r.timeout_at, 'attempts', r.attempt_count,
    'didTimeout', r.did_timeout, 'startedAt', r.started_at, 'completedAt', r.completed_at, 'lastError', r.error_message,
    'lastErrorType', r.error_type, 'result', r.result, 'executeMessageId', r.execute_message_id,
    'timeoutMessageId', r.timeout_message_id)
$$;

create or replace function public.campaign_event(
  p_run_id uuid, p_from text, p_to text, p_now timestamptz, p_attempt integer, p_message_id text,
  p_error_type text default null, p_error text default null, p_note text default null
) returns void
language sql as $$
  insert into public.campaign_node_events (run_id, from_state, to_state, at, attempt, message_id, error_type, error, note)
  values (p_run_id, p_from, p_to, p_now, p_attempt, p_message_id, p_error_type, left(p_error, 1000), p_note)
$$;

-- Plans a node for a user: a new PENDING run, or the one planned before (never a second).
create or replace function public.campaign_run_plan(
  p_campaign_id uuid, p_node_id text, p_user_id text, p_product_user_id text, p_run_at timestamptz, p_timeout_at timestamptz, p_now timestamptz
) returns jsonb
language plpgsql as $$
declare
  r public.campaign_node_runs;
begin
  insert into public.campaign_node_runs (campaign_id, node_id, user_id, product_user_id, run_at, timeout_at, created_at, updated_at)
  values (p_campaign_id, p_node_id, p_user_id, p_product_user_id, p_run_at, p_timeout_at, p_now, p_now)
  on conflict (campaign_id, node_id, product_user_id) do nothing
  returning * into r;
  if found then
    perform public.campaign_event(r.id, null, 'PENDING', p_now, null, null);
    return jsonb_build_object('created', true, 'run', public.campaign_run_json(r));
  end if;
  select * into r from public.campaign_node_runs
   where campaign_id = p_campaign_id and node_id = p_node_id and product_user_id = p_product_user_id;
  return jsonb_build_object('created', false, 'run', public.campaign_run_json(r));
end
$$;

-- Records the messages published for a run (null keeps what is there), and the timeout's time.
create or replace function public.campaign_run_messages(
  p_campaign_id uuid, p_node_id text, p_product_user_id text, p_execute_message_id text, p_timeout_message_id text,
  p_timeout_at timestamptz, p_now timestamptz
) returns jsonb
language sql as $$
  update public.campaign_node_runs
     set execute_message_id = coalesce(p_execute_message_id, execute_message_id),
         timeout_message_id = coalesce(p_timeout_message_id, timeout_message_id),
         timeout_at = coalesce(p_timeout_at, timeout_at), updated_at = p_now
   where campaign_id = p_campaign_id and node_id = p_node_id and product_user_id = p_product_user_id
  returning public.campaign_run_json(campaign_node_runs)
$$;

-- The status of a node run's effect (effects.sql), when its run claimed nothing: made before,
-- held by another delivery, or given up.
create or replace function public.campaign_effect_status(p_key text) returns jsonb
language sql stable as $$
  select coalesce((select jsonb_build_object('status', e.status, 'result', e.result) from public.effects e where e.key = p_key), 'null'::jsonb)
$$;

-- What a run's handler needs besides the run: its node, its user, its campaign's window.
create or replace function public.campaign_run_context(r public.campaign_node_runs) returns jsonb
language sql stable as $$
  select jsonb_build_object(
    'node', (select jsonb_build_object('id', n.id, 'type', n.type, 'config', n.config, 'next', n.next_node_id, 'timing', n.timing)
               from public.campaign_nodes n where n.campaign_id = r.campaign_id and n.id = r.node_id),
    'user', (select jsonb_build_object('email', u.email, 'name', u.name, 'zone', u.zone, 'attributes', u.attributes)
               from public.campaign_users u where u.product_user_id = r.product_user_id))
$$;

-- An execution delivery: PENDING or FAILED (a retry) -> RUNNING; RUNNING -> RUNNING when a
-- delivery that died is retried. Any other state: nothing changes, recorded.
create or replace function public.campaign_run_start(
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
  if was not in ('PENDING', 'FAILED', 'RUNNING') then
    perform public.campaign_event(r.id, was, was, p_now, p_attempt, p_message_id, null, null, 'execution ignored: the node is ' || was);
    return jsonb_build_object('found', true, 'started', false, 'run', public.campaign_run_json(r)) || public.campaign_run_context(r);
  end if;
  -- A message of a run that was moved later (its cancel raced the delivery) arrives early: not its time.
  if p_now < r.run_at - make_interval(secs => p_early_ms / 1000.0) then
    perform public.campaign_event(r.id, was, was, p_now, p_attempt, p_message_id, null, null, 'execution ignored: planned for ' || r.run_at);
    return jsonb_build_object('found', true, 'started', false, 'run', public.campaign_run_json(r)) || public.campaign_run_context(r);
  end if;
  update public.campaign_node_runs
     set state = 'RUNNING', attempt_count = attempt_count + 1, started_at = coalesce(started_at, p_now), updated_at = p_now
   where id = r.id
  returning * into r;
  perform public.campaign_event(r.id, was, 'RUNNING', p_now, p_attempt, p_message_id, null, null,
                                case when was = 'RUNNING' then 'taken over from a delivery that did not finish' end);
  return jsonb_build_object('found', true, 'started', true, 'run', public.campaign_run_json(r)) || public.campaign_run_context(r);
end
$$;

-- The end of an execution: RUNNING -> COMPLETED | FAILED. A run that is no longer RUNNING (the
-- timeout won, or another delivery finished it) does not change; recorded.
create or replace function public.campaign_run_finish(
  p_run_id uuid, p_state text, p_attempt integer, p_message_id text, p_result jsonb, p_error_type text, p_error text, p_now timestamptz
) returns jsonb
language plpgsql as $$
declare
  r public.campaign_node_runs;
begin
  if p_state not in ('COMPLETED', 'FAILED') then
    raise exception 'campaign_run_finish: p_state must be COMPLETED or FAILED, got %', p_state;
  end if;
  update public.campaign_node_runs
     set state = p_state, result = coalesce(p_result, result), updated_at = p_now,
         completed_at = case when p_state = 'COMPLETED' then p_now end,
         error_message = case when p_state = 'FAILED' then left(p_error, 1000) else error_message end,
         error_type = case when p_state = 'FAILED' then p_error_type else error_type end
   where id = p_run_id and state = 'RUNNING'
  returning * into r;
  if found then
    perform public.campaign_event(r.id, 'RUNNING', p_state, p_now, p_attempt, p_message_id, p_error_type, p_error);
    return jsonb_build_object('changed', true, 'run', public.campaign_run_json(r));
  end if;
  select * into r from public.campaign_node_runs where id = p_run_id;
  perform public.campaign_event(r.id, r.state, r.state, p_now, p_attempt, p_message_id, p_error_type, p_error,
                                'finished late (' || p_state || '): the node is already ' || r.state);
  return jsonb_build_object('changed', false, 'run', public.campaign_run_json(r));
end
$$;

-- The timeout delivery: any state but COMPLETED (and the terminal ones) -> TIMEOUT.
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
  update public.campaign_node_runs set state = 'TIMEOUT', did_timeout = true, updated_at = p_now where id = r.id returning * into r;
  perform public.campaign_event(r.id, was, 'TIMEOUT', p_now, p_attempt, p_message_id);
  return jsonb_build_object('found', true, 'changed', true, 'run', public.campaign_run_json(r));
end
$$;

-- Through the API: PENDING -> CANCELLED, or PENDING -> PENDING at a new time (p_run_at given).
-- Returns {changed, run}; a run in any other state is left as it is.
create or replace function public.campaign_run_change(
  p_campaign_id uuid, p_node_id text, p_product_user_id text, p_run_at timestamptz, p_timeout_at timestamptz, p_now timestamptz
) returns jsonb
language plpgsql as $$
declare
  r public.campaign_node_runs;
begin
  select * into r from public.campaign_node_runs
   where campaign_id = p_campaign_id and node_id = p_node_id and product_user_id = p_product_user_id
   for update;
  if not found then
    return jsonb_build_object('found', false);
  end if;
  if r.state <> 'PENDING' then
    return jsonb_build_object('found', true, 'changed', false, 'run', public.campaign_run_json(r));
  end if;
  if p_run_at is null then
    update public.campaign_node_runs set state = 'CANCELLED', updated_at = p_now where id = r.id returning * into r;
    perform public.campaign_event(r.id, 'PENDING', 'CANCELLED', p_now, null, null);
  else
    update public.campaign_node_runs
       set run_at = p_run_at, timeout_at = p_timeout_at, execute_message_id = null, timeout_message_id = null, updated_at = p_now
     where id = r.id returning * into r;
    perform public.campaign_event(r.id, 'PENDING', 'PENDING', p_now, null, null, null, null, 'rescheduled to ' || p_run_at);
  end if;
  return jsonb_build_object('found', true, 'changed', true, 'run', public.campaign_run_json(r));
end
$$;

-- One user's runs in a campaign and every event of them, oldest first: the user's story.
create or replace function public.campaign_user_story(p_campaign_id uuid, p_product_user_id text) returns jsonb
language sql stable as $$
  select jsonb_build_object(
    'runs', coalesce((select jsonb_agg(public.campaign_run_json(r) order by r.created_at, r.id) from public.campaign_node_runs r
                       where r.campaign_id = p_campaign_id and r.product_user_id = p_product_user_id), '[]'::jsonb),
    'events', coalesce((select jsonb_agg(jsonb_build_object('nodeId', r.node_id, 'from', e.from_state, 'to', e.to_state, 'at', e.at,
                                                            'attempt', e.attempt, 'messageId', e.message_id, 'errorType', e.error_type,
                                                            'error', e.error, 'note', e.note) order by e.id)
                         from public.campaign_node_events e join public.campaign_node_runs r on r.id = e.run_id
                        where r.campaign_id = p_campaign_id and r.product_user_id = p_product_user_id), '[]'::jsonb))
$$;
