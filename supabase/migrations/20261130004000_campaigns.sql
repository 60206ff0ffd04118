-- Messaging campaigns: a campaign is a graph of nodes; each node runs for each user at a chosen
-- instant or at the next business-hours instant in the user's zone, as a one-time QStash message
-- (campaign-node-execute), with a second message (campaign-node-timeout) that gives it up.
-- The state of every node run lives here, so nothing is lost when the app restarts.
--
--   PENDING    planned: its execution message is scheduled for run_at
--   RUNNING    a delivery is running it (a retry after a crash takes it over)
--   COMPLETED  done; its successors are planned
--   FAILED     its last attempt failed; QStash retries the delivery (FAILED -> RUNNING)
--   TIMEOUT    timeout_at came first (did_timeout); its execution message is cancelled
--   CANCELLED  taken back through the API before it ran
create table if not exists public.campaigns (
  id uuid primary key default gen_random_uuid(),
  name text not null check (length(name) between 1 and 200),
  -- The zone of users who have none of their own.
  zone text not null default 'UTC',
  hours jsonb not null default '{"start": "09:00", "end": "17:00", "days": [1, 2, 3, 4, 5]}',
  created_at timestamptz not null default now()
);
alter table public.campaigns enable row level security;

create table if not exists public.campaign_nodes (
  campaign_id uuid not null references public.campaigns (id) on delete cascade,
  id text not null check (id ~ '^[A-Za-z0-9_]{1,64}$'),
  type text not null check (type in ('email', 'notification', 'wait', 'branch')),
  -- email {subject, text}, notification {workflowId}, wait {seconds}, branch {attribute, equals, then, else}
  config jsonb not null default '{}',
  -- Where a non-branch node goes next (a branch names both ways in its config).
  next_node_id text,
  -- When a node runs once its predecessor is done: at the next business-hours instant, or at once.
  timing text not null default 'business_hours' check (timing in ('business_hours', 'immediate')),
  -- The node is given up this long after its planned run_at.
  timeout_seconds integer check (timeout_seconds > 0),
  primary key (campaign_id, id)
);
alter table public.campaign_nodes enable row level security;

-- Who a campaign reaches: the product's user id, where to write, the zone, what branches test.
create table if not exists public.campaign_users (
  product_user_id text primary key check (product_user_id ~ '^[A-Za-z0-9_.@+-]{1,128}$'),
  user_id text not null,
  email text,
  name text,
  zone text,
  attributes jsonb not null default '{}',
  updated_at timestamptz not null default now()
);
alter table public.campaign_users enable row level security;

create table if not exists public.campaign_node_runs (
  id uuid primary key default gen_random_uuid(),
  campaign_id uuid not null,
  node_id text not null,
  user_id text not null,
  product_user_id text not null,
  state text not null default 'PENDING' check (state in ('PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'TIMEOUT', 'CANCELLED')),
  run_at timestamptz not null,
  timeout_at timestamptz,
  -- Deliveries that started it.
  attempt_count integer not null default 0,
  did_timeout boolean not null default false,
  started_at timestamptz,
  completed_at timestamptz,
  error_message text,
  error_type text,
  -- What the node did: the provider's id, the branch taken, the node planned next.
  result jsonb,
  execute_message_id text,
  timeout_message_id text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- One run per node and user, for ever: a second plan of it finds this one.
  unique (campaign_id, node_id, product_user_id),
  foreign key (campaign_id, node_id) references public.campaign_nodes (campaign_id, id) on delete cascade
);
create index if not exists campaign_node_runs_state_idx on public.campaign_node_runs (campaign_id, state);
alter table public.campaign_node_runs enable row level security;

-- Every transition (and every delivery that changed nothing), in order.
create table if not exists public.campaign_node_events (
  id bigint generated always as identity primary key,
  run_id uuid not null references public.campaign_node_runs (id) on delete cascade,
  from_state text,
  to_state text not null,
  at timestamptz not null,
  -- The delivery's Upstash-Retried.
  attempt integer,
  message_id text,
  error_type text,
  error text,
  -- Set when nothing changed: why.
  note text
);
create index if not exists campaign_node_events_run_idx on public.campaign_node_events (run_id, id);
alter table public.campaign_node_events enable row level security;

create or replace function public.campaign_json(c public.campaigns) returns jsonb
language sql stable as $$
  select jsonb_build_object('id', c.id, 'name', c.name, 'zone', c.zone, 'hours', c.hours, 'createdAt', c.created_at,
    'nodes', coalesce((select jsonb_agg(jsonb_build_object('id', n.id, 'type', n.type, 'config', n.config, 'next', n.next_node_id,
                                                           'timing', n.timing, 'timeoutSeconds', n.timeout_seconds) order by n.id)
                         from public.campaign_nodes n where n.campaign_id = c.id), '[]'::jsonb))
$$;

-- A campaign and its nodes, checked by the API before: p_nodes [{id, type, config, next, timing, timeoutSeconds}].
create or replace function public.campaign_create(p_name text, p_zone text, p_hours jsonb, p_nodes jsonb, p_now timestamptz)
returns jsonb
language plpgsql as $$
declare
  c public.campaigns;
begin
  insert into public.campaigns (name, zone, hours, created_at) values (p_name, p_zone, p_hours, p_now) returning * into c;
  insert into public.campaign_nodes (campaign_id, id, type, config, next_node_id, timing, timeout_seconds)
  select c.id, x->>'id', x->>'type', coalesce(x->'config', '{}'::jsonb), x->>'next', coalesce(x->>'timing', 'business_hours'),
         (x->>'timeoutSeconds')::integer
    from jsonb_array_elements(p_nodes) x;
  return public.campaign_json(c);
end
$$;

create or replace function public.campaign_get(p_id uuid) returns jsonb
language sql stable as $$
  select public.campaign_json(c) from public.campaigns c where c.id = p_id
$$;

-- Adds or updates recipients: p_users [{userId, productUserId, email, name, zone, attributes}].
create or replace function public.campaign_users_upsert(p_users jsonb, p_now timestamptz) returns jsonb
language sql as $$
  with up as (
    insert into public.campaign_users as u (product_user_id, user_id, email, name, zone, attributes, updated_at)
    select x->>'productUserId', x->>'userId', x->>'email', x->>'name', x->>'zone', coalesce(x->'attributes', '{}'::jsonb), p_now
      from jsonb_array_elements(p_users) x
    on conflict (product_user_id) do update
       set user_id = excluded.user_id, email = excluded.email, name = excluded.name, zone = excluded.zone,
           attributes = excluded.attributes, updated_at = excluded.updated_at
    returning 1
  )
  select jsonb_build_object('upserted', count(*)) from up
$$;

-- What planning a node for a user needs: the campaign's window and zone, the node, the user's zone.
create or replace function public.campaign_plan_context(p_campaign_id uuid, p_node_id text, p_product_user_id text) returns jsonb
language sql stable as $$
  select jsonb_build_object('zone', c.zone, 'hours', c.hours, 'timeoutSeconds', n.timeout_seconds, 'timing', n.timing,
                            'userZone', (select u.zone from public.campaign_users u where u.product_user_id = p_product_user_id),
                            'userKnown', exists (select 1 from public.campaign_users u where u.product_user_id = p_product_user_id))
    from public.campaigns c join public.campaign_nodes n on n.campaign_id = c.id and n.id = p_node_id
   where c.id = p_campaign_id
$$;
