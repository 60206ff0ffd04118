import { parseArgs } from "node:util";
import { loadEnv } from "../lib/env";
import { migrate } from "../lib/db/migrate";

const HELP = `Usage: pnpm db:migrate [--url postgres://...]

Applies supabase/migrations/*.sql that are not applied yet to DATABASE_URL (or --url), each in a
transaction, recorded in supabase_migrations.schema_migrations (the Supabase CLI's table).
Running it again applies nothing. With Supabase you may use \`supabase db push\` instead.`;

const { values } = parseArgs({ options: { url: { type: "string" }, help: { type: "boolean", short: "h" } } });
if (values.help) {
  console.log(HELP);
  process.exit(0);
}

// Migrating needs only a database URL, not a whole production env.
const url = values.url ?? process.env.DATABASE_URL ?? (process.env.SUPABASE_URL ? undefined : loadEnv({ APP_ENV: "local" }).database.url);
if (!url) {
  console.error("pnpm db:migrate needs a Postgres URL: set DATABASE_URL (Supabase: Project Settings -> Database -> Connection string) or pass --url.");
  process.exit(1);
}

try {
  const applied = await migrate(url, "supabase/migrations", (line) => console.log(line));
  console.log(applied.length ? `${applied.length} migration(s) applied` : "database is up to date: nothing to apply");
} catch (err) {
  const msg = (err as Error).message;
  console.error(`migration failed: ${msg}`);
  if (/ECONNREFUSED|ENOTFOUND|timeout/i.test(msg)) console.error("Is PostgreSQL running, and is DATABASE_URL (or --url) right?");
  process.exit(1);
}
