-- cleanup-blocked-dates: a blocked date is the expert's own calendar day, so "past" is decided in
-- the expert's zone with PostgreSQL's time-zone database (DST included), not in UTC.
create or replace function public.blocked_dates_cleanup(p_now timestamptz, p_limit integer default 5000)
returns jsonb
language sql as $$
  with gone as (
    delete from public.expert_blocked_dates b
     where b.id in (
       select b2.id from public.expert_blocked_dates b2 join public.experts e on e.id = b2.expert_id
        where b2.blocked_on < (p_now at time zone e.time_zone)::date
        limit p_limit)
    returning 1
  )
  select jsonb_build_object('deleted', count(*), 'more', count(*) = p_limit) from gone
$$;
