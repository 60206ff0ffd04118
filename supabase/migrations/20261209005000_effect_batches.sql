-- Effects sent in batches (Resend's POST /emails/batch: up to 100 emails, one idempotency key per
-- request). A batch's answer can be lost (a timeout, a reset connection, a run killed while it
-- waits), and then every email in it may or may not have gone out. Resend answers a repeat of the
-- same request under the same key with its first answer, without sending again, for 24 hours; it
-- has no lookup by our key (GET /emails/{id} needs the id the lost answer carried). So the way to
-- learn what a lost batch did is to send that very batch again, the same emails in the same order
-- under the same key, and read the ids. This table keeps which effects went into which batch,
-- written before the request leaves, so a retry (or the run that takes over a dead one) knows it.
create table if not exists public.effect_batches (
  -- The idempotency key the request was sent with.
  key text primary key,
  job text not null,
  -- The effects' keys, in the order of the request's emails, and the attempt of each that it was
  -- (not named attempts: claim state lives only in effects, tests/integration/migrate.test.ts).
  keys text[] not null,
  attempt_numbers integer[] not null,
  -- One email sent alone under its effect's key (POST /emails), as jobs did before batches.
  single boolean not null default false,
  created_at timestamptz not null
);
-- Which batch an effect whose outcome is unknown went out in.
create index if not exists effect_batches_keys_idx on public.effect_batches using gin (keys);
create index if not exists effect_batches_created_idx on public.effect_batches (created_at);
alter table public.effect_batches enable row level security;

-- Records a page's batches (p_batches: [{key, keys: [...], attempts: [...]}]) before any of them
-- is sent. Batches past the provider's replay window (48 h, twice Resend's 24 h)
-- are of no more use: a few are removed with each call, so the table stays small without a job.
create or replace function public.effect_batches_record(p_job text, p_run_id uuid, p_now timestamptz, p_batches jsonb)
returns jsonb
language sql as $$
  with old as (
    delete from public.effect_batches
     where key in (select key from public.effect_batches where created_at < p_now - interval '48 hours' order by created_at limit 200)
    returning 1
  ), ins as (
    insert into public.effect_batches (key, job, keys, attempt_numbers, created_at)
    select b->>'key', p_job, array(select jsonb_array_elements_text(b->'keys')),
           array(select x::integer from jsonb_array_elements_text(b->'attempts') x), p_now
      from jsonb_array_elements(p_batches) b
    on conflict (key) do nothing
    returning 1
  )
  select jsonb_build_object('recorded', (select count(*) from ins), 'pruned', (select count(*) from old))
$$;

-- For each claim taken over with its outcome in question (p_claims: [{key, attempt}]), the batch
-- its previous attempt went out in, if that attempt recorded one: [{effect, key, keys, single,
-- created_at}]. None means that attempt never sent anything (the record precedes the request).
-- Should a released batch share the attempt, the newest record is the one that was sent.
create or replace function public.effect_batches_of(p_job text, p_claims jsonb)
returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(jsonb_build_object('effect', c.effect, 'key', b.key, 'keys', to_jsonb(b.keys), 'single', b.single, 'created_at', b.created_at)), '[]'::jsonb)
    from (select x->>'key' as effect, (x->>'attempt')::integer as attempt from jsonb_array_elements(p_claims) x) c
    cross join lateral (
      select * from public.effect_batches b
       where b.keys @> array[c.effect] and b.job = p_job
         and b.attempt_numbers[array_position(b.keys, c.effect)] = c.attempt - 1
       order by b.created_at desc, b.key
       limit 1
    ) b
$$;

-- A page's effects that are to be tried again wait for the latest of their backoffs (each has its
-- own jitter), so one retry run finds them all due: a lost batch is sent again, as it was, once for
-- all of its effects, and none of them waits for a run nobody asks for (a run asks for a retry at
-- its earliest effect's time). Returns that time.
create or replace function public.effect_batches_retry_together(p_run_id uuid, p_keys text[])
returns jsonb
language sql as $$
  with due as (
    select max(next_attempt_at) as at from public.effects
     where key = any(p_keys) and run_id = p_run_id and status in ('failed', 'unknown') and attempts < max_attempts
  ), upd as (
    update public.effects e set next_attempt_at = due.at
      from due
     where e.key = any(p_keys) and e.run_id = p_run_id and e.status in ('failed', 'unknown') and e.attempts < e.max_attempts
       and due.at is not null
    returning 1
  )
  select to_jsonb((select at from due)) from (select count(*) from upd) u
$$;
