import { parseArgs } from "node:util";
import postgres from "postgres";
import { enabledProducts } from "@/config/products";
import { loadCliEnv } from "@/lib/cli/context";

const HELP = `Usage: pnpm db:seed [--url postgres://...]

Gives each product this deployment enables (PRODUCTS; all of them locally) a small, realistic
set of rows around the current time, so that each job has something to do on its first runs under
pnpm dev (each product's seed.ts says what). Running it again replaces the previous seed (rows under
@seed.cronlayer.test, patients on +1 555 01xx), nothing else.

Database: --url, else DATABASE_URL, else the database of the pnpm dev running from this checkout
(.data/stack.json), else postgres://postgres@127.0.0.1:5432/postgres (it says so). Apply migrations first (pnpm db:migrate;
pnpm dev does it).`;

const { values } = parseArgs({ options: { url: { type: "string" }, help: { type: "boolean", short: "h" } } });
if (values.help) {
  console.log(HELP);
  process.exit(0);
}

async function databaseUrl(): Promise<string> {
  if (values.url) return values.url;
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  const { env, databaseNote } = loadCliEnv();
  if (databaseNote) console.error(`note: ${databaseNote}`);
  if (env.database.kind !== "postgres") throw new Error("pnpm db:seed needs a Postgres URL: set DATABASE_URL (Supabase: Project Settings -> Database) or pass --url.");
  return env.database.url;
}

/** Each enabled product's seed, in one transaction; the lines each answers say what to try. */
async function seed(sql: postgres.Sql, now: Date): Promise<string[]> {
  // PRODUCTS picks the products to seed, else all of them: the seed is for a database to try the
  // jobs on, so production's "PRODUCTS is required" does not apply to it.
  const products = enabledProducts({ PRODUCTS: process.env.PRODUCTS, APP_ENV: "local" });
  const lines: string[] = [];
  await sql.begin(async (tx) => {
    for (const p of products) if (p.seed) lines.push(...(await p.seed(tx, now)));
  });
  return lines;
}

try {
  const url = await databaseUrl();
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    const lines = await seed(sql, new Date());
    console.log(`seeded ${url.replace(/\/\/[^@]*@/, "//***@")}:`);
    for (const line of lines) console.log(line);
  } finally {
    await sql.end({ timeout: 5 });
  }
} catch (err) {
  const msg = (err as Error).message;
  console.error(`pnpm db:seed failed: ${msg}`);
  if (/relation .* does not exist/.test(msg)) console.error("The schema is missing: run pnpm db:migrate first (pnpm dev does it).");
  if (/ECONNREFUSED|timeout/i.test(msg)) console.error("Is PostgreSQL running? Set DATABASE_URL or pass --url.");
  process.exit(1);
}
