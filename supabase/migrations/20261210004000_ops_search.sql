-- The console's search (/ops/search) and live refresh (/ops/live), read through indexes only.
--
-- A search term is looked up as: a run id (job_runs.id), a QStash message id (job_runs.message_id
-- and buffered_message_id, job_messages.message_id, dead_letters.source_message_id and dlq_id), an
-- effect key (effects.key, exact or as a prefix: `transfer:` lists every transfer), or a subject:
-- what a run is about as the ledger keeps it, i.e. an effect's subject (the job's own id for it: a
-- payment, an appointment, a store day), a run's concurrency key (the key its payload gives) and a
-- message's owner (`form:<id>:deadline`, exact or as a prefix).
--
-- Prefixes are matched as a range over the "C" collation (`key >= q and key < q || U+10FFFF`):
-- unlike LIKE with a parameter, a range uses the index in a generic plan, whatever the database's
-- own collation.

create index if not exists job_runs_message_id_idx on public.job_runs (message_id) where message_id is not null;
create index if not exists job_runs_buffered_message_id_idx on public.job_runs (buffered_message_id) where buffered_message_id is not null;
create index if not exists job_runs_concurrency_key_idx on public.job_runs (concurrency_key) where concurrency_key is not null;
create index if not exists effects_key_c_idx on public.effects ((key collate "C"));
create index if not exists job_messages_owner_c_idx on public.job_messages ((owner collate "C"));
create index if not exists dead_letters_dlq_idx on public.dead_letters (dlq_id) where dlq_id is not null;

create or replace function public.ops_search(p_q text, p_limit integer)
returns jsonb language plpgsql stable as $$
declare
  v_q text := left(btrim(p_q), 300);
  v_id uuid := case when v_q ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then v_q::uuid end;
  -- A prefix of one or two characters would list half the ledger: exact matches only then.
  v_hi text := case when length(v_q) >= 3 then v_q || chr(1114111) end;
  v_limit integer := least(greatest(p_limit, 1), 200);
  v_runs jsonb;
  v_effects jsonb;
  v_messages jsonb;
  v_dead jsonb;
begin
  if v_q = '' then
    return jsonb_build_object('runs', '[]'::jsonb, 'effects', '[]'::jsonb, 'messages', '[]'::jsonb, 'dead_letters', '[]'::jsonb);
  end if;

  select coalesce(jsonb_agg(x order by x.started_at desc), '[]'::jsonb) into v_runs from (
    select r.id, r.job, r.status, r.trigger, r.attempt, r.started_at, r.finished_at, r.message_id, r.concurrency_key, m.matched
    from (
      select id, 'run id' as matched from public.job_runs where id = v_id
      union all select id, 'message id' from public.job_runs where message_id = v_q
      union all select id, 'buffered message id' from public.job_runs where buffered_message_id = v_q
      union all select id, 'subject (concurrency key)' from public.job_runs where concurrency_key = v_q and v_q <> ''
    ) m join public.job_runs r on r.id = m.id
    order by r.started_at desc
    limit v_limit
  ) x;

  select coalesce(jsonb_agg(x order by x.updated_at desc), '[]'::jsonb) into v_effects from (
    select e.key, e.job, e.subject, e.status, e.run_id, e.attempts, e.max_attempts, e.updated_at, m.matched
    from (
      select key, 'effect key' as matched from public.effects where key = v_q
      -- The first keys in order, not every key under the prefix: `t` alone would read them all.
      union (select key, 'effect key prefix' from public.effects
        where v_hi is not null and (key collate "C") >= v_q and (key collate "C") < v_hi and key <> v_q
        order by (key collate "C") limit v_limit)
      union select key, 'subject' from public.effects where subject = v_q
    ) m join public.effects e on e.key = m.key
    order by e.updated_at desc
    limit v_limit
  ) x;

  select coalesce(jsonb_agg(x order by x.created_at desc), '[]'::jsonb) into v_messages from (
    select j.message_id, j.owner, j.job, j.status, j.created_at, j.not_before, m.matched
    from (
      select message_id, 'message id' as matched from public.job_messages where message_id = v_q
      union select message_id, 'subject (owner)' from public.job_messages where owner = v_q
      union (select message_id, 'subject (owner prefix)' from public.job_messages
        where v_hi is not null and (owner collate "C") >= v_q and (owner collate "C") < v_hi and owner <> v_q
        order by (owner collate "C") limit v_limit)
    ) m join public.job_messages j on j.message_id = m.message_id
    order by j.created_at desc
    limit v_limit
  ) x;

  select coalesce(jsonb_agg(x order by x.created_at desc), '[]'::jsonb) into v_dead from (
    select d.id, d.dlq_id, d.job, d.source_message_id, d.response_status, d.created_at, m.matched
    from (
      select id, 'message id' as matched from public.dead_letters where source_message_id = v_q
      union select id, 'dead letter id' from public.dead_letters where dlq_id = v_q
    ) m join public.dead_letters d on d.id = m.id
    order by d.created_at desc
    limit v_limit
  ) x;

  return jsonb_build_object('runs', v_runs, 'effects', v_effects, 'messages', v_messages, 'dead_letters', v_dead);
end
$$;

-- What the console's live refresh compares: it changes when a run starts (the newest run) or ends
-- (fewer running). Two index reads: job_runs_running_idx and job_runs_started_idx.
create or replace function public.ops_live()
returns jsonb language sql stable as $$
  select jsonb_build_object(
    'running', (select count(*) from public.job_runs where status = 'running'),
    'latest', (select id from public.job_runs order by started_at desc limit 1)
  )
$$;

revoke execute on function public.ops_search(text, integer) from public;
revoke execute on function public.ops_live() from public;
