import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { embeddedPostgres, localApp, localQStash, portClashes, redisBridge, waitForApp, warmRoutes, type Part } from "../dev/stack";
import { listenForKeys } from "../dev/keys";
import { readVercelCrons, startVercelCronTicker } from "../dev/vercel-cron";
import { migrate } from "../lib/db/migrate";
import { claimStack } from "../lib/cli/local-stack";
import { loadEnv, LOCAL_QSTASH } from "../lib/env";
import { qstashClient } from "../lib/qstash/publish";
import { syncSchedules } from "../lib/qstash/sync";

/**
 * `pnpm dev`: the whole stack on this machine with no accounts and no binaries. Embedded Postgres
 * unless DATABASE_URL is set, migrations, the local QStash server unless QSTASH_URL points elsewhere,
 * a Redis REST bridge when a Redis server answers, Next.js, the Vercel-cron ticker, and the registry
 * synced to QStash. Ctrl-C stops everything it started.
 */
for (const file of [".env.local", ".env"]) if (existsSync(file)) process.loadEnvFile(file);

const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const PORT = num("PORT", 3000);
const parts: Part[] = [];
const children: ChildProcess[] = [];
let stopTicker = () => {};
let stopping = false;
let claim: ReturnType<typeof claimStack> | undefined;
let banner = "";
const stopKeys = listenForKeys({ stop: () => void shutdown(0), banner: () => console.log(banner) });

async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  stopTicker();
  for (const c of children) {
    try {
      if (c.exitCode === null && c.pid) process.kill(-c.pid, "SIGTERM"); // the child leads its own process group
    } catch {
      /* already gone */
    }
  }
  // Next's last words (its workers restore the cursor) come before ours, not after the shell's prompt.
  await Promise.all(children.map((c) => c.pid && groupGone(c.pid, 5_000)));
  for (const p of parts.reverse()) await p.stop().catch((e: Error) => console.error(`stopping ${p.name} failed: ${e.message}`));
  claim?.release();
  stopKeys();
  if (code === 0) console.log("stopped");
  process.exit(code);
}
async function groupGone(pgid: number, timeoutMs: number) {
  for (const until = Date.now() + timeoutMs; Date.now() < until; await new Promise((r) => setTimeout(r, 50))) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return;
    }
  }
}
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

/** One line per start-up step with its time, so the wait before the banner is never silent. */
async function step<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const t = Date.now();
  const out = await fn();
  console.log(`  ${label} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  return out;
}

async function main() {
  console.log("starting the local stack ...");
  const appUrl = process.env.APP_URL ?? `http://localhost:${PORT}`;
  if (process.env.APP_ENV && process.env.APP_ENV !== "local") throw new Error(`pnpm dev runs the local stack, but APP_ENV is ${process.env.APP_ENV}: unset it (pnpm dev sets APP_ENV=local).`);
  // Local mode is opt-in, and this is where it is opted into; loadEnv refuses it on a public APP_URL.
  loadEnv({ ...process.env, APP_ENV: "local", APP_URL: appUrl });
  const app = localApp({ ...process.env, APP_URL: appUrl }, PORT, Boolean(process.stdout.isTTY));
  // Before anything opens .data: a second pnpm dev in this checkout stops here, naming the first.
  claim = claimStack();
  const embedded = !process.env.DATABASE_URL && !process.env.SUPABASE_URL;
  const ownQStash = !process.env.QSTASH_URL || process.env.QSTASH_URL === LOCAL_QSTASH.url;
  const ports = {
    app: { port: PORT, host: app.host, variable: "PORT" },
    db: embedded ? { port: num("PGLITE_PORT", 54329), variable: "PGLITE_PORT" } : undefined,
    qstash: ownQStash ? { port: num("QSTASH_PORT", 8080), variable: "QSTASH_PORT" } : undefined,
    redis: process.env.UPSTASH_REDIS_REST_URL ? undefined : { port: num("REDIS_BRIDGE_PORT", 8079), variable: "REDIS_BRIDGE_PORT" },
  };
  const clashes = await portClashes(Object.values(ports).filter((p) => p !== undefined));
  if (clashes.length) throw new Error(`ports in use: ${clashes.map((c) => `${c.port} (${c.variable})`).join(", ")}. Stop what holds them, or set ${clashes.map((c) => c.variable).join(", ")} to free ports.`);

  const childEnv = app.env;
  const real: string[] = [];
  if (ports.db) parts.push(await step("embedded database", () => embeddedPostgres(ports.db!.port)));
  else real.push(`database     ${process.env.SUPABASE_URL ? `Supabase at ${process.env.SUPABASE_URL}` : "PostgreSQL at DATABASE_URL"}`);
  if (ports.qstash) parts.push(await step("local QStash server", () => localQStash(ports.qstash!.port)));
  else real.push(`qstash       ${process.env.QSTASH_URL}`);
  if (ports.redis) {
    const redisPort = ports.redis.port;
    const bridge = await step("Redis bridge", () => redisBridge(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", redisPort));
    if (bridge) parts.push(bridge);
    else real.push("redis        none: no Redis server answered at REDIS_URL (diagnostics show not_configured)");
  } else real.push(`redis        ${process.env.UPSTASH_REDIS_REST_URL}`);
  for (const p of parts) Object.assign(childEnv, p.env);
  const env = loadEnv(childEnv);
  // What the CLI needs to find this stack (pnpm job:run, qstash:stats, db:seed).
  // A database of the user's own (DATABASE_URL) is recorded too: pnpm db:migrate migrates what the stack uses.
  const ownDatabase = process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {};
  claim.update(Object.assign({ APP_URL: appUrl }, ownDatabase, ...parts.map((p) => p.env)) as Record<string, string>);

  if (env.database.kind === "postgres") {
    const url = env.database.url;
    const applied = await step("migrations", () => migrate(url, "supabase/migrations"));
    if (applied.length) console.log(`  applied ${applied.length} migration(s)`);
  }

  // Tethered: Next ends with this process, even when it is killed outright (dev/tether.ts).
  const next = spawn(process.execPath, [...process.execArgv, "dev/tether.ts", "pnpm", ...app.args], { env: childEnv, stdio: ["pipe", "inherit", "inherit"], detached: true });
  children.push(next);
  // Next ended by SIGINT or SIGTERM (130, 143) was stopped, not crashed: a Ctrl-C that reached it
  // before this process is the same clean stop, not a failure to report.
  next.on("exit", (code) => void shutdown(code === 130 || code === 143 ? 0 : (code ?? 0)));
  await step("Next.js: first answer", () => waitForApp(`http://127.0.0.1:${PORT}/api/diagnostics`));
  await step("Next.js: job routes and sign-in compiled", () =>
    warmRoutes(`http://127.0.0.1:${PORT}`, ["/api/jobs/heartbeat", "/api/cron/heartbeat", "/api/jobs/failed", "GET /ops/login", "/ops/session", "GET /ops"]),
  );
  for (const p of parts) p.ready?.();

  const ticker = startVercelCronTicker({ appUrl: env.appUrl, cronSecret: env.cronSecret, crons: readVercelCrons(), log: (l) => console.log(`[vercel-cron] ${l}`) });
  stopTicker = () => ticker.stop();
  // The registry loads every job (and its SDKs): only now, so the steps above start at once.
  const { composeRegistry, loadAppEnv } = await import("../config/app");
  const { products } = loadAppEnv(env.source);
  const registry = composeRegistry(products);
  const sync = await step("schedules", () => syncSchedules(qstashClient(env), env, registry));
  const synced =
    sync.status === "applied" || sync.status === "in-sync"
      ? `${sync.plan?.items.length ?? 0} schedule(s) ${sync.status === "in-sync" ? "already in sync" : `synced (${sync.applied.length} change(s))`}`
      : `NOT synced (${sync.status}): ${sync.messages.join("; ")}`;

  const secret = env.cronSecret ?? "";
  banner = [
      "",
      "cronlayer local stack",
      `  app          ${env.appUrl}`,
      `  diagnostics  curl -H "Authorization: Bearer ${secret}" ${env.appUrl}/api/diagnostics`,
      // OPS_PASSWORD is the user's own: named, never printed; the local secret is public anyway.
      `  console      ${env.appUrl}/ops/login  (password: ${env.ops.password === secret ? secret : "your OPS_PASSWORD"})`,
      ...parts.map((p) => `  ${p.name.padEnd(12)} ${p.line}`),
      ...real.map((r) => `  ${r}  (real)`),
      `  schedules    ${synced}; the heartbeat job runs every minute`,
      `  vercel cron  ${ticker.jobs.map((j) => `${j.path} next ${j.cron.nextRun()?.toISOString()}`).join(", ")}`,
      `  run a job    curl -H "Authorization: Bearer ${secret}" ${env.appUrl}/api/cron/cleanup-expired-reservations`,
      // A product API takes its own key, never CRON_SECRET; a key of the user's own is named, not printed.
      ...products.flatMap(({ api }) => (api ? [`  api          ${env.appUrl}${api.path}  Authorization: Bearer ${env.source[api.key.variable] ? `$${api.key.variable}` : api.key.localValue}`] : [])),
      `  Ctrl-C stops everything${process.stdin.isTTY ? "; b prints this banner again" : ""}.`,
      "",
    ].join("\n");
  console.log(banner);
}

main().catch(async (err: Error) => {
  console.error(`pnpm dev: ${err.message}`);
  await shutdown(1);
});
