import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabaseUrl } from "../support/db";

/**
 * `pnpm db:migrate` as a user runs it, in a checkout of its own (a folder with supabase/ and, when a
 * stack "runs", .data/stack.json naming this test process, which is alive): the database it picks
 * and the one it names must be the running stack's, never the machine's own PostgreSQL.
 */
const ROOT = path.resolve(".");
const SCRIPT = path.join(ROOT, "scripts/db-migrate.ts");
const TSX = path.join(ROOT, "node_modules/.bin/tsx");
let checkout: string;
let scratch: { url: string; name: string; sql: postgres.Sql };
let admin: postgres.Sql;

function migrateCli(env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    // A new user's shell: no DATABASE_URL unless the test gives one.
    execFile(TSX, [SCRIPT], { cwd: checkout, env: { NODE_ENV: "test", PATH: process.env.PATH!, HOME: process.env.HOME ?? "/tmp", ...env }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}

const migrations = async () => (await readdir(path.join(ROOT, "supabase/migrations"))).filter((f) => f.endsWith(".sql")).length;
const recorded = async (sql: postgres.Sql) => (await sql<{ n: number }[]>`select count(*)::int as n from supabase_migrations.schema_migrations`)[0]!.n;

beforeAll(async () => {
  checkout = await mkdtemp(path.join(tmpdir(), "cronlayer-migrate-"));
  await symlink(path.join(ROOT, "supabase"), path.join(checkout, "supabase"));
  const base = new URL(testDatabaseUrl());
  base.pathname = "/postgres";
  admin = postgres(base.toString(), { max: 1, onnotice: () => {} });
  const name = `cronlayer_cli_migrate_${randomUUID().slice(0, 8)}`;
  await admin.unsafe(`create database ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  scratch = { url: url.toString(), name, sql: postgres(url.toString(), { max: 1, onnotice: () => {} }) };
});

afterAll(async () => {
  await scratch?.sql.end({ timeout: 5 });
  await admin?.unsafe(`drop database if exists ${scratch.name} with (force)`);
  await admin?.end({ timeout: 5 });
  await rm(checkout, { recursive: true, force: true });
});

describe("pnpm db:migrate (spawned)", { timeout: 120_000 }, () => {
  it("without DATABASE_URL and without a running stack refuses, and says how to start one or what to set", async () => {
    const r = await migrateCli();
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/no database named and no local stack running: start pnpm dev .* or set DATABASE_URL/);
    expect(r.out).not.toMatch(/applied/);
  });

  it("finds the running stack through .data/stack.json, names its database (no password) and migrates it", async () => {
    await mkdir(path.join(checkout, ".data"), { recursive: true });
    const withPassword = new URL(scratch.url);
    // A server that trusts local TCP ignores a password; one that asks for it gets the real one.
    withPassword.password ||= "s3cret-pw";
    const stack = { pid: process.pid, startedAt: new Date().toISOString(), env: { DATABASE_URL: withPassword.toString(), APP_URL: "http://localhost:3999" } };
    await writeFile(path.join(checkout, ".data/stack.json"), JSON.stringify(stack));
    const port = new URL(scratch.url).port || "5432";
    const host = new URL(scratch.url).hostname;
    const first = await migrateCli();
    expect(first.code).toBe(0);
    expect(first.out).toContain(`migrating database ${host}:${port}/${scratch.name} (from the running pnpm dev (pid ${process.pid}))`);
    expect(first.out).toContain(`${await migrations()} migration(s) applied to database ${host}:${port}/${scratch.name}`);
    expect(first.out).not.toContain(`:${withPassword.password}@`);
    expect(first.out).not.toContain(withPassword.password);
    expect(await recorded(scratch.sql)).toBe(await migrations());

    const again = await migrateCli();
    expect(again.code).toBe(0);
    expect(again.out).toContain(`database ${host}:${port}/${scratch.name} (from the running pnpm dev (pid ${process.pid})) is up to date: nothing to apply`);
  });

  it("DATABASE_URL wins over the stack, and is named too", async () => {
    const r = await migrateCli({ DATABASE_URL: scratch.url });
    expect(r.code).toBe(0);
    expect(r.out).toContain(`/${scratch.name} (from DATABASE_URL) is up to date`);
  });
});
