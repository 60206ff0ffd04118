import postgres from "postgres";
import type { TestProject } from "vitest/node";
import { migrate } from "../../lib/db/migrate";

const ADMIN_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
// One database per run, so two runs on one machine (a watcher and CI, two worktrees) never drop
// each other's tables mid-test.
const DB_NAME = `cronlayer_test_${process.pid}`;

declare module "vitest" {
  export interface ProvidedContext {
    /** The migrated template; each test file works on its own copy (tests/support/db.ts). */
    databaseUrl: string;
    redisUrl: string;
  }
}

/** A fresh database for every test run, migrated with the same runner as production. */
export default async function setup(project: TestProject) {
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    await admin`select 1`;
  } catch (err) {
    throw new Error(
      `The tests need a real PostgreSQL at ${ADMIN_URL} (${(err as Error).message}). ` +
        `Start it (Debian: pg_ctlcluster <version> main start) or set TEST_DATABASE_URL to a superuser URL.`,
    );
  }
  // Runs that were killed before their teardown leave a database behind: drop those of dead processes.
  const stale = await admin<{ datname: string }[]>`select datname from pg_database where datname ~ '^cronlayer_test_[0-9]+(_[0-9a-f]+)?$'`;
  for (const { datname } of stale) if (!alive(Number(datname.split("_")[2]))) await admin.unsafe(`drop database if exists ${datname} with (force)`);
  await admin.unsafe(`drop database if exists ${DB_NAME} with (force)`);
  await admin.unsafe(`create database ${DB_NAME}`);
  await createSupabaseRoles(admin);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${DB_NAME}`;
  await migrate(url.toString(), "supabase/migrations");
  project.provide("databaseUrl", url.toString());
  project.provide("redisUrl", REDIS_URL);
  return async () => {
    const done = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
    await done.unsafe(`drop database if exists ${DB_NAME} with (force)`);
    await done.end();
  };
}

/**
 * Supabase's API roles, so the migrations run here as they do there (the grants migration acts on
 * them only where they exist). Roles are cluster-wide: another run may create them at the same moment.
 */
async function createSupabaseRoles(admin: postgres.Sql) {
  await admin.unsafe(`
    do $$
    declare r text;
    begin
      foreach r in array array['anon', 'authenticated', 'service_role'] loop
        if not exists (select 1 from pg_roles where rolname = r) then
          begin
            execute format('create role %I nologin', r);
          exception when duplicate_object or unique_violation then null;
          end;
        end if;
      end loop;
    end $$`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
