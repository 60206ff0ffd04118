-- One-time messages due further out than QStash accepts (QSTASH_MAX_DELAY: 7 days on the free
-- plan) wait here, parked, with everything needed to publish them, and are published once they
-- come within range (lib/qstash/parked.ts, swept by keep-alive and the watchdog).
--
--   parked      not published yet; message_id is ours (parked_<uuid>), what the caller stored
--   publishing  a sweeper took it at publishing_since and is publishing it
--   scheduled   published: published_id is QStash's id (cancel asks QStash with it)
--
-- Cancelling a parked message asks nothing of QStash: it only ever existed here.
--
-- `publishing` is not an effect claim (effects alone hold those, decision 006): what guards a
-- publish is QStash's deduplication id, derived from the row, and the delivered job's own effects.
alter table public.job_messages drop constraint if exists job_messages_status_check;
alter table public.job_messages add constraint job_messages_status_check
  check (status in ('scheduled', 'cancelled', 'delivered', 'parked', 'publishing'));

alter table public.job_messages
  add column if not exists payload jsonb,
  -- {flowControl?, retries?}: the publish options the caller gave, kept for the publish.
  add column if not exists options jsonb,
  -- The caller's deduplication id: the same id parked again within QStash's 10 minutes is the same message.
  add column if not exists dedup_id text,
  add column if not exists published_id text,
  add column if not exists publishing_since timestamptz,
  add column if not exists publish_error text;

create index if not exists job_messages_parked_idx on public.job_messages (not_before) where status in ('parked', 'publishing');
create index if not exists job_messages_dedup_idx on public.job_messages (dedup_id, created_at) where dedup_id is not null;

-- Parks a message. The same deduplication id within 10 minutes answers the row it made (whatever
-- its status, so a caller sees a cancelled one), as QStash answers a duplicate publish; the
-- advisory lock makes two parks of one id at once wait for each other.
create or replace function public.job_messages_park(
  p_owner text, p_job text, p_message_id text, p_payload jsonb, p_options jsonb, p_dedup_id text,
  p_not_before timestamptz, p_now timestamptz
) returns jsonb
language plpgsql as $$
declare
  hit public.job_messages;
begin
  if p_dedup_id is not null then
    perform pg_advisory_xact_lock(hashtext('job_messages_park'), hashtext(p_dedup_id));
    select * into hit from public.job_messages
     where dedup_id = p_dedup_id and created_at > p_now - interval '10 minutes'
     order by created_at desc limit 1;
    if hit.message_id is not null then
      return to_jsonb(hit) || jsonb_build_object('deduplicated', true);
    end if;
  end if;
  insert into public.job_messages (message_id, owner, job, not_before, status, created_at, payload, options, dedup_id)
  values (p_message_id, p_owner, p_job, p_not_before, 'parked', p_now, p_payload, p_options, p_dedup_id)
  returning * into hit;
  return to_jsonb(hit) || jsonb_build_object('deduplicated', false);
end
$$;

-- Claims the parked messages of p_jobs (the jobs the sweeping deployment runs) due by p_horizon,
-- and those whose claim is older than p_stale_before (their sweeper died), soonest first. A row
-- another sweeper holds is skipped, not waited for: two sweeps at once share the rows, each
-- publishes its own.
create or replace function public.job_messages_claim_parked(
  p_jobs text[], p_horizon timestamptz, p_stale_before timestamptz, p_now timestamptz, p_limit integer default 100
) returns jsonb
language sql as $$
  with due as (
    select message_id from public.job_messages
     where job = any (p_jobs)
       and ((status = 'parked' and not_before <= p_horizon)
         or (status = 'publishing' and publishing_since < p_stale_before))
     order by not_before
     limit p_limit
     for update skip locked
  ), claimed as (
    update public.job_messages m set status = 'publishing', publishing_since = p_now
      from due where m.message_id = due.message_id
       -- Checked again on the row as locked: never a row another sweeper has just claimed.
       and (m.status = 'parked' or (m.status = 'publishing' and m.publishing_since < p_stale_before))
    returning m.*
  )
  select coalesce(jsonb_agg(to_jsonb(c) order by c.not_before, c.message_id), '[]'::jsonb) from claimed c
$$;

-- Records a claimed message as published under QStash's id. Answers {status, changed}: changed
-- only for the sweeper that moved it to scheduled; 'cancelled' when it was cancelled meanwhile
-- (the sweeper then cancels the published message at QStash).
create or replace function public.job_messages_published(p_message_id text, p_published_id text, p_now timestamptz)
returns jsonb
language plpgsql as $$
declare
  s text;
begin
  select status into s from public.job_messages where message_id = p_message_id for update;
  if s = 'publishing' then
    update public.job_messages
       set status = 'scheduled', published_id = p_published_id, publishing_since = null, publish_error = null
     where message_id = p_message_id;
    return jsonb_build_object('status', 'scheduled', 'changed', true);
  end if;
  if s = 'cancelled' then
    update public.job_messages set published_id = coalesce(published_id, p_published_id) where message_id = p_message_id;
  end if;
  return jsonb_build_object('status', s, 'changed', false);
end
$$;

-- A claimed message whose publish failed goes back to parked (the next sweep tries again), with why.
create or replace function public.job_messages_release(p_message_id text, p_error text)
returns void
language sql as $$
  update public.job_messages set status = 'parked', publishing_since = null, publish_error = p_error
   where message_id = p_message_id and status = 'publishing'
$$;

-- Cancels the owner's parked messages (and those being published: their sweeper sees the cancel
-- and takes the published message back). Returns how many.
create or replace function public.job_messages_cancel_parked(p_owner text, p_now timestamptz)
returns integer
language sql as $$
  with upd as (
    update public.job_messages set status = 'cancelled', cancelled_at = p_now
     where owner = p_owner and status in ('parked', 'publishing')
    returning 1
  )
  select count(*)::int from upd
$$;

-- Retention (20261130001600_job_messages_prune.sql) without the messages still waiting here: a
-- parked message is never past its retention, however late its sweep (its job may have been
-- removed, so every publish fails: it waits, with publish_error, for someone to look).
create or replace function public.job_messages_prune(p_before timestamptz, p_limit integer default 5000)
returns jsonb
language sql as $$
  with gone as (
    delete from public.job_messages
     where message_id in (select message_id from public.job_messages
                           where coalesce(not_before, created_at) < p_before
                             and status not in ('parked', 'publishing')
                           order by coalesce(not_before, created_at) limit p_limit)
    returning 1
  )
  select jsonb_build_object('deleted', count(*), 'more', count(*) = p_limit) from gone
$$;
