import postgres from "postgres";
import type { TestProject } from "vitest/node";
import { migrate } from "../../lib/db/migrate";

const ADMIN_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const DB_NAME = "cronlayer_test";

declare module "vitest" {
  export interface ProvidedContext {
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
  await admin.unsafe(`drop database if exists ${DB_NAME} with (force)`);
  await admin.unsafe(`create database ${DB_NAME}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${DB_NAME}`;
  await migrate(url.toString(), "supabase/migrations");
  project.provide("databaseUrl", url.toString());
  project.provide("redisUrl", REDIS_URL);
}
