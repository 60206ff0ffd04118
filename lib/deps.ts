import { createDb } from "./db";
import { loadEnv, type Env } from "./env";
import type { RunDeps } from "./jobs/run";
import type { Registry } from "./jobs/registry";
import { createLogger } from "./log";
import { createProviders } from "./providers";
import { createRedis } from "./redis";

export function createDeps(env: Env, registry: Registry): RunDeps {
  const db = createDb(env.database);
  return { env, registry, db, redis: createRedis(env.redis), log: createLogger(env.logLevel, {}, undefined, env.logFormat), providers: createProviders(env, db) };
}

/** Built once per server instance, on first use, from process.env. */
export function lazyDeps(registry: () => Registry): () => Promise<RunDeps> {
  let deps: Promise<RunDeps> | undefined;
  return () => (deps ??= Promise.resolve().then(() => createDeps(loadEnv(process.env), registry())));
}
