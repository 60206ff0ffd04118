-- The jewellery shop: customers, products and their stock, inventory held for checkouts, orders
-- paid through Razorpay, in-app notifications, password resets and the stock-alert episodes.
-- Amounts are in the currency's smallest unit (paise for INR). Every table carries the domain's
-- name: the shop can be removed by removing its files.
--
-- Order status:
--   pending           placed, waiting for its payment (its stock is held by inventory locks)
--   processing        paid: confirmed (commerce_confirm_payment), stock taken, locks gone
--   shipped           on its way (tracking_number)
--   delivered
--   cancelled
--   return_approved   a return was approved
--   payment_failed    its only payment failed: its locks were released
create table if not exists public.commerce_users (
  id uuid primary key default gen_random_uuid(),
  email text not null unique check (length(email) between 3 and 320),
  name text not null default '',
  verified boolean not null default false,
  created_at timestamptz not null default now()
);
-- cleanup-unverified-users.
create index if not exists commerce_users_unverified_idx on public.commerce_users (created_at) where not verified;
alter table public.commerce_users enable row level security;

-- A user's saved addresses: dependent rows, deleted with the user.
create table if not exists public.commerce_addresses (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.commerce_users (id) on delete cascade,
  line1 text not null,
  city text not null,
  postal_code text not null,
  created_at timestamptz not null default now()
);
create index if not exists commerce_addresses_user_idx on public.commerce_addresses (user_id);
alter table public.commerce_addresses enable row level security;

create table if not exists public.commerce_products (
  id uuid primary key default gen_random_uuid(),
  sku text not null unique,
  name text not null check (length(name) between 1 and 300),
  price bigint not null check (price >= 0),
  currency text not null default 'inr' check (currency ~ '^[a-z]{3}$'),
  stock integer not null default 0 check (stock >= 0),
  low_stock_threshold integer not null default 5 check (low_stock_threshold >= 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
-- check-stock-levels: the products at or below their threshold.
create index if not exists commerce_products_low_idx on public.commerce_products (id) where stock <= low_stock_threshold;
alter table public.commerce_products enable row level security;

create table if not exists public.commerce_orders (
  id uuid primary key default gen_random_uuid(),
  -- An order is a business record: a user with orders is never removed by the unverified-user sweep.
  user_id uuid not null references public.commerce_users (id) on delete restrict,
  status text not null default 'pending'
    check (status in ('pending', 'processing', 'shipped', 'delivered', 'cancelled', 'return_approved', 'payment_failed')),
  total bigint not null check (total >= 0),
  currency text not null default 'inr' check (currency ~ '^[a-z]{3}$'),
  tracking_number text,
  created_at timestamptz not null default now(),
  confirmed_at timestamptz,
  shipped_at timestamptz,
  delivered_at timestamptz,
  cancelled_at timestamptz,
  return_approved_at timestamptz,
  updated_at timestamptz not null default now()
);
-- daily-sales-summary: a day's sold orders.
create index if not exists commerce_orders_sold_idx on public.commerce_orders (created_at) where status in ('processing', 'shipped', 'delivered');
create index if not exists commerce_orders_user_idx on public.commerce_orders (user_id);
alter table public.commerce_orders enable row level security;

create table if not exists public.commerce_order_items (
  order_id uuid not null references public.commerce_orders (id) on delete cascade,
  product_id uuid not null references public.commerce_products (id),
  quantity integer not null check (quantity > 0),
  unit_price bigint not null check (unit_price >= 0),
  primary key (order_id, product_id)
);
create index if not exists commerce_order_items_product_idx on public.commerce_order_items (product_id);
alter table public.commerce_order_items enable row level security;

-- Stock held for a checkout until it is paid (then stock is taken and the lock goes) or expires.
create table if not exists public.commerce_inventory_locks (
  id bigint generated always as identity primary key,
  product_id uuid not null references public.commerce_products (id) on delete cascade,
  order_id uuid references public.commerce_orders (id) on delete cascade,
  user_id uuid references public.commerce_users (id) on delete cascade,
  quantity integer not null check (quantity > 0),
  expires_at timestamptz not null,
  created_at timestamptz not null default now()
);
create index if not exists commerce_inventory_locks_expiry_idx on public.commerce_inventory_locks (expires_at);
create index if not exists commerce_inventory_locks_order_idx on public.commerce_inventory_locks (order_id) where order_id is not null;
create index if not exists commerce_inventory_locks_user_idx on public.commerce_inventory_locks (user_id) where user_id is not null;
alter table public.commerce_inventory_locks enable row level security;

-- One row per Razorpay payment attempt of an order; transaction_id is Razorpay's payment id (pay_...).
create table if not exists public.commerce_payments (
  id uuid primary key default gen_random_uuid(),
  order_id uuid not null references public.commerce_orders (id) on delete cascade,
  provider text not null default 'razorpay' check (provider = 'razorpay'),
  transaction_id text not null unique,
  amount bigint not null check (amount >= 0),
  currency text not null default 'inr',
  status text not null default 'pending' check (status in ('pending', 'captured', 'failed')),
  created_at timestamptz not null default now(),
  captured_at timestamptz,
  failed_at timestamptz,
  updated_at timestamptz not null default now()
);
-- reconcile-stale-payments: pending payments, oldest first.
create index if not exists commerce_payments_pending_idx on public.commerce_payments (created_at, id) where status = 'pending';
create index if not exists commerce_payments_order_idx on public.commerce_payments (order_id);
alter table public.commerce_payments enable row level security;

create table if not exists public.commerce_notifications (
  id bigint generated always as identity primary key,
  user_id uuid not null references public.commerce_users (id) on delete cascade,
  -- The effect that made it (order:<id>:<status>): a retried effect adds no second row.
  key text unique,
  kind text not null,
  title text not null,
  body text not null,
  read_at timestamptz,
  created_at timestamptz not null default now()
);
create index if not exists commerce_notifications_user_idx on public.commerce_notifications (user_id, created_at desc);
-- cleanup-notifications: read ones by age.
create index if not exists commerce_notifications_read_idx on public.commerce_notifications (created_at) where read_at is not null;
alter table public.commerce_notifications enable row level security;

create table if not exists public.commerce_password_resets (
  id bigint generated always as identity primary key,
  user_id uuid not null references public.commerce_users (id) on delete cascade,
  token_hash text not null unique,
  expires_at timestamptz not null,
  used_at timestamptz,
  created_at timestamptz not null default now()
);
create index if not exists commerce_password_resets_expiry_idx on public.commerce_password_resets (expires_at);
create index if not exists commerce_password_resets_used_idx on public.commerce_password_resets (used_at) where used_at is not null;
create index if not exists commerce_password_resets_user_idx on public.commerce_password_resets (user_id);
alter table public.commerce_password_resets enable row level security;

-- A low-stock episode: opened when a product falls to or below its threshold, closed when it is
-- restocked above it. At most one open episode per product, so a product stays announced once
-- until it has been restocked. Episodes found in one run share one alert (alert_key).
create table if not exists public.commerce_stock_alerts (
  id bigint generated always as identity primary key,
  product_id uuid not null references public.commerce_products (id) on delete cascade,
  stock integer not null,
  threshold integer not null,
  opened_at timestamptz not null,
  closed_at timestamptz,
  alert_key text,
  notified_at timestamptz
);
create unique index if not exists commerce_stock_alerts_open_idx on public.commerce_stock_alerts (product_id) where closed_at is null;
create index if not exists commerce_stock_alerts_unsent_idx on public.commerce_stock_alerts (alert_key) where notified_at is null;
alter table public.commerce_stock_alerts enable row level security;
