-- Backfill: runs for explicit past slots (pnpm job:backfill, the console's Backfill action).
--
-- 1. job_runs.trigger also takes 'catch-up' and 'backfill': a QStash delivery for a slot it names
--    (/api/jobs/<job>?slot=...&trigger=...), recorded with that slot as its slot_at.
-- 2. job_slots_done: which of a job's slots already have a succeeded run, so a backfill plan shows
--    them as done and publishes only the rest (repeating a backfill publishes nothing).

alter table public.job_runs drop constraint if exists job_runs_trigger_check;
alter table public.job_runs add constraint job_runs_trigger_check
  check (trigger in ('qstash', 'vercel', 'manual', 'cli', 'catch-up', 'backfill'));

-- Epoch milliseconds, not timestamps: jsonb would carry the session's time zone in the text.
-- Reads job_runs_job_slot_idx (job, slot_at): one probe per slot.
create or replace function public.job_slots_done(p_job text, p_slots timestamptz[])
returns jsonb language sql stable as $$
  select coalesce(jsonb_agg(distinct (extract(epoch from slot_at) * 1000)::bigint), '[]'::jsonb)
    from public.job_runs
   where job = p_job and slot_at = any(p_slots) and status = 'succeeded'
$$;
