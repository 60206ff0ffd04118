-- Retention of the layer's own tables, one bounded batch per call (the `retention` system job calls
-- them until nothing is left): each batch is a short transaction that deletes finished rows only,
-- so it never waits for, or holds up, a delivery opening or closing a run. Counters and rollups
-- were kept as the rows were written (20261207003000_ledger_rollups.sql): deleting takes nothing
-- from /api/metrics or the console's windows.
--
-- effects_prune and job_messages_prune (earlier migrations) already work this way.

-- Dead letters and recovered incidents by age.
create index if not exists dead_letters_created_idx on public.dead_letters (created_at);
create index if not exists alert_incidents_recovered_idx on public.alert_incidents (recovered_at) where recovered_at is not null;

-- Finished runs that started before p_before (a run still running is never taken: its lease and
-- its effects' claims still point at it). Found through job_runs_started_idx and deleted by their
-- row address (ctid), not looked up again by primary key: on 10 million runs the primary key's
-- random uuids cost a page read each (0.8 s a batch of 5,000, against 0.1 s). A row moved since
-- the search (an update) is skipped by the delete, and taken by a later batch.
create or replace function public.job_runs_prune(p_before timestamptz, p_limit integer default 5000)
returns jsonb
language sql as $$
  with gone as (
    delete from public.job_runs
     where ctid = any (array(select ctid from public.job_runs
                              where started_at < p_before and status <> 'running'
                              order by started_at limit p_limit))
    returning 1
  )
  select jsonb_build_object('deleted', count(*), 'more', count(*) = p_limit) from gone
$$;

-- The same for succeeded effects (20261130001000_effects.sql looked each one up again by key).
create or replace function public.effects_prune(p_before timestamptz, p_limit integer default 5000)
returns jsonb
language sql as $$
  with gone as (
    delete from public.effects
     where ctid = any (array(select ctid from public.effects
                              where status = 'succeeded' and finished_at < p_before
                              order by finished_at limit p_limit))
    returning 1
  )
  select jsonb_build_object('deleted', count(*), 'more', count(*) = p_limit) from gone
$$;

create or replace function public.dead_letters_prune(p_before timestamptz, p_limit integer default 5000)
returns jsonb
language sql as $$
  with gone as (
    delete from public.dead_letters
     where id in (select id from public.dead_letters where created_at < p_before order by created_at limit p_limit)
    returning 1
  )
  select jsonb_build_object('deleted', count(*), 'more', count(*) = p_limit) from gone
$$;

-- Recovered incidents (their alert_events go with them, on delete cascade); an open one stays.
create or replace function public.alert_incidents_prune(p_before timestamptz, p_limit integer default 5000)
returns jsonb
language sql as $$
  with gone as (
    delete from public.alert_incidents
     where id in (select id from public.alert_incidents
                   where recovered_at is not null and recovered_at < p_before
                   order by recovered_at limit p_limit)
    returning 1
  )
  select jsonb_build_object('deleted', count(*), 'more', count(*) = p_limit) from gone
$$;

-- Signatures past their exp can never be replayed (used_signatures_prune, keep-alive's, takes all
-- at once; this one a batch at a time).
create or replace function public.used_signatures_prune_batch(p_now timestamptz, p_limit integer default 5000)
returns jsonb
language sql as $$
  with gone as (
    delete from public.used_signatures
     where jti in (select jti from public.used_signatures where expires_at < p_now order by expires_at limit p_limit)
    returning 1
  )
  select jsonb_build_object('deleted', count(*), 'more', count(*) = p_limit) from gone
$$;

-- Hourly rollups older than the console shows or anyone asked to keep.
create or replace function public.job_run_hours_prune(p_before timestamptz, p_limit integer default 5000)
returns jsonb
language sql as $$
  with gone as (
    delete from public.job_run_hours h
     using (select job, hour, bucket from public.job_run_hours where hour < p_before order by hour limit p_limit) old
     where h.job = old.job and h.hour = old.hour and h.bucket = old.bucket
    returning 1
  )
  select jsonb_build_object('deleted', count(*), 'more', count(*) = p_limit) from gone
$$;

revoke execute on function public.job_runs_prune(timestamptz, integer) from public;
revoke execute on function public.dead_letters_prune(timestamptz, integer) from public;
revoke execute on function public.alert_incidents_prune(timestamptz, integer) from public;
revoke execute on function public.used_signatures_prune_batch(timestamptz, integer) from public;
revoke execute on function public.job_run_hours_prune(timestamptz, integer) from public;
