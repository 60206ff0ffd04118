-- The console's overview (/ops): what needs a person, in one call, and the dead-letter count of its
-- navigation. Every part is bounded by an index, never by the size of the ledger:
--   failing      per job, its last finished run (job_runs_job_started_idx) and, when that failed,
--                the failures since its last success (job_runs_job_status_started_idx, capped at 100)
--   incidents    alert_incidents_open_idx (open incidents only)
--   dead letters dead_letters_created_idx over 7 days, each probed for a later success of its job
--   effects      effect_counts (a few rows per job)
--   missed       the watchdog's 'missed' decisions over 7 days (schedule_slots_decided_idx)

-- A dead letter still needs a person when its job has not succeeded since it was recorded: a replay
-- that worked, or a fix, leaves a success behind it. Older than 7 days it is the DLQ page's business.
create or replace function public.ops_dead_letters_open(p_now timestamptz)
returns jsonb language sql stable as $$
  select coalesce(jsonb_agg(jsonb_build_object('job', job, 'n', n, 'last_at', last_at) order by last_at desc), '[]'::jsonb)
    from (
      select coalesce(d.job, '(unknown)') job, count(*) n, max(d.created_at) last_at
        from public.dead_letters d
       where d.created_at > p_now - interval '7 days'
         and not exists (select 1 from public.job_runs r
                          where r.job = d.job and r.status = 'succeeded' and r.started_at > d.created_at)
       group by 1
    ) t
$$;

create or replace function public.ops_attention(p_now timestamptz, p_jobs text[])
returns jsonb language sql stable as $$
  with jobs as (select distinct unnest(p_jobs) job),
  last_finished as (
    select j.job, l.id, l.status, l.started_at, l.attempt, l.error
      from jobs j
      cross join lateral (select r.id, r.status, r.started_at, r.attempt, r.error from public.job_runs r
                           where r.job = j.job and r.status in ('succeeded', 'failed')
                           order by r.started_at desc limit 1) l
  ),
  failing as (
    select f.*, s.since, (select count(*) from (select 1 from public.job_runs r
                                                 where r.job = f.job and r.status = 'failed'
                                                   and r.started_at > coalesce(s.since, '-infinity') limit 100) x) streak
      from last_finished f
      cross join lateral (select max(r.started_at) since from public.job_runs r where r.job = f.job and r.status = 'succeeded') s
     where f.status = 'failed'
  )
  select jsonb_build_object(
    'failing', (select coalesce(jsonb_agg(jsonb_build_object('job', job, 'run_id', id, 'started_at', started_at, 'attempt', attempt,
                                                             'error', error, 'streak', streak, 'last_success_at', since) order by started_at desc), '[]'::jsonb)
                  from failing),
    'incidents', (select coalesce(jsonb_agg(jsonb_build_object('id', id, 'job', job, 'opened_at', opened_at, 'alerts', alerts, 'quiet', quiet) order by opened_at desc), '[]'::jsonb)
                    from public.alert_incidents where recovered_at is null),
    'dead_letters', public.ops_dead_letters_open(p_now),
    'effects', (select coalesce(jsonb_agg(jsonb_build_object('job', job, 'status', status, 'n', n) order by job, status), '[]'::jsonb)
                  from public.effect_counts where status in ('unknown', 'abandoned') and n > 0),
    'missed', (select coalesce(jsonb_agg(jsonb_build_object('job', job, 'n', n, 'last_slot_at', last_slot) order by last_slot desc), '[]'::jsonb)
                 from (select job, count(*) n, max(slot_at) last_slot from public.schedule_slots
                        where decision = 'missed' and decided_at > p_now - interval '7 days' group by job) m)
  )
$$;

-- Effects that need a person (unknown: the provider's answer was lost; abandoned: out of attempts),
-- newest first, with the run that last held each.
create index if not exists effects_attention_idx on public.effects (status, updated_at desc) where status in ('unknown', 'abandoned');

create or replace function public.ops_effects_attention(p_status text, p_job text, p_limit integer)
returns jsonb language sql stable as $$
  select coalesce(jsonb_agg(jsonb_build_object('key', key, 'job', job, 'subject', subject, 'status', status, 'attempts', attempts,
                                               'max_attempts', max_attempts, 'last_error', last_error, 'run_id', run_id,
                                               'updated_at', updated_at) order by updated_at desc), '[]'::jsonb)
    from (select * from public.effects
           where status in ('unknown', 'abandoned') and (p_status is null or status = p_status) and (p_job is null or job = p_job)
           order by updated_at desc limit least(greatest(p_limit, 1), 500)) e
$$;

revoke execute on function public.ops_dead_letters_open(timestamptz) from public;
revoke execute on function public.ops_attention(timestamptz, text[]) from public;
revoke execute on function public.ops_effects_attention(text, text, integer) from public;
