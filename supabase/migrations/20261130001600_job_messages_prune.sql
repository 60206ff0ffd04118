-- Retention for job_messages: a row older than p_before by its due time (or its publish time when
-- it had none) guards nothing any more; QStash has long delivered, dead-lettered or cancelled it.
create index if not exists job_messages_due_idx on public.job_messages ((coalesce(not_before, created_at)));

create or replace function public.job_messages_prune(p_before timestamptz, p_limit integer default 5000)
returns jsonb
language sql as $$
  with gone as (
    delete from public.job_messages
     where message_id in (select message_id from public.job_messages
                           where coalesce(not_before, created_at) < p_before
                           order by coalesce(not_before, created_at) limit p_limit)
    returning 1
  )
  select jsonb_build_object('deleted', count(*), 'more', count(*) = p_limit) from gone
$$;
