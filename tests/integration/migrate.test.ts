import { randomUUID } from "node:crypto";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import postgres from "postgres";
import { describe, expect, it, onTestFinished } from "vitest";
import { listMigrations, migrate } from "../../lib/db/migrate";
import { testDatabaseUrl } from "../support/db";

const DIR = "supabase/migrations";

/** A fresh database on the test server, dropped when the test ends. */
async function scratchDb(): Promise<{ url: string; sql: postgres.Sql }> {
  const admin = new URL(testDatabaseUrl());
  admin.pathname = "/postgres";
  const name = `cronlayer_migrate_${randomUUID().replaceAll("-", "")}`;
  const root = postgres(admin.toString(), { max: 1, onnotice: () => {} });
  await root.unsafe(`create database ${name}`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const sql = postgres(url.toString(), { max: 1, onnotice: () => {} });
  onTestFinished(async () => {
    await sql.end({ timeout: 5 });
    await root.unsafe(`drop database if exists ${name} with (force)`);
    await root.end({ timeout: 5 });
  });
  return { url: url.toString(), sql };
}

async function tempDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "cronlayer-migrations-"));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  for (const [file, text] of Object.entries(files)) await writeFile(path.join(dir, file), text);
  return dir;
}

const recorded = (sql: postgres.Sql) =>
  sql<{ version: string; name: string }[]>`select version, name from supabase_migrations.schema_migrations order by version`;
const tableExists = async (sql: postgres.Sql, table: string) => (await sql<{ t: string | null }[]>`select to_regclass(${table})::text as t`)[0]!.t !== null;

/** What the runner should apply, read straight from the directory rather than from the runner. */
async function expectedFromDisk() {
  const files = (await readdir(DIR)).filter((f) => f.endsWith(".sql")).sort();
  return files.map((f) => {
    const base = f.slice(0, -".sql".length);
    const cut = base.indexOf("_");
    return { id: base, version: base.slice(0, cut), name: base.slice(cut + 1) };
  });
}

describe("migrate", () => {
  it("applies every migration in order on a fresh database, records it, and applies nothing the second time", async () => {
    const { url, sql } = await scratchDb();
    const expected = await expectedFromDisk();
    expect(expected.length).toBeGreaterThan(5);
    const log: string[] = [];

    const applied = await migrate(url, DIR, (line) => log.push(line));
    expect(applied).toEqual(expected.map((m) => m.id));
    expect(log).toEqual(expected.map((m) => `applied ${m.id}`));
    expect(await recorded(sql)).toEqual(expected.map(({ version, name }) => ({ version, name })));
    // The schema is really there: a function from the first migration and a table from a later one.
    expect((await sql<{ r: { ok: boolean } }[]>`select cronlayer_ping() as r`)[0]!.r.ok).toBe(true);
    expect(await tableExists(sql, "public.slot_reservations")).toBe(true);

    expect(await migrate(url, DIR)).toEqual([]);
    expect(await recorded(sql)).toHaveLength(expected.length);
  });

  it("applies each migration once when two runners start together (advisory lock)", async () => {
    const { url, sql } = await scratchDb();
    const expected = (await expectedFromDisk()).map((m) => m.id);
    // allSettled: a failed runner must not leave the other one working while the database is dropped.
    const settled = await Promise.allSettled([migrate(url, DIR), migrate(url, DIR)]);
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "fulfilled"]);
    const runs = settled.map((s) => (s.status === "fulfilled" ? s.value : []));
    // One runner waited for the lock and then found everything applied.
    expect(runs.map((r) => r.length).sort((x, y) => x - y)).toEqual([0, expected.length]);
    expect(runs.flat()).toEqual(expected);
    expect((await recorded(sql)).map((r) => `${r.version}_${r.name}`)).toEqual(expected);
  });

  it("refuses a badly named file, naming it and the pattern, before applying anything", async () => {
    const { url, sql } = await scratchDb();
    const dir = await tempDir({
      "20260101000000_good.sql": "create table good_one (id int);",
      "add-users.sql": "create table bad_one (id int);",
      "README.md": "not a migration, ignored",
    });
    await expect(listMigrations(dir)).rejects.toThrow('Migration file "add-users.sql" must be named <YYYYMMDDHHMMSS>_<name>.sql');
    await expect(migrate(url, dir)).rejects.toThrow(/"add-users\.sql".*<YYYYMMDDHHMMSS>_<name>\.sql/);
    expect(await tableExists(sql, "public.good_one")).toBe(false);
    expect(await recorded(sql)).toEqual([]);

    const upper = await tempDir({ "20260101000000_AddUsers.sql": "select 1;" });
    await expect(migrate(url, upper)).rejects.toThrow('"20260101000000_AddUsers.sql"');
  });

  it("rolls back a failing migration completely, records nothing of it, names the file, and resumes once fixed", async () => {
    const { url, sql } = await scratchDb();
    const files = {
      "20260101000001_first.sql": "create table first_t (id int); insert into first_t values (1);",
      "20260101000002_broken.sql": "create table broken_t (id int);\ninsert into broken_t values (1);\nselect no_such_function();",
      "20260101000003_third.sql": "create table third_t (id int);",
    };
    const dir = await tempDir(files);

    const err = await migrate(url, dir).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toContain("20260101000002_broken.sql");
    expect(err!.message).toContain("function no_such_function() does not exist");
    expect(await recorded(sql)).toEqual([{ version: "20260101000001", name: "first" }]);
    expect(await tableExists(sql, "public.first_t")).toBe(true);
    expect(await tableExists(sql, "public.broken_t")).toBe(false);
    expect(await tableExists(sql, "public.third_t")).toBe(false);

    // The lock went with the failed runner's connection, so a fixed file applies on the next run.
    await writeFile(path.join(dir, "20260101000002_broken.sql"), "create table broken_t (id int);");
    expect(await migrate(url, dir)).toEqual(["20260101000002_broken", "20260101000003_third"]);
    expect((await recorded(sql)).map((r) => r.name)).toEqual(["first", "broken", "third"]);
  });
});
