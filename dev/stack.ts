import { createServer } from "node:net";
import { Redis as IORedis } from "ioredis";
import { startEmbeddedPostgres } from "./pglite";
import { startQStashServer } from "./qstash/server";
import { startRedisBridge } from "./redis-bridge/server";

/** The local stand-ins `pnpm dev` starts, each returning how to stop it and what to tell the user. */
export interface Part {
  name: string;
  line: string;
  env: Record<string, string>;
  stop: () => Promise<void>;
  /** Called once the app answers and its routes are compiled: starts what would call it. */
  ready?: () => void;
}

/**
 * How `pnpm dev` starts the app: in local mode, which it opts into here, and on this machine only,
 * since the local secret and signing keys are public; HOST=0.0.0.0 (or an address) shares it.
 */
export function localApp(source: Record<string, string | undefined>, port: number, terminal = false): { host: string; args: string[]; env: NodeJS.ProcessEnv } {
  const host = source.HOST || "127.0.0.1";
  const env: Record<string, string | undefined> = { ...source, APP_ENV: "local", NEXT_TELEMETRY_DISABLED: "1" };
  // A person reads a terminal: one short line per run, unless they asked for JSON.
  if (terminal && !source.LOG_FORMAT) env.LOG_FORMAT = "pretty";
  return { host, args: ["exec", "next", "dev", "-H", host, "-p", String(port)], env: env as NodeJS.ProcessEnv };
}

export async function portFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer()
      .once("error", () => resolve(false))
      .once("listening", () => s.close(() => resolve(true)));
    s.listen(port, host);
  });
}

/** Every port of `wanted` that is taken, so that one message can name them all. */
export async function portClashes<T extends { port: number; host?: string }>(wanted: T[]): Promise<T[]> {
  const free = await Promise.all(wanted.map((w) => portFree(w.port, w.host)));
  return wanted.filter((_, i) => !free[i]);
}

async function needPort(port: number, what: string, variable: string) {
  if (!(await portFree(port))) throw new Error(`port ${port} is in use (${what}): stop the other process, or set ${variable} to another port.`);
}

export async function embeddedPostgres(port: number): Promise<Part> {
  await needPort(port, "embedded Postgres", "PGLITE_PORT");
  const pg = await startEmbeddedPostgres({ dataDir: ".data/pglite", port });
  return {
    name: "database",
    line: `embedded PGlite (.data/pglite) at ${pg.url}`,
    // One session behind a gate: any pool is safe (the CLI's too), but more connections would only wait.
    env: { DATABASE_URL: pg.url, DATABASE_POOL_MAX: "1" },
    stop: pg.stop,
  };
}

export async function localQStash(port: number): Promise<Part> {
  await needPort(port, "local QStash", "QSTASH_PORT");
  // Held until the app answers: ticks due meanwhile (persisted schedules) wait instead of failing.
  const qs = await startQStashServer({ port, stateFile: ".data/qstash.json", holdDeliveries: true });
  return {
    name: "qstash",
    line: `local QStash server at ${qs.url} (state in .data/qstash.json)`,
    env: { QSTASH_URL: qs.url, QSTASH_TOKEN: qs.token, QSTASH_CURRENT_SIGNING_KEY: qs.currentSigningKey, QSTASH_NEXT_SIGNING_KEY: qs.nextSigningKey },
    stop: qs.close,
    ready: () => qs.releaseDeliveries(),
  };
}

/** A Redis REST bridge when a Redis server answers at `redisUrl`; otherwise undefined (not_configured). */
export async function redisBridge(redisUrl: string, port: number): Promise<Part | undefined> {
  const probe = new IORedis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1000, retryStrategy: () => null });
  try {
    await probe.connect();
    await probe.ping();
  } catch {
    return undefined;
  } finally {
    probe.disconnect();
  }
  await needPort(port, "Redis REST bridge", "REDIS_BRIDGE_PORT");
  const token = "local-redis-token";
  const bridge = await startRedisBridge({ redisUrl, token, port });
  return {
    name: "redis",
    line: `Redis REST bridge at ${bridge.url} -> ${redisUrl}`,
    env: { UPSTASH_REDIS_REST_URL: bridge.url, UPSTASH_REDIS_REST_TOKEN: token },
    stop: bridge.close,
  };
}

/**
 * Compiles the routes deliveries go to before the first one arrives: under `next dev` the first
 * request to a route compiles it, which can outlast a job's timeout. OPTIONS compiles a route
 * handler without running it (Next answers 204 itself), so nothing is refused or logged as a
 * warning; a page (`GET`) is rendered once, so the first person to open it does not wait.
 */
export async function warmRoutes(appUrl: string, paths: readonly string[]): Promise<void> {
  for (const p of paths) {
    const [method, path] = p.startsWith("GET ") ? ["GET", p.slice(4)] : ["OPTIONS", p];
    // Not followed: /ops answers a visitor without a session with a redirect, after it is compiled.
    await fetch(`${appUrl}${path}`, { method, redirect: "manual" })
      .then((r) => r.arrayBuffer())
      .catch(() => undefined);
  }
}

/**
 * Waits until the app answers, so schedules are synced to something that can take deliveries.
 * OPTIONS: the app's readiness, not its health (GET diagnostics would log a 503 while the stack starts).
 */
export async function waitForApp(url: string, timeoutMs = 120_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      const res = await fetch(url, { method: "OPTIONS" });
      await res.arrayBuffer();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  throw new Error(`the app did not answer at ${url} within ${timeoutMs / 1000} s`);
}
