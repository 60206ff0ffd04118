-- In local mode without vendor keys, every provider records what it would have sent here instead
-- (`pnpm dev` works without accounts; `pnpm job:run` and diagnostics show the rows). Keyed by the
-- same idempotency key the vendor would get, so a repeat records nothing new.
create table if not exists public.provider_outbox (
  id bigint generated always as identity primary key,
  provider text not null,
  idempotency_key text not null,
  payload jsonb not null,
  created_at timestamptz not null default now(),
  unique (provider, idempotency_key)
);
create index if not exists provider_outbox_created_idx on public.provider_outbox (created_at desc);
alter table public.provider_outbox enable row level security;

create or replace function public.provider_outbox_record(p_provider text, p_key text, p_payload jsonb)
returns jsonb
language sql as $$
  with ins as (
    insert into public.provider_outbox (provider, idempotency_key, payload)
    values (p_provider, p_key, p_payload)
    on conflict (provider, idempotency_key) do nothing
    returning id
  )
  select jsonb_build_object('recorded', exists (select 1 from ins), 'id', (select id from ins))
$$;

-- The newest rows first, optionally since a time (a run's start) and for one provider.
create or replace function public.provider_outbox_recent(p_limit integer default 50, p_since timestamptz default null, p_provider text default null)
returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(jsonb_build_object('id', id, 'provider', provider, 'key', idempotency_key, 'payload', payload, 'created_at', created_at) order by id desc), '[]'::jsonb)
    from (
      select * from public.provider_outbox
       where (p_since is null or created_at >= p_since) and (p_provider is null or provider = p_provider)
       order by id desc
       limit greatest(1, least(p_limit, 1000))
    ) o
$$;
