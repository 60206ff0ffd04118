-- The sign-in rate limit as one atomic step. ops_login_check counted, the password was compared,
-- and ops_login_failed wrote the failure afterwards: 120 concurrent guesses all read "0 failures so
-- far" and were all compared. Now each attempt is reserved (a row) before the password is
-- compared, under one lock, and a right password gives its reservation back.

-- One lock for every reservation: the global cap counts every client, so the check and the insert
-- of any two attempts must not interleave. Sign-ins are rare; the wait is a few statements.
create or replace function public.ops_login_reserve(p_client text, p_now timestamptz, p_window_ms integer, p_max integer, p_global_max integer)
returns jsonb language plpgsql as $$
declare
  v_window interval := make_interval(secs => p_window_ms / 1000.0);
  v_mine bigint;
  v_mine_first timestamptz;
  v_all bigint;
  v_all_first timestamptz;
  v_id bigint;
begin
  perform pg_advisory_xact_lock(hashtext('public.ops_login_reserve'));
  -- Old rows go here: the table never outgrows a day of guesses.
  delete from public.ops_login_failures where at < p_now - interval '1 day';
  -- Rows within the window on either side of p_now: another instance's clock may run ahead.
  select count(*) filter (where client = p_client), min(at) filter (where client = p_client), count(*), min(at)
    into v_mine, v_mine_first, v_all, v_all_first
    from public.ops_login_failures
   where at > p_now - v_window and at < p_now + v_window;
  if v_mine >= p_max then
    return jsonb_build_object('allowed', false, 'retry_after_ms',
      greatest(1000, ceil(extract(epoch from (v_mine_first + v_window - p_now)) * 1000)::bigint));
  end if;
  if v_all >= p_global_max then
    return jsonb_build_object('allowed', false, 'retry_after_ms',
      greatest(1000, ceil(extract(epoch from (v_all_first + v_window - p_now)) * 1000)::bigint));
  end if;
  insert into public.ops_login_failures (client, at) values (p_client, p_now) returning id into v_id;
  return jsonb_build_object('allowed', true, 'attempt', v_id);
end $$;

-- The password was right: the reservation was not a failure.
create or replace function public.ops_login_release(p_attempt bigint)
returns jsonb language sql as $$
  with gone as (delete from public.ops_login_failures where id = p_attempt returning 1)
  select jsonb_build_object('released', (select count(*) from gone))
$$;

revoke execute on function public.ops_login_reserve(text, timestamptz, integer, integer, integer) from public;
revoke execute on function public.ops_login_release(bigint) from public;

-- The read-then-write pair it replaces.
drop function if exists public.ops_login_check(text, timestamptz, integer, integer, integer);
drop function if exists public.ops_login_failed(text, timestamptz);
