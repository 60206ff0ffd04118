import { randomUUID } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
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

describe("claims after every migration", () => {
  it("live only in the effects table: no other table has claim columns", async () => {
    const { url, sql } = await scratchDb();
    await migrate(url, DIR);
    const rows = await sql<{ table_name: string; column_name: string }[]>`
      select table_name, column_name from information_schema.columns
       where table_schema = 'public'
         and column_name ~ '(^|_)(claimed_by|claimed_at|failed_run|attempts|last_error|transfer_error)$' and column_name <> 'max_attempts'
       order by table_name, column_name`;
    expect(rows.filter((r) => r.table_name !== "effects")).toEqual([]);
    expect(rows.map((r) => r.column_name).sort()).toEqual(["attempts", "last_error"]);
  });
});

describe("moving claims onto effects", () => {
  it("carries the claims of a database that ran the per-table claims over into effects", async () => {
    const { url, sql } = await scratchDb();
    const all = await listMigrations(DIR);
    const before = await tempDir({});
    for (const m of all.filter((m) => m.version < "20261130001000")) await writeFile(path.join(before, path.basename(m.file)), await readFile(m.file, "utf8"));
    await migrate(url, before);

    const [e] = await sql`insert into experts (name, email, stripe_account_id) values ('Lena', 'lena@example.test', 'acct_1') returning id`;
    const [c] = await sql`insert into clients (name, email) values ('Chris', 'chris@example.test') returning id`;
    const [a] = await sql`insert into appointments (expert_id, client_id, starts_at, ends_at, status, completed_at)
      values (${e!.id}, ${c!.id}, now() - interval '10 days', now() - interval '10 days' + interval '1 hour', 'completed', now() - interval '10 days') returning id`;
    const [paid] = await sql`insert into payments (appointment_id, expert_id, amount_cents, platform_fee_cents, transfer_attempts, stripe_transfer_id, transferred_at)
      values (${a!.id}, ${e!.id}, 10000, 2000, 1, 'tr_1', now() - interval '1 day') returning id`;
    const [rejected] = await sql`insert into payments (appointment_id, expert_id, amount_cents, transfer_attempts, transfer_error, transfer_failed_run)
      values (${a!.id}, ${e!.id}, 5000, 1, 'ProviderError: Stripe: HTTP 400: no such destination', gen_random_uuid()) returning id`;
    const [payout] = await sql`insert into payouts (expert_id, payout_date, amount_cents, currency, status, attempts, failed_run, last_error)
      values (${e!.id}, current_date, 8000, 'usd', 'failed', 1, gen_random_uuid(), 'ProviderError: Stripe: HTTP 500: internal error') returning id, payout_date`;
    const reminder = `reminder:24h:${a!.id}:client`;
    await sql`insert into notification_claims (key, kind, subject_id, recipient, status, claimed_by, claimed_at, sent_at)
      values (${reminder}, 'reminder-24h', ${a!.id}, 'client', 'sent', gen_random_uuid(), now(), now())`;
    const [task] = await sql`insert into admin_tasks (kind, status, attempts, claimed_by, claimed_at) values ('send-email', 'running', 1, gen_random_uuid(), now() - interval '1 hour') returning id`;

    await migrate(url, DIR);
    const effects = await sql<{ key: string; job: string; status: string; attempts: number }[]>`select key, job, status, attempts from effects order by key`;
    const day = (payout!.payout_date as Date).toISOString().slice(0, 10);
    expect(effects).toEqual(
      expect.arrayContaining([
        { key: `transfer:${paid!.id}`, job: "process-expert-transfers", status: "succeeded", attempts: 1 },
        { key: `transfer:${rejected!.id}`, job: "process-expert-transfers", status: "failed", attempts: 1 },
        // A 5xx may have paid: looked up at Stripe before it is tried again.
        { key: `payout:${e!.id}:${day}`, job: "process-pending-payouts", status: "unknown", attempts: 1 },
        { key: reminder, job: "appointment-reminders", status: "succeeded", attempts: 1 },
        // A task whose run held it may have run: its effect says so.
        { key: `task:${task!.id}`, job: "process-tasks", status: "unknown", attempts: 1 },
      ]),
    );
    expect((await sql`select status from payouts where id = ${payout!.id}`)[0]).toEqual({ status: "pending" });
    expect((await sql`select status from admin_tasks where id = ${task!.id}`)[0]).toEqual({ status: "pending" });
    expect(await tableExists(sql, "public.notification_claims")).toBe(false);
  });
});
