-- Per campaign (all of them, or p_campaign_id): node runs by state, failures by error type with
-- their share of all attempts (executions started), and the median lag between the planned run_at
-- and the actual start of the first attempt. Newest campaigns first.
create or replace function public.campaign_stats(p_campaign_id uuid default null) returns jsonb
language sql stable as $$
  with runs as (
    select r.* from public.campaign_node_runs r where p_campaign_id is null or r.campaign_id = p_campaign_id
  ), events as (
    select r.campaign_id, e.to_state, e.from_state, e.error_type
      from public.campaign_node_events e join runs r on r.id = e.run_id
  ), attempts as (
    select campaign_id, count(*) as n from events where to_state = 'RUNNING' group by campaign_id
  ), failures as (
    select campaign_id, coalesce(error_type, 'Error') as type, count(*) as n
      from events where to_state = 'FAILED' and from_state = 'RUNNING' group by 1, 2
  )
  select coalesce(jsonb_agg(s.stats order by s.created_at desc, s.id), '[]'::jsonb) from (
    select c.id, c.created_at, jsonb_build_object(
      'campaignId', c.id,
      'name', c.name,
      'runs', (select count(*) from runs r where r.campaign_id = c.id),
      'states', (select jsonb_build_object(
                   'PENDING', count(*) filter (where state = 'PENDING'), 'RUNNING', count(*) filter (where state = 'RUNNING'),
                   'COMPLETED', count(*) filter (where state = 'COMPLETED'), 'FAILED', count(*) filter (where state = 'FAILED'),
                   'TIMEOUT', count(*) filter (where state = 'TIMEOUT'), 'CANCELLED', count(*) filter (where state = 'CANCELLED'))
                   from runs r where r.campaign_id = c.id),
      'attempts', coalesce((select a.n from attempts a where a.campaign_id = c.id), 0),
      'failures', coalesce((select jsonb_agg(jsonb_build_object('type', f.type, 'count', f.n,
                                     'rate', round(f.n::numeric / nullif((select a.n from attempts a where a.campaign_id = c.id), 0), 4))
                                     order by f.n desc, f.type)
                              from failures f where f.campaign_id = c.id), '[]'::jsonb),
      'medianLagMs', (select round(percentile_cont(0.5) within group (order by extract(epoch from (r.started_at - r.run_at)) * 1000))::bigint
                        from runs r where r.campaign_id = c.id and r.started_at is not null)
    ) as stats
    from public.campaigns c
    where p_campaign_id is null or c.id = p_campaign_id
  ) s
$$;
