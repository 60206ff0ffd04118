-- Deliveries QStash gave up on (retries exhausted, or a 489), as its failure callback reports them.
create table if not exists public.dead_letters (
  id uuid primary key default gen_random_uuid(),
  dlq_id text,
  job text,
  source_message_id text not null,
  url text not null,
  response_status integer,
  response_body text,
  retried integer,
  max_retries integer,
  schedule_id text,
  source_body text,
  callback jsonb not null,
  created_at timestamptz not null default now(),
  alerted_at timestamptz
);
-- One row per message QStash dead-lettered, however often the callback itself is redelivered.
create unique index if not exists dead_letters_message_idx on public.dead_letters (source_message_id);
create index if not exists dead_letters_job_created_idx on public.dead_letters (job, created_at desc);
alter table public.dead_letters enable row level security;

create or replace function public.dead_letter_record(
  p_callback jsonb,
  p_job text default null,
  p_response_body text default null,
  p_source_body text default null,
  p_jti text default null,
  p_jti_expires_at timestamptz default null
) returns jsonb
language plpgsql as $$
declare
  v_id uuid;
begin
  if p_jti is not null then
    insert into public.used_signatures (jti, expires_at)
    values (p_jti, coalesce(p_jti_expires_at, now() + interval '5 minutes'))
    on conflict (jti) do nothing;
    if not found then
      return jsonb_build_object('decision', 'replay');
    end if;
  end if;
  insert into public.dead_letters (dlq_id, job, source_message_id, url, response_status, response_body, retried, max_retries, schedule_id, source_body, callback)
  values (
    p_callback->>'dlqId', p_job, p_callback->>'sourceMessageId', p_callback->>'url',
    (p_callback->>'status')::integer,
    p_response_body,
    (p_callback->>'retried')::integer, (p_callback->>'maxRetries')::integer, p_callback->>'scheduleId',
    p_source_body,
    p_callback
  )
  on conflict (source_message_id) do nothing
  returning id into v_id;
  if v_id is null then
    select id into v_id from public.dead_letters where source_message_id = p_callback->>'sourceMessageId';
    return jsonb_build_object('decision', 'recorded', 'dead_letter_id', v_id, 'new', false);
  end if;
  return jsonb_build_object('decision', 'recorded', 'dead_letter_id', v_id, 'new', true);
end $$;
