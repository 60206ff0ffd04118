import { existsSync } from "node:fs";
import type { Client } from "@upstash/qstash";
import { createDeps } from "../deps";
import { isDeclared, isLoopback, loadEnv, type Env } from "../env";
import type { Registry } from "../jobs/registry";
import type { RunDeps } from "../jobs/run";
import { createLogger } from "../log";
import { operatorClient } from "../qstash/client";
import { processIo, type Io } from "./io";
import { runningStack, type StackRecord } from "./local-stack";

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

export function createCliContext(opts: {
  env: Env;
  registry: Registry;
  io?: Io;
  qstash?: Client;
  deps?: RunDeps;
  now?: () => Date;
  logLevel?: Env["logLevel"];
  /** Said once, when the command first opens the database (e.g. which database it fell back to). */
  databaseNote?: string;
}): CliContext {
  const io = opts.io ?? processIo();
  let client = opts.qstash;
  let deps = opts.deps;
  const ownDeps = opts.deps === undefined;
  return {
    env: opts.env,
    registry: opts.registry,
    io,
    qstash: () => (client ??= operatorClient(opts.env)),
    deps: () => {
      if (!deps && opts.databaseNote) io.err(`note: ${opts.databaseNote}`);
      return (deps ??= {
        ...createDeps(opts.env, opts.registry),
        // Logs go to stderr so stdout carries only the command's answer (and valid --json).
        log: createLogger(opts.logLevel ?? opts.env.logLevel, { via: "cli" }, (line) => io.err(line)),
      });
    },
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
export function loadCliEnv(): { env: Env; databaseNote: string | undefined } {
  for (const file of [".env.local", ".env"]) if (existsSync(file)) process.loadEnvFile(file);
  let databaseNote: string | undefined;
  const env = loadEnv(withLocalStack(withScriptDefaults(process.env), runningStack(), (line) => (databaseNote = line)));
  return { env, databaseNote };
}

/**
 * In local mode without a database of its own, a command uses the stack `pnpm dev` runs from this
 * checkout (its banner's variables; those already set win), or says that none is running.
 */
export function withLocalStack(source: Record<string, string | undefined>, stack: StackRecord | undefined, note: (line: string) => void): Record<string, string | undefined> {
  if (source.APP_ENV !== "local" || source.DATABASE_URL || source.SUPABASE_URL) return source;
  if (stack) return { ...stack.env, ...definedOnly(source) };
  note(`no local stack is running (pnpm dev); using ${loadEnv({ APP_ENV: "local" }).database.url ?? "the default database"}. Start pnpm dev, or set DATABASE_URL.`);
  return source;
}

const definedOnly = (source: Record<string, string | undefined>) => Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ""));

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
