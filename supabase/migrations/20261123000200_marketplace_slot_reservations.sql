-- Marketplace slot holds: a client holds an expert's slot while paying; unpaid holds expire.
create table if not exists public.slot_reservations (
  id uuid primary key default gen_random_uuid(),
  expert_id uuid not null,
  client_id uuid not null,
  slot_start timestamptz not null,
  slot_end timestamptz not null,
  status text not null default 'held' check (status in ('held', 'paid', 'released')),
  expires_at timestamptz not null,
  released_at timestamptz,
  created_at timestamptz not null default now()
);
create index if not exists slot_reservations_held_expiry_idx on public.slot_reservations (expires_at) where status = 'held';
alter table public.slot_reservations enable row level security;

-- Releases unpaid holds past expiry. Set-based and safe to run twice or concurrently: a released
-- row no longer matches, and SKIP LOCKED lets two runs split the work instead of waiting.
create or replace function public.release_expired_reservations(p_now timestamptz default now(), p_limit integer default 5000)
returns jsonb
language sql as $$
  with expired as (
    select id from public.slot_reservations
     where status = 'held' and expires_at <= p_now
     order by expires_at
     limit p_limit
       for update skip locked
  ), released as (
    update public.slot_reservations r
       set status = 'released', released_at = p_now
      from expired
     where r.id = expired.id
    returning r.id
  )
  select jsonb_build_object('released', count(*), 'more', count(*) = p_limit) from released
$$;
