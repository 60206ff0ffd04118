-- effects_summary reads a job's counts from effect_counts (kept by the effects_count triggers in
-- the transaction that changes an effect, so exact) instead of counting every effect the job ever
-- made: its cost no longer grows with the job's history (the marketplace's transfer job reads it
-- on every run; 300,000 effects of one job: 21 ms, now 0.5 ms). With that, nothing reads effects
-- by (job, status), and effects_job_status_idx goes: one index entry fewer on every claim and
-- every settle (on 100,000 reminders, 3% less of PostgreSQL's CPU, within the noise of the job's
-- time: bench/README.md).
create or replace function public.effects_summary(p_job text, p_limit integer default 10)
returns jsonb language sql stable as $$
  select jsonb_build_object(
    'counts', coalesce((select jsonb_object_agg(status, n) from public.effect_counts where job = p_job and n > 0), '{}'::jsonb),
    'attention', coalesce((select jsonb_agg(jsonb_build_object('key', key, 'status', status, 'attempts', attempts, 'last_error', last_error, 'updated_at', updated_at) order by updated_at desc)
                             from (select * from public.effects where job = p_job and status in ('unknown', 'abandoned') order by updated_at desc limit p_limit) a), '[]'::jsonb),
    'next_attempt_at', (select min(next_attempt_at) from public.effects where job = p_job and status in ('failed', 'unknown')))
$$;

drop index if exists public.effects_job_status_idx;
