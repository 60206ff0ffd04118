-- Split out of 20261130001100 (now marketplace_money_effects) so the layer's migrations never
-- need a product's. On a database that already ran 20261130001100 both statements change nothing.

-- The local Stripe stand-in answers lookups from what it recorded: entries of a provider whose
-- payload contains p_match, newest first.
create or replace function public.provider_outbox_find(p_provider text, p_match jsonb, p_since timestamptz default null, p_limit integer default 10)
returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(jsonb_build_object('id', id, 'provider', provider, 'key', idempotency_key, 'payload', payload, 'created_at', created_at) order by id desc), '[]'::jsonb)
    from (select * from public.provider_outbox
           where provider = p_provider and payload @> p_match and (p_since is null or created_at >= p_since)
           order by id desc
           limit greatest(1, least(p_limit, 100))) o
$$;
create index if not exists provider_outbox_payload_idx on public.provider_outbox using gin (payload jsonb_path_ops);
