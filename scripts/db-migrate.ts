import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { runningStack } from "../lib/cli/local-stack";
import { migrate } from "../lib/db/migrate";

const HELP = `Usage: pnpm db:migrate [--url postgres://...]

Applies supabase/migrations/*.sql that are not applied yet, each in a transaction, recorded in
supabase_migrations.schema_migrations (the Supabase CLI's table). Running it again applies nothing.

Database: --url, else DATABASE_URL (.env.local and .env are read), else the database of the pnpm dev
running from this checkout (.data/stack.json). It names the database before it changes anything.
With Supabase you may use \`supabase db push\` instead.`;

const { values } = parseArgs({ options: { url: { type: "string" }, help: { type: "boolean", short: "h" } } });
if (values.help) {
  console.log(HELP);
  process.exit(0);
}

for (const file of [".env.local", ".env"]) if (existsSync(file)) process.loadEnvFile(file);

/**
 * Where to migrate, and how it was found. Never a guess: a database nobody named could be the
 * machine's own PostgreSQL, which is not ours to fill with tables.
 */
function target(): { url: string; from: string } {
  if (values.url) return { url: values.url, from: "--url" };
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, from: "DATABASE_URL" };
  if (process.env.SUPABASE_URL) {
    throw new Error("SUPABASE_URL is set, but migrations need a Postgres connection: set DATABASE_URL (Supabase: Project Settings -> Database -> Connection string), pass --url, or use supabase db push.");
  }
  const stack = runningStack();
  if (stack?.env.DATABASE_URL) return { url: stack.env.DATABASE_URL, from: `the running pnpm dev (pid ${stack.pid})` };
  throw new Error(
    "no database named and no local stack running: start pnpm dev (it applies the migrations itself, and pnpm db:migrate then finds it), " +
      "or set DATABASE_URL (or pass --url) to the database to migrate.",
  );
}

/** host:port/name of a URL, without user or password. */
function describeDatabase(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || "5432"}/${decodeURIComponent(u.pathname.slice(1)) || "postgres"}`;
  } catch {
    return "an unreadable URL";
  }
}

let where: { url: string; from: string };
try {
  where = target();
} catch (err) {
  console.error(`pnpm db:migrate: ${(err as Error).message}`);
  process.exit(1);
}

const named = `database ${describeDatabase(where.url)} (from ${where.from})`;
console.log(`migrating ${named}`);
try {
  const applied = await migrate(where.url, "supabase/migrations", (line) => console.log(line));
  console.log(applied.length ? `${applied.length} migration(s) applied to ${named}` : `${named} is up to date: nothing to apply`);
} catch (err) {
  const msg = (err as Error).message;
  console.error(`migration of ${named} failed: ${msg}`);
  if (/ECONNREFUSED|ENOTFOUND|timeout/i.test(msg)) console.error("Is PostgreSQL running there, and is DATABASE_URL (or --url) right?");
  process.exit(1);
}
