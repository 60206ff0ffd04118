-- The marketplace: experts sell appointments to clients; payments are captured at booking and
-- transferred to the expert's Stripe connected account after a hold window; balances are paid out.
-- Times are UTC (timestamptz); each person's IANA zone is kept for what they see.

-- A zone PostgreSQL cannot resolve would make every "today in the expert's zone" query fail.
create or replace function public.is_valid_time_zone(p_zone text) returns boolean
language plpgsql immutable as $$
begin
  perform timestamptz '2000-01-01 00:00:00+00' at time zone p_zone;
  return true;
exception when others then
  return false;
end $$;

create table if not exists public.experts (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  email text not null,
  time_zone text not null default 'UTC' check (public.is_valid_time_zone(time_zone)),
  currency text not null default 'usd',
  stripe_account_id text,
  created_at timestamptz not null default now()
);

create table if not exists public.clients (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  email text not null,
  time_zone text not null default 'UTC' check (public.is_valid_time_zone(time_zone)),
  created_at timestamptz not null default now()
);

create table if not exists public.appointments (
  id uuid primary key default gen_random_uuid(),
  expert_id uuid not null references public.experts (id) on delete cascade,
  client_id uuid not null references public.clients (id) on delete cascade,
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  status text not null default 'confirmed' check (status in ('pending_payment', 'confirmed', 'completed', 'cancelled')),
  -- Bookings awaiting payment are released when this passes; payment reminders lead up to it.
  payment_due_at timestamptz,
  completed_at timestamptz,
  created_at timestamptz not null default now(),
  check (ends_at > starts_at)
);
create index if not exists appointments_upcoming_idx on public.appointments (starts_at) where status in ('pending_payment', 'confirmed');
create index if not exists appointments_payment_due_idx on public.appointments (payment_due_at) where status = 'pending_payment';
create index if not exists appointments_expert_idx on public.appointments (expert_id);

create table if not exists public.payouts (
  id uuid primary key default gen_random_uuid(),
  expert_id uuid not null references public.experts (id) on delete cascade,
  -- One payout per expert per day: the Stripe idempotency key is payout:<expert_id>:<payout_date>.
  payout_date date not null,
  amount_cents bigint not null default 0,
  currency text not null,
  status text not null default 'pending' check (status in ('pending', 'in_transit', 'failed')),
  stripe_payout_id text,
  arrival_date date,
  attempts integer not null default 0,
  claimed_by uuid,
  claimed_at timestamptz,
  failed_run uuid,
  last_error text,
  created_at timestamptz not null default now(),
  unique (expert_id, payout_date)
);
create index if not exists payouts_arrival_idx on public.payouts (arrival_date) where status = 'in_transit';

create table if not exists public.payments (
  id uuid primary key default gen_random_uuid(),
  appointment_id uuid not null references public.appointments (id) on delete cascade,
  expert_id uuid not null references public.experts (id) on delete cascade,
  amount_cents bigint not null check (amount_cents > 0),
  platform_fee_cents bigint not null default 0 check (platform_fee_cents >= 0),
  currency text not null default 'usd',
  status text not null default 'captured' check (status in ('pending', 'captured', 'refunded', 'failed')),
  stripe_charge_id text,
  captured_at timestamptz,
  -- The transfer to the expert: claimed by one run at a time, marked only after Stripe accepted it.
  transfer_claimed_by uuid,
  transfer_claimed_at timestamptz,
  transfer_failed_run uuid,
  transfer_attempts integer not null default 0,
  transfer_error text,
  stripe_transfer_id text,
  transferred_at timestamptz,
  payout_id uuid references public.payouts (id) on delete set null,
  created_at timestamptz not null default now(),
  check (platform_fee_cents < amount_cents)
);
create index if not exists payments_transfer_due_idx on public.payments (appointment_id) where status = 'captured' and transferred_at is null;
create index if not exists payments_available_idx on public.payments (expert_id) where transferred_at is not null and payout_id is null;

-- Days an expert takes off, in the expert's own calendar (a date, not an instant).
create table if not exists public.expert_blocked_dates (
  id uuid primary key default gen_random_uuid(),
  expert_id uuid not null references public.experts (id) on delete cascade,
  blocked_on date not null,
  reason text,
  unique (expert_id, blocked_on)
);
create index if not exists expert_blocked_dates_on_idx on public.expert_blocked_dates (blocked_on);

-- Google Calendar connections. Tokens are stored as the app stores them today; in production keep
-- them encrypted (Supabase Vault) and decrypt in the claim function.
create table if not exists public.calendar_connections (
  id uuid primary key default gen_random_uuid(),
  expert_id uuid not null references public.experts (id) on delete cascade,
  provider text not null default 'google' check (provider = 'google'),
  access_token text,
  refresh_token text not null,
  expires_at timestamptz not null,
  scope text,
  status text not null default 'active' check (status in ('active', 'needs_reconsent')),
  revoked_at timestamptz,
  refreshed_at timestamptz,
  claimed_by uuid,
  claimed_at timestamptz,
  failed_run uuid,
  last_error text,
  created_at timestamptz not null default now()
);
create index if not exists calendar_connections_expiry_idx on public.calendar_connections (expires_at) where status = 'active';

-- Work an admin queued for later (emails, notifications), run by process-tasks.
create table if not exists public.admin_tasks (
  id uuid primary key default gen_random_uuid(),
  kind text not null,
  payload jsonb not null default '{}'::jsonb,
  run_at timestamptz not null default now(),
  status text not null default 'pending' check (status in ('pending', 'running', 'done', 'failed')),
  attempts integer not null default 0,
  max_attempts integer not null default 3 check (max_attempts >= 1),
  claimed_by uuid,
  claimed_at timestamptz,
  finished_at timestamptz,
  last_error text,
  created_at timestamptz not null default now()
);
create index if not exists admin_tasks_due_idx on public.admin_tasks (run_at) where status in ('pending', 'running');

create table if not exists public.audit_log (
  id bigint generated always as identity primary key,
  at timestamptz not null default now(),
  actor text not null,
  action text not null,
  subject text,
  details jsonb
);
create index if not exists audit_log_at_idx on public.audit_log (at);

-- Every message sent to a person, keyed so that it goes out once: claimed before sending, marked
-- sent after. A failed one is retried by a later run (not the same one); a claim whose run died is
-- taken over after the lease (the job's timeout).
create table if not exists public.notification_claims (
  key text primary key,
  kind text not null,
  subject_id uuid,
  recipient text,
  seq integer not null default 0,
  status text not null check (status in ('claimed', 'sent', 'failed')),
  attempts integer not null default 1,
  claimed_by uuid not null,
  claimed_at timestamptz not null,
  sent_at timestamptz,
  last_error text
);
create index if not exists notification_claims_subject_idx on public.notification_claims (subject_id, kind);

alter table public.experts enable row level security;
alter table public.clients enable row level security;
alter table public.appointments enable row level security;
alter table public.payouts enable row level security;
alter table public.payments enable row level security;
alter table public.expert_blocked_dates enable row level security;
alter table public.calendar_connections enable row level security;
alter table public.admin_tasks enable row level security;
alter table public.audit_log enable row level security;
alter table public.notification_claims enable row level security;

-- Finishes claims of one run: [{key, ok: true} | {key, ok: false, error} | {key, released: true}].
-- Released ones (never attempted: the provider asked us to wait) are deleted so any run takes them.
create or replace function public.notification_claims_finish(p_run_id uuid, p_now timestamptz, p_results jsonb)
returns jsonb
language sql as $$
  with r as (
    select x->>'key' as key, (x->>'ok')::boolean as ok, coalesce((x->>'released')::boolean, false) as released, x->>'error' as error
      from jsonb_array_elements(p_results) x
  ), sent as (
    update public.notification_claims c set status = 'sent', sent_at = p_now, last_error = null
      from r where c.key = r.key and r.ok and c.claimed_by = p_run_id and c.status = 'claimed'
    returning 1
  ), failed as (
    update public.notification_claims c set status = 'failed', last_error = left(r.error, 1000)
      from r where c.key = r.key and not r.ok and not r.released and c.claimed_by = p_run_id and c.status = 'claimed'
    returning 1
  ), released as (
    delete from public.notification_claims c using r
     where c.key = r.key and r.released and c.claimed_by = p_run_id and c.status = 'claimed'
    returning 1
  )
  select jsonb_build_object('sent', (select count(*) from sent), 'failed', (select count(*) from failed), 'released', (select count(*) from released))
$$;

-- Claims one message by key (alerts, one-off notices). Claimed: send it, then finish it.
create or replace function public.notification_claim_key(
  p_key text, p_kind text, p_run_id uuid, p_now timestamptz, p_lease_ms integer, p_subject_id uuid default null, p_recipient text default null
) returns jsonb
language sql as $$
  with c as (
    insert into public.notification_claims as c (key, kind, subject_id, recipient, status, claimed_by, claimed_at)
    values (p_key, p_kind, p_subject_id, p_recipient, 'claimed', p_run_id, p_now)
    on conflict (key) do update set status = 'claimed', claimed_by = excluded.claimed_by, claimed_at = excluded.claimed_at, attempts = c.attempts + 1
     where (c.status = 'failed' and c.claimed_by <> p_run_id)
        or (c.status = 'claimed' and c.claimed_at <= p_now - make_interval(secs => p_lease_ms / 1000.0))
    returning c.key
  )
  select jsonb_build_object('claimed', exists (select 1 from c))
$$;
