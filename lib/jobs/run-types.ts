import type { Client } from "@upstash/qstash";
import type { Redis } from "@upstash/redis";
import type { Trigger } from "../auth";
import type { Db } from "../db/types";
import type { Env } from "../env";
import type { Logger } from "../log";
import type { Providers } from "../providers";
import type { JobStats } from "./define";
import type { LeaseTimes } from "./lease";
import type { Registry } from "./registry";
import type { Timers } from "./timers";

/**
 * What a run is given, asked and answers. Its own module so that run.ts and the two paths it hands
 * a run to (execute.ts, without-ledger.ts) share these types without importing each other.
 */
export interface RunDeps {
  db: Db;
  redis: Redis | undefined;
  env: Env;
  log: Logger;
  registry: Registry;
  /** Built from env and db when absent (deps assembled by hand). */
  providers?: Providers;
  clock?: () => Date;
  /** The run lease and its renewal (defaults in lease.ts); tests shorten them. */
  lease?: Partial<LeaseTimes>;
  /** The lease's, the fence's and the timeout's clock (the simulation's is virtual). */
  timers?: Timers;
  /** What retry runs are published with; built from env when absent. */
  qstash?: Pick<Client, "publishJSON">;
}

export interface RunRequest {
  job: string;
  /** Already parsed with the job's schema. */
  payload: unknown;
  trigger: Trigger;
  messageId?: string;
  scheduleId?: string;
  attempt?: number;
  jti?: string;
  jtiExpiresAt?: Date;
  /**
   * The slot a catch-up or backfill message runs (it names its slot): the ledger keys the run by
   * (job, slot), as it does a scheduled tick's, so a slot runs once whoever asks for it.
   */
  slotAt?: Date;
  /**
   * The work of one message run in this process instead of delivered (`job:run --in-process`):
   * never skipped and held to the job's concurrency, as a QStash one-time delivery is.
   */
  oneTime?: boolean;
  /**
   * Given (the HTTP routes): a run that passes its timeout is answered at once, as failed with a
   * TimeoutError, and its settlement is handed over here (keep it alive: `after()` on Vercel); the
   * run keeps its lease until the handler settles and is closed then. Absent (`pnpm job:run`):
   * runJob waits for the settlement before it answers.
   */
  continueAfterTimeout?: (settlement: Promise<void>) => void;
}

export type RunOutcome =
  | { status: "succeeded"; runId: string; stats: JobStats }
  /** `settling`: answered at the timeout while the handler still runs (and holds the lease). */
  | { status: "failed"; runId: string; error: unknown; settling?: boolean }
  | { status: "duplicate" | "skipped"; runId: string }
  | { status: "in_flight"; runId: string; retryAfterMs: number }
  /**
   * Deliver it again later: a message of a job at its concurrency limit, or (`buffered`) the one
   * tick of a buffer-one job waiting for the run that holds it, kept for the slot it arrived for.
   */
  | { status: "waiting"; heldBy: string; running: number; retryAfterMs: number; buffered?: { slotAt: Date | undefined } }
  | { status: "replay" };
