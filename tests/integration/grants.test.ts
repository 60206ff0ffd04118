import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "../support/app";

// Supabase's API roles (tests/support/global-setup.ts creates them, as Supabase has them). PUBLIC
// is every role, present and future.
const CLOSED = ["public", "anon", "authenticated"];
const SERVER = "service_role";

interface Fn {
  oid: number;
  name: string;
  owner: string;
}

/** This app's functions: every function of schema public except those an extension brought. */
async function appFunctions(): Promise<Fn[]> {
  return sql()<Fn[]>`
    select p.oid::int as oid, p.oid::regprocedure::text as name, p.proowner::regrole::text as owner
    from pg_proc p
    where p.pronamespace = 'public'::regnamespace
      and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
    order by 2`;
}

/** Every role that may execute the function, PUBLIC included, leaving out superusers (they bypass every check). */
async function executors(fn: Fn): Promise<string[]> {
  const rows = await sql()<{ role: string }[]>`
    select r.role from (select 'public' as role union all select rolname::text from pg_roles where not rolsuper) r
    where has_function_privilege(r.role, ${fn.oid}::oid, 'execute')
    order by 1`;
  return rows.map((r) => r.role);
}

beforeAll(async () => {
  const roles = await sql()<{ rolname: string }[]>`select rolname from pg_roles where rolname in ('anon', 'authenticated', 'service_role')`;
  if (roles.length !== 3) throw new Error("the Supabase roles anon, authenticated and service_role are missing: tests/support/global-setup.ts creates them before migrating");
});

describe("who may execute this app's functions (Supabase exposes them all through its Data API)", () => {
  it("only service_role and the owner: not PUBLIC, anon or authenticated", async () => {
    const fns = await appFunctions();
    expect(fns.map((f) => f.name)).toEqual(expect.arrayContaining([expect.stringMatching(/^job_run_open\(/), expect.stringMatching(/^cronlayer_ping\(/)]));
    const open: { fn: string; roles: string[] }[] = [];
    for (const fn of fns) {
      // The owner is the role migrations run as and DATABASE_URL connects as: it keeps its rights.
      const roles = await executors(fn);
      const extra = roles.filter((r) => r !== SERVER && r !== fn.owner);
      if (extra.length) open.push({ fn: fn.name, roles: extra });
      expect(roles.includes(SERVER), `${SERVER} must execute ${fn.name}`).toBe(true);
    }
    expect(open).toEqual([]);
  });

  describe("a function a later migration creates", () => {
    const probe = `grants_probe_${randomUUID().replaceAll("-", "")}`;
    afterAll(() => sql().unsafe(`drop function if exists public.${probe}()`));

    it("starts closed to PUBLIC, anon and authenticated, and open to service_role", async () => {
      // Created by the role the migrations ran as, which is whose default privileges apply.
      const owners = new Set((await appFunctions()).map((f) => f.owner));
      const me = (await sql()<{ me: string }[]>`select current_user::text as me`)[0]!.me;
      expect([...owners]).toEqual([me]);
      await sql().unsafe(`create function public.${probe}() returns integer language sql as 'select 1'`);
      const [fn] = (await appFunctions()).filter((f) => f.name === `${probe}()`);
      const roles = await executors(fn!);
      for (const role of CLOSED) expect(roles, `${role} may execute a new function`).not.toContain(role);
      expect(roles).toContain(SERVER);
    });
  });
});
