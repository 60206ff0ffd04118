import { existsSync } from "node:fs";
import type { Client } from "@upstash/qstash";
import { createDeps } from "../deps";
import { isDeclared, isLoopback, loadEnv, type Env } from "../env";
import type { Registry } from "../jobs/registry";
import type { RunDeps } from "../jobs/run";
import { createLogger } from "../log";
import { operatorClient } from "../qstash/client";
import { processIo, type Io } from "./io";

/** What every command gets: env, registry, where to write, and lazily built clients. */
export interface CliContext {
  env: Env;
  registry: Registry;
  io: Io;
  qstash(): Client;
  /** Run dependencies (database, Redis, logger to stderr), opened on first use. */
  deps(): RunDeps;
  now(): Date;
  /** Closes whatever was opened (the database pool keeps the process alive otherwise). */
  close(): Promise<void>;
}

export function createCliContext(opts: { env: Env; registry: Registry; io?: Io; qstash?: Client; deps?: RunDeps; now?: () => Date; logLevel?: Env["logLevel"] }): CliContext {
  const io = opts.io ?? processIo();
  let client = opts.qstash;
  let deps = opts.deps;
  const ownDeps = opts.deps === undefined;
  return {
    env: opts.env,
    registry: opts.registry,
    io,
    qstash: () => (client ??= operatorClient(opts.env)),
    deps: () =>
      (deps ??= {
        ...createDeps(opts.env, opts.registry),
        // Logs go to stderr so stdout carries only the command's answer (and valid --json).
        log: createLogger(opts.logLevel ?? opts.env.logLevel, { via: "cli" }, (line) => io.err(line)),
      }),
    now: opts.now ?? (() => new Date()),
    async close() {
      if (ownDeps && deps) await deps.db.close();
    },
  };
}

/**
 * The scripts' env: `.env.local` then `.env` (as `pnpm dev` and Next.js read them; variables already
 * set win), validated by the one env module. Only scripts call this: it touches process.env.
 */
export function loadCliEnv(): Env {
  for (const file of [".env.local", ".env"]) if (existsSync(file)) process.loadEnvFile(file);
  return loadEnv(withScriptDefaults(process.env));
}

/**
 * A script is not a server: nothing can reach the local keys through it. Beside `pnpm dev` (no
 * database, or one on this machine, and no public APP_URL) it runs in local mode without being
 * told. Against any other database it needs APP_ENV like a server does, so `pnpm job:run` can
 * never move money through a stand-in on a real database.
 */
export function withScriptDefaults(source: Record<string, string | undefined>): Record<string, string | undefined> {
  if (isDeclared(source)) return source;
  const database = source.SUPABASE_URL || source.DATABASE_URL;
  if (database && !isLoopback(database)) return source;
  if (source.APP_URL && !isLoopback(source.APP_URL)) return source;
  return { ...source, APP_ENV: "local" };
}
