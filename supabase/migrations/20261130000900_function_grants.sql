-- Only the server may call this app's functions.
--
-- Supabase's Data API (PostgREST) exposes every function of the public schema, and PostgreSQL
-- lets every role execute a new function (EXECUTE is granted to PUBLIC by default), so anyone
-- holding the project's public anon key could call job_run_open, the claim functions and the
-- rest. Row-level security happens to block their table writes, but nothing should rest on that.
--
-- Who keeps EXECUTE: service_role (the Supabase adapter's key) and the functions' owner, which is
-- the role migrations run as and DATABASE_URL connects as (the Postgres adapter). An owner's
-- rights are implicit, so revoking PUBLIC's never takes them away.
--
-- anon, authenticated and service_role exist on Supabase only: on a plain PostgreSQL and on the
-- embedded PGlite of `pnpm dev` the steps that name them are skipped.

-- Every function existing now, whichever migration created it. Functions that belong to an
-- extension are the extension's business and are left as they are.
do $$
declare
  fn regprocedure;
  api_role text;
begin
  for fn in
    select p.oid::regprocedure
    from pg_proc p
    where p.pronamespace = 'public'::regnamespace
      and not exists (
        select 1 from pg_depend d
        where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e'
      )
  loop
    execute format('revoke execute on routine %s from public', fn);
    foreach api_role in array array['anon', 'authenticated'] loop
      if exists (select 1 from pg_roles where rolname = api_role) then
        execute format('revoke execute on routine %s from %I', fn, api_role);
      end if;
    end loop;
    if exists (select 1 from pg_roles where rolname = 'service_role') then
      execute format('grant execute on routine %s to service_role', fn);
    end if;
  end loop;
end $$;

-- Functions created later (by this role, as every migration is) start closed too. PUBLIC's EXECUTE
-- is a built-in default that only the database-wide form can remove; Supabase grants anon and
-- authenticated theirs per schema, so those are revoked per schema.
alter default privileges revoke execute on functions from public;

do $$
declare
  api_role text;
begin
  foreach api_role in array array['anon', 'authenticated'] loop
    if exists (select 1 from pg_roles where rolname = api_role) then
      execute format('alter default privileges revoke execute on functions from %I', api_role);
      execute format('alter default privileges in schema public revoke execute on functions from %I', api_role);
    end if;
  end loop;
  if exists (select 1 from pg_roles where rolname = 'service_role') then
    execute 'alter default privileges in schema public grant execute on functions to service_role';
  end if;
end $$;
