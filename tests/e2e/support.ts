import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { connect, createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { migrate } from "../../lib/db/migrate";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const NEXT_BIN = path.join(ROOT, "node_modules/next/dist/bin/next");

/** A port nobody listens on right now (the OS picks it; a tiny race remains until the app binds it). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => srv.once("error", reject).listen(0, "127.0.0.1", resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

export interface E2eDatabase {
  url: string;
  sql: postgres.Sql;
  drop(): Promise<void>;
}

/**
 * A database of its own on the test PostgreSQL, migrated with the production runner. The app under
 * test runs real registry jobs (keep-alive, cleanup-expired-reservations) whose overlap leases and
 * ledger rows would otherwise collide with the integration tests that run the same jobs in parallel.
 */
export async function createE2eDatabase(testDatabaseUrl: string, name = "cronlayer_e2e"): Promise<E2eDatabase> {
  const admin = postgres(testDatabaseUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(testDatabaseUrl);
  url.pathname = `/${name}`;
  await migrate(url.toString(), path.join(ROOT, "supabase/migrations"));
  const sql = postgres(url.toString(), { max: 2, onnotice: () => {} });
  return {
    url: url.toString(),
    sql,
    async drop() {
      await sql.end({ timeout: 5 });
      const a = postgres(testDatabaseUrl, { max: 1, onnotice: () => {} });
      try {
        await a.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await a.end();
      }
    },
  };
}

export interface NextApp {
  url: string;
  port: number;
  /** The status of each warm-up request, by path. */
  warmedUp: Record<string, number>;
  /** Everything the app printed so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

// What a child process needs from ours; the rest of the test worker's env (NODE_ENV=test, vitest's
// variables, LOG_LEVEL) must not leak into the app.
const PASS_THROUGH = ["PATH", "HOME", "TMPDIR", "LANG", "TZ"];

/**
 * `next dev` (Turbopack) on 127.0.0.1:<port> in its own process group, so that stop() ends it and
 * every worker it spawned. Resolves once each `warmUp` path has answered an unsigned POST: Next
 * compiles a route on its first request (seconds), which the tests should not pay for.
 */
export async function startNextDev(env: Record<string, string>, o: { port: number; warmUp: string[]; readyTimeoutMs?: number; distDir?: string }): Promise<NextApp> {
  return startNext("dev", env, { ...o, distDir: o.distDir ?? ".next-e2e" });
}

/** The environment a child Next process gets: ours minus the test worker's own variables. */
export function childBaseEnv(): Record<string, string> {
  return Object.fromEntries(PASS_THROUGH.flatMap((k) => (process.env[k] === undefined ? [] : [[k, process.env[k]!]])));
}

/** `next build` into its own folder, as a deployment would build it (the env given and nothing else). */
export function buildNext(distDir: string, env: Record<string, string> = {}, timeoutMs = 240_000): void {
  const childEnv: Record<string, string> = { ...childBaseEnv(), NEXT_TELEMETRY_DISABLED: "1", NEXT_DIST_DIR: distDir, ...env };
  const r = spawnSync(process.execPath, [NEXT_BIN, "build"], {
    cwd: ROOT,
    env: childEnv as NodeJS.ProcessEnv,
    encoding: "utf8",
    timeout: timeoutMs,
  });
  if (r.status !== 0) throw new Error(`next build failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
}

/** `next start` of a build made by buildNext, as `next start` on a VM or in a container runs it. */
export async function startNextProduction(env: Record<string, string>, o: { port: number; distDir: string; warmUp?: string[] }): Promise<NextApp> {
  return startNext("start", env, { ...o, warmUp: o.warmUp ?? [] });
}

async function startNext(command: "dev" | "start", env: Record<string, string>, o: { port: number; warmUp: string[]; distDir: string; readyTimeoutMs?: number }): Promise<NextApp> {
  const args = command === "dev" ? ["dev", "--turbopack"] : ["start"];
  const child = spawn(process.execPath, [NEXT_BIN, ...args, "-p", String(o.port), "-H", "127.0.0.1"], {
    cwd: ROOT,
    // NODE_ENV as Next sets it itself (the worker's is "test", which Next warns about).
    env: { ...childBaseEnv(), NODE_ENV: command === "dev" ? "development" : "production", NEXT_TELEMETRY_DISABLED: "1", NEXT_DIST_DIR: o.distDir, ...env },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const keep = (b: Buffer) => {
    out = (out + b.toString("utf8")).slice(-20_000);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  // A test worker that dies without afterAll still takes the app down with it.
  const killOnExit = () => killGroup(child, "SIGKILL");
  process.once("exit", killOnExit);

  const url = `http://127.0.0.1:${o.port}`;
  const stop = async () => {
    process.off("exit", killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    killGroup(child, "SIGTERM");
    const done = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]);
    if (!done) {
      killGroup(child, "SIGKILL");
      await exited;
    }
  };
  const fail = async (what: string): Promise<never> => {
    // Next 16 locks <distDir>/dev after it starts listening: a second e2e run here exits at once.
    await Promise.race([exited, sleep(1_000)]);
    await stop();
    const hint = out.includes("Another next dev server is already running")
      ? "\nAnother end-to-end run holds .next-e2e/dev/lock: let it finish, then run the tests again."
      : "";
    throw new Error(`next ${command} ${what}.${hint}\nOutput:\n${out}`);
  };

  const deadline = Date.now() + (o.readyTimeoutMs ?? 45_000);
  while (!(await listening(o.port))) {
    if (child.exitCode !== null) await fail(`exited with code ${child.exitCode} before it listened`);
    if (Date.now() > deadline) await fail(`did not listen at ${url} within ${o.readyTimeoutMs ?? 45_000} ms`);
    await sleep(200);
  }
  const warmedUp: Record<string, number> = {};
  for (const path of o.warmUp) {
    try {
      const res = await fetch(`${url}${path}`, { method: "POST", body: "{}", signal: AbortSignal.timeout(Math.max(1_000, deadline - Date.now())) });
      warmedUp[path] = res.status;
    } catch (err) {
      await fail(`did not answer POST ${path} (${(err as Error).message})`);
    }
  }
  return { url, port: o.port, warmedUp, output: () => out, stop };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals) {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
