import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import postgres from "postgres";

export interface Migration {
  version: string;
  name: string;
  file: string;
}

const FILE = /^(\d{14})_([a-z0-9_]+)\.sql$/;

/** Migrations in Supabase CLI layout: `supabase/migrations/<14-digit version>_<name>.sql`. */
export async function listMigrations(dir: string): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".sql")).sort();
  return files.map((file) => {
    const m = FILE.exec(file);
    if (!m) throw new Error(`Migration file "${file}" must be named <YYYYMMDDHHMMSS>_<name>.sql (Supabase CLI naming).`);
    return { version: m[1]!, name: m[2]!, file: path.join(dir, file) };
  });
}

/**
 * Applies the migrations not yet applied, each in its own transaction, and records them in the
 * table the Supabase CLI uses, so `supabase db push` and this runner agree on what is applied.
 * An advisory lock keeps two migrators (two deploys, a test run and a dev server) from racing.
 */
export async function migrate(databaseUrl: string, dir: string, log: (line: string) => void = () => {}): Promise<string[]> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  const applied: string[] = [];
  try {
    await sql`select pg_advisory_lock(727274)`;
    await sql.unsafe(`
      create schema if not exists supabase_migrations;
      create table if not exists supabase_migrations.schema_migrations (version text primary key, statements text[], name text);
    `);
    const done = new Set((await sql<{ version: string }[]>`select version from supabase_migrations.schema_migrations`).map((r) => r.version));
    for (const m of await listMigrations(dir)) {
      if (done.has(m.version)) continue;
      const text = await readFile(m.file, "utf8");
      try {
        await sql.begin(async (tx) => {
          await tx.unsafe(text);
          await tx`insert into supabase_migrations.schema_migrations (version, name) values (${m.version}, ${m.name})`;
        });
      } catch (err) {
        // The server's message alone does not say which of the files failed.
        throw new Error(`Migration ${path.basename(m.file)} failed and was rolled back: ${(err as Error).message}`, { cause: err });
      }
      applied.push(`${m.version}_${m.name}`);
      log(`applied ${m.version}_${m.name}`);
    }
    await sql`select pg_advisory_unlock(727274)`;
    return applied;
  } finally {
    await sql.end({ timeout: 5 });
  }
}
