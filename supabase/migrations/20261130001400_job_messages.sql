-- One-time messages the app may have to take back: a form's deadline call once the form is
-- submitted, a campaign node's timeout once the node completes. QStash cancels by message id
-- only, so each id is kept with its owner, what the message is for (`form:<id>:deadline`).
--
--   scheduled  published, not known to have left QStash
--   cancelled  QStash cancelled it: it will never be delivered
--   delivered  QStash no longer held it when it was cancelled: delivered (or dead-lettered
--              after its last retry), so the job must still check at delivery whether its work
--              is wanted
create table if not exists public.job_messages (
  message_id text primary key,
  owner text not null,
  job text not null,
  not_before timestamptz,
  status text not null default 'scheduled' check (status in ('scheduled', 'cancelled', 'delivered')),
  created_at timestamptz not null default now(),
  cancelled_at timestamptz
);
create index if not exists job_messages_owner_idx on public.job_messages (owner, created_at);
alter table public.job_messages enable row level security;

-- Records a published message. The same id again (QStash deduplicated a publish into it) changes
-- nothing and answers the row as it is, so the caller can see that it was cancelled.
create or replace function public.job_messages_record(
  p_owner text, p_job text, p_message_id text, p_not_before timestamptz, p_now timestamptz
) returns jsonb
language sql as $$
  with ins as (
    insert into public.job_messages (message_id, owner, job, not_before, created_at)
    values (p_message_id, p_owner, p_job, p_not_before, p_now)
    on conflict (message_id) do nothing
    returning *
  )
  select to_jsonb(m) from (
    select * from ins
    union all
    select * from public.job_messages where message_id = p_message_id and not exists (select 1 from ins)
  ) m
$$;

-- The owner's messages, oldest first; only those with p_status when it is given.
create or replace function public.job_messages_find(p_owner text, p_status text default null) returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(to_jsonb(m) order by m.created_at, m.message_id), '[]'::jsonb)
    from public.job_messages m
   where m.owner = p_owner and (p_status is null or m.status = p_status)
$$;

-- Records the answers of a cancel: p_cancelled were cancelled by QStash, p_gone had already left
-- it. Only the owner's scheduled rows change. Returns {cancelled, delivered}.
create or replace function public.job_messages_cancel(
  p_owner text, p_cancelled text[], p_gone text[], p_now timestamptz
) returns jsonb
language sql as $$
  with upd as (
    update public.job_messages m
       set status = case when m.message_id = any (p_cancelled) then 'cancelled' else 'delivered' end,
           cancelled_at = case when m.message_id = any (p_cancelled) then p_now end
     where m.owner = p_owner and m.status = 'scheduled'
       and (m.message_id = any (p_cancelled) or m.message_id = any (p_gone))
    returning m.status
  )
  select jsonb_build_object(
    'cancelled', count(*) filter (where status = 'cancelled'),
    'delivered', count(*) filter (where status = 'delivered'))
    from upd
$$;
