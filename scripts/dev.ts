import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { startEmbeddedPostgres } from "../dev/pglite";
import { migrate } from "../lib/db/migrate";
import { loadEnv } from "../lib/env";

/**
 * `pnpm dev`: the whole stack on this machine with no accounts. Embedded Postgres unless
 * DATABASE_URL is set, migrations, then Next.js. Ctrl-C stops everything it started.
 */
for (const file of [".env.local", ".env"]) if (existsSync(file)) process.loadEnvFile(file);

const PORT = Number(process.env.PORT ?? 3000);
const stops: (() => Promise<void>)[] = [];
const children: ChildProcess[] = [];
let stopping = false;

async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null && c.pid) killTree(c.pid);
  for (const stop of stops.reverse()) await stop().catch((e: Error) => console.error(`stop failed: ${e.message}`));
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

function killTree(pid: number) {
  try {
    process.kill(-pid, "SIGTERM"); // the child leads its own process group (detached)
  } catch {
    /* already gone */
  }
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer().once("error", () => resolve(false)).once("listening", () => s.close(() => resolve(true)));
    s.listen(port, "127.0.0.1");
  });
}

async function main() {
  const env = loadEnv({ ...process.env, APP_URL: process.env.APP_URL ?? `http://localhost:${PORT}` });
  if (env.mode !== "local") throw new Error("pnpm dev runs the local stack; unset APP_ENV / VERCEL_ENV.");
  if (!(await portFree(PORT))) throw new Error(`port ${PORT} is in use: stop the other process or run PORT=3001 pnpm dev.`);

  const childEnv: NodeJS.ProcessEnv = { ...process.env, APP_URL: env.appUrl, NEXT_TELEMETRY_DISABLED: "1" };
  let database = "PostgreSQL at DATABASE_URL";
  if (!process.env.DATABASE_URL) {
    const pg = await startEmbeddedPostgres({ dataDir: ".data/pglite" });
    stops.push(pg.stop);
    childEnv.DATABASE_URL = pg.url;
    // Connections to the embedded database share one session: one connection per process.
    childEnv.DATABASE_POOL_MAX = "1";
    database = `embedded PGlite (.data/pglite) at ${pg.url}`;
  }
  const applied = await migrate(childEnv.DATABASE_URL!, "supabase/migrations");

  const next = spawn("pnpm", ["exec", "next", "dev", "-p", String(PORT)], { env: childEnv, stdio: "inherit", detached: true });
  children.push(next);
  next.on("exit", (code) => void shutdown(code ?? 0));

  console.log(
    [
      "",
      "cronlayer local stack",
      `  app          ${env.appUrl}`,
      `  diagnostics  ${env.appUrl}/api/diagnostics  (Authorization: Bearer ${env.cronSecret})`,
      `  database     ${database}${applied.length ? ` (${applied.length} migration(s) applied)` : ""}`,
      `  run a job    curl -H "Authorization: Bearer ${env.cronSecret}" ${env.appUrl}/api/cron/cleanup-expired-reservations`,
      "  Ctrl-C stops everything.",
      "",
    ].join("\n"),
  );
}

main().catch(async (err: Error) => {
  console.error(`pnpm dev: ${err.message}`);
  await shutdown(1);
});
