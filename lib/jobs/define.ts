import type { Redis } from "@upstash/redis";
import { z } from "zod";
import type { Trigger } from "../auth";
import type { Db } from "../db/types";
import type { Env } from "../env";
import type { Logger } from "../log";
import type { Providers } from "../providers";

/**
 * What a scheduled tick does while another run of its job holds the lease: `skip` it, `allow` it to
 * run alongside, or `buffer-one`: the first tick to arrive waits (429 + Retry-After, QStash delivers
 * it again) and runs after the holder with its own slot; any other tick meanwhile skips.
 */
export type Overlap = "skip" | "allow" | "buffer-one";
export const OVERLAPS: readonly Overlap[] = ["skip", "allow", "buffer-one"];
export type JobStats = Record<string, unknown>;

/**
 * A limit on the runs of one-time and event deliveries (messages carry their own work, so they
 * are never skipped): a delivery that finds `limit` runs holding the job (or holding its key) is
 * answered 429 + Retry-After and QStash delivers it again later.
 */
export interface Concurrency<P = unknown> {
  limit: number;
  /** Counts runs per key instead of per job, e.g. `(p) => p.formId` for one run per form. */
  key?: (payload: P) => string;
}

export interface RunInfo {
  id: string;
  /** The job's name: effects are kept per job. */
  job: string;
  trigger: Trigger;
  attempt: number;
  messageId: string | undefined;
  scheduleId: string | undefined;
  /** The cron tick this run belongs to, for scheduled runs. */
  slotAt: Date | undefined;
}

/** What a handler gets: everything it may touch, nothing about HTTP. */
export interface JobContext<P> {
  payload: P;
  db: Db;
  redis: Redis | undefined;
  env: Env;
  log: Logger;
  /** Stripe, email, notifications, Google OAuth, Slack: live, or the outbox in local mode. */
  providers: Providers;
  /** The time the run started; handlers use it instead of `new Date()` so tests can fix time. */
  now: Date;
  /**
   * Aborted when the job's timeout passes (or the run lost its lease); `db` and `providers` already
   * carry it, pass it to anything else that waits (fetch, long loops).
   */
  signal: AbortSignal;
  run: RunInfo;
  /**
   * The database for recording what the run did (runEffects' settle and release): not cancelled
   * by the run's timeout, so what completed is recorded; each call has the database's own bound.
   */
  settleDb: Db;
  /** The run's hold on its job: `check()` throws LeaseLostError once the run may no longer make effects. */
  lease: { check(): void };
  /**
   * Asks for another run of this job (same payload) at `at` when its next tick comes later:
   * runEffects calls it for effects that are due again. Never throws; a failure is logged.
   */
  runAgainAt(at: Date): Promise<void>;
}

/**
 * What a job may still do when its run cannot be opened because the database is down: no ledger,
 * no `db`. Its providers live outside the database; in local mode they record to the outbox, which
 * is in the database, so they fail too.
 */
export interface LedgerDownContext extends Pick<JobContext<unknown>, "redis" | "env" | "log" | "providers" | "now" | "signal"> {
  /** Why the run could not be opened. */
  error: unknown;
}

export interface JobDefinition<S extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  payload: S;
  timeoutMs: number;
  overlap: Overlap;
  concurrency: Concurrency<z.output<S>> | undefined;
  handler: (ctx: JobContext<z.output<S>>) => Promise<JobStats | void>;
  /** Run instead of the handler when the ledger cannot be opened (the heartbeat's alert); the delivery still fails. */
  withoutLedger: ((ctx: LedgerDownContext) => Promise<void>) | undefined;
}

const NAME = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const emptyPayload = z.object({});
const RESERVED = ["failed"];

export function defineJob<S extends z.ZodType = typeof emptyPayload>(def: {
  name: string;
  description: string;
  payload?: S;
  timeoutMs?: number;
  overlap?: Overlap;
  concurrency?: Concurrency<z.output<S>>;
  handler: (ctx: JobContext<z.output<S>>) => Promise<JobStats | void>;
  withoutLedger?: (ctx: LedgerDownContext) => Promise<void>;
}): JobDefinition<S> {
  if (!NAME.test(def.name)) throw new Error(`Job name "${def.name}" must be kebab-case (a-z, 0-9, '-'): it becomes a URL path.`);
  if (RESERVED.includes(def.name)) throw new Error(`Job name "${def.name}" is reserved: /api/jobs/${def.name} is a route of its own.`);
  const timeoutMs = def.timeoutMs ?? 60_000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new Error(`Job "${def.name}": timeoutMs must be a positive integer.`);
  if (def.overlap !== undefined && !OVERLAPS.includes(def.overlap)) throw new Error(`Job "${def.name}": unknown overlap "${String(def.overlap)}". Use ${OVERLAPS.join(", ")}.`);
  const limit = def.concurrency?.limit;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new Error(`Job "${def.name}": concurrency.limit must be a whole number of at least 1, got ${limit}. Leave concurrency out to run every delivery.`);
  }
  return {
    name: def.name,
    description: def.description,
    payload: (def.payload ?? emptyPayload) as S,
    timeoutMs,
    overlap: def.overlap ?? "skip",
    concurrency: def.concurrency,
    handler: def.handler,
    withoutLedger: def.withoutLedger,
  };
}
