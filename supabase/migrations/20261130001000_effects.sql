-- Effects: every side effect a job makes (a transfer, a payout, an email, a token refresh) is one
-- row keyed by what makes it unique (`transfer:<payment>`, `reminder:24h:<appointment>:client`).
-- QStash and Vercel deliver at least once and runs overlap; the row is how a repeat knows the
-- effect was made, is being made (a live lease), or may have been made (`unknown`).
--
--   claimed    a run holds it until lease_until; after that its run is presumed dead
--   succeeded  made; `result` keeps the provider's ids
--   failed     not made; due again at next_attempt_at (exponential backoff with jitter)
--   unknown    may have been made (a timeout, a 5xx, a run that died holding it): the next
--              attempt first asks the provider (reconciles) when the job knows how
--   abandoned  out of attempts, or failed for good: a person decides
create table if not exists public.effects (
  key text primary key,
  job text not null,
  -- What the effect is about (a payment, a payout, an appointment): the job's own id for it.
  subject text,
  status text not null check (status in ('claimed', 'succeeded', 'failed', 'unknown', 'abandoned')),
  run_id uuid,
  lease_until timestamptz,
  attempts integer not null default 0,
  max_attempts integer not null default 8 check (max_attempts >= 1),
  next_attempt_at timestamptz,
  -- Set when a claim takes over an unknown outcome: this attempt must reconcile before acting.
  reconcile boolean not null default false,
  result jsonb,
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  finished_at timestamptz
);
-- effects_finish and effects_release find a run's claims.
create index if not exists effects_run_idx on public.effects (run_id) where status = 'claimed';
-- Counts by status per job (pnpm job:run, diagnostics) and the effects of a subject (payment reminder n).
create index if not exists effects_job_status_idx on public.effects (job, status);
-- A job's next retry (effects_next_attempt).
create index if not exists effects_retry_idx on public.effects (job, next_attempt_at) where status in ('failed', 'unknown');
create index if not exists effects_subject_idx on public.effects (subject, job) where subject is not null;
-- The retention sweep.
create index if not exists effects_finished_idx on public.effects (finished_at) where status = 'succeeded';
alter table public.effects enable row level security;

-- Claims the keys of one page for a run: new keys, failed or unknown ones that are due, and claims
-- whose run died (lease passed). Skipped: succeeded, abandoned, leased, not yet due, other jobs'.
-- p_items: [{key, subject?, max_attempts?}] (p_max_attempts when absent; a changed limit applies
-- from the next claim). Returns [{key, attempt, reconcile}] in the order given.
create or replace function public.effects_claim(
  p_job text, p_run_id uuid, p_now timestamptz, p_lease_ms integer, p_items jsonb, p_max_attempts integer default 8
) returns jsonb
language sql as $$
  with want as (
    select distinct on (x->>'key') x->>'key' as key, x->>'subject' as subject,
           coalesce((x->>'max_attempts')::integer, p_max_attempts) as max_attempts, ord
      from jsonb_array_elements(p_items) with ordinality as t (x, ord)
     order by x->>'key', ord
  ), claimed as (
    insert into public.effects as e (key, job, subject, status, run_id, lease_until, attempts, max_attempts, created_at, updated_at)
    select w.key, p_job, w.subject, 'claimed', p_run_id, p_now + make_interval(secs => p_lease_ms / 1000.0), 1, w.max_attempts, p_now, p_now
      from want w
     order by w.key -- one lock order for every run: concurrent pages cannot deadlock
    on conflict (key) do update
       set status = 'claimed', run_id = excluded.run_id, lease_until = excluded.lease_until, attempts = e.attempts + 1,
           max_attempts = excluded.max_attempts,
           -- A dead run's claim is as uncertain as a timeout: it may have acted before it died.
           reconcile = e.status in ('unknown', 'claimed'), updated_at = excluded.updated_at
     where e.job = excluded.job
       and ((e.status in ('failed', 'unknown') and e.next_attempt_at <= p_now and e.attempts < excluded.max_attempts)
         or (e.status = 'claimed' and e.lease_until <= p_now)
         -- A run that closed (or was found dead by the ledger) without settling holds nothing.
         or (e.status = 'claimed' and exists (select 1 from public.job_runs r where r.id = e.run_id and r.status <> 'running')))
    returning e.key, e.attempts, e.reconcile
  )
  select coalesce(jsonb_agg(jsonb_build_object('key', c.key, 'attempt', c.attempts, 'reconcile', c.reconcile) order by w.ord), '[]'::jsonb)
    from claimed c join want w on w.key = c.key
$$;

-- Records a page's outcomes for the claims this run still holds, and returns the rows it changed
-- (status: the effect's new status, or 'released'), so a job's own finish function can apply them
-- to its tables in the same transaction and count them with effects_counts.
-- p_results: [{key, outcome: succeeded|failed|unknown|abandoned|released, result?, error?}]
create or replace function public.effects_settle(p_run_id uuid, p_now timestamptz, p_results jsonb, p_backoff_ms bigint default 60000)
returns table (key text, subject text, status text, result jsonb)
language sql as $$
  with r as (
    select x->>'key' as key, x->>'outcome' as outcome, x->'result' as result, left(x->>'error', 1000) as error
      from jsonb_array_elements(p_results) x
  ), gone as (
    -- A first attempt that never started leaves no trace.
    delete from public.effects e using r
     where e.key = r.key and r.outcome = 'released' and e.run_id = p_run_id and e.status = 'claimed'
       and e.attempts = 1 and not e.reconcile
    returning e.key
  ), upd as (
    update public.effects e
       set status = case
             when r.outcome = 'released' then case when e.reconcile then 'unknown' else 'failed' end
             when r.outcome in ('failed', 'unknown') and e.attempts >= e.max_attempts then 'abandoned'
             else r.outcome end,
           attempts = case when r.outcome = 'released' then e.attempts - 1 else e.attempts end,
           next_attempt_at = case
             when r.outcome = 'released' then p_now
             -- Exponential backoff (1, 2, 4 ... times p_backoff_ms, at most 6 hours) with full-range jitter
             -- in its upper half, so runs that failed together do not retry together.
             when r.outcome in ('failed', 'unknown') then p_now + make_interval(secs =>
               least(p_backoff_ms / 1000.0 * power(2, least(e.attempts - 1, 20)), 21600) * (0.5 + random() / 2))
           end,
           result = coalesce(r.result, e.result),
           last_error = case when r.outcome = 'succeeded' then null when r.outcome = 'released' then e.last_error else coalesce(r.error, e.last_error) end,
           finished_at = case when r.outcome in ('succeeded', 'abandoned')
                                or (r.outcome in ('failed', 'unknown') and e.attempts >= e.max_attempts) then p_now end,
           lease_until = null, updated_at = p_now
      from r
     where e.key = r.key and e.run_id = p_run_id and e.status = 'claimed' and r.outcome in ('succeeded', 'failed', 'unknown', 'abandoned', 'released')
       and not exists (select 1 from gone g where g.key = e.key)
    returning e.key, e.subject, case when r.outcome = 'released' then 'released' else e.status end as status, e.result
  )
  select key, subject, status, result from upd
  union all
  select key, null, 'released', null from gone
$$;

-- {succeeded: n, failed: n, ...}: what every finish function returns.
create or replace function public.effects_counts(p_statuses text[])
returns jsonb
language sql immutable as $$
  select coalesce(jsonb_object_agg(s, n), '{}'::jsonb) from (select s, count(*) as n from unnest(p_statuses) s group by s) c
$$;

-- effects_settle for jobs with nothing of their own to record.
create or replace function public.effects_finish(p_run_id uuid, p_now timestamptz, p_results jsonb, p_backoff_ms bigint default 60000)
returns jsonb
language sql as $$
  select public.effects_counts(array(select status from public.effects_settle(p_run_id, p_now, p_results, p_backoff_ms)))
$$;

-- Hands back every claim a run still holds, as if its items had never started (a run that stops
-- early releases what it did not reach; the page's finish releases the rest).
create or replace function public.effects_release(p_run_id uuid, p_now timestamptz)
returns jsonb
language sql as $$
  select public.effects_finish(p_run_id, p_now,
           coalesce((select jsonb_agg(jsonb_build_object('key', e.key, 'outcome', 'released'))
                       from public.effects e where e.run_id = p_run_id and e.status = 'claimed'), '[]'::jsonb))
$$;

-- Effects of one job by status, with the ones that need a person (unknown, abandoned) listed.
create or replace function public.effects_summary(p_job text, p_limit integer default 10)
returns jsonb
language sql stable as $$
  select jsonb_build_object(
    'counts', coalesce((select jsonb_object_agg(status, n) from (select status, count(*) as n from public.effects where job = p_job group by status) s), '{}'::jsonb),
    'attention', coalesce((select jsonb_agg(jsonb_build_object('key', key, 'status', status, 'attempts', attempts, 'last_error', last_error, 'updated_at', updated_at) order by updated_at desc)
                             from (select * from public.effects where job = p_job and status in ('unknown', 'abandoned') order by updated_at desc limit p_limit) a), '[]'::jsonb),
    'next_attempt_at', (select min(next_attempt_at) from public.effects where job = p_job and status in ('failed', 'unknown')))
$$;

-- When this job's next failed or unknown effect is due again, after p_now: the time a retry run
-- is wanted. Effects already due but no longer offered by the job's due query are left out, so
-- they never ask for a run again and again.
create or replace function public.effects_next_attempt(p_job text, p_now timestamptz)
returns jsonb
language sql stable as $$
  select to_jsonb(min(next_attempt_at)) from public.effects
   where job = p_job and status in ('failed', 'unknown') and next_attempt_at > p_now and attempts < max_attempts
$$;

-- Retention: succeeded effects older than p_before go, in batches. Abandoned and unknown ones stay
-- until a person deals with them; failed ones are still being retried.
create or replace function public.effects_prune(p_before timestamptz, p_limit integer default 5000)
returns jsonb
language sql as $$
  with gone as (
    delete from public.effects
     where key in (select key from public.effects where status = 'succeeded' and finished_at < p_before order by finished_at limit p_limit)
    returning 1
  )
  select jsonb_build_object('deleted', count(*), 'more', count(*) = p_limit) from gone
$$;
