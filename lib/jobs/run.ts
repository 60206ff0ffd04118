import type { Redis } from "@upstash/redis";
import type { Trigger } from "../auth";
import type { Db } from "../db/types";
import type { Env } from "../env";
import { describeError, TimeoutError } from "../errors";
import type { Logger } from "../log";
import { createProviders, type Providers } from "../providers";
import type { JobStats } from "./define";
import type { Registry } from "./registry";
import { slotOf } from "./schedules";

export interface RunDeps {
  db: Db;
  redis: Redis | undefined;
  env: Env;
  log: Logger;
  registry: Registry;
  /** Built from env and db when absent (deps assembled by hand). */
  providers?: Providers;
  clock?: () => Date;
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
}

export type RunOutcome =
  | { status: "succeeded"; runId: string; stats: JobStats }
  | { status: "failed"; runId: string; error: unknown }
  | { status: "duplicate" | "skipped"; runId: string }
  | { status: "in_flight"; runId: string; retryAfterMs: number }
  | { status: "replay" };

type OpenDecision =
  | { decision: "run"; run_id: string }
  | { decision: "duplicate" | "skip"; run_id: string }
  | { decision: "in_flight"; run_id: string; retry_after_ms: number }
  | { decision: "replay" };

/**
 * One run: open it in the ledger (which decides run / duplicate / skip / in flight / replay),
 * run the handler under the job's timeout, close it. Shared by the routes and `pnpm job:run`.
 */
export async function runJob(req: RunRequest, deps: RunDeps): Promise<RunOutcome> {
  const job = deps.registry.get(req.job);
  if (!job) throw new Error(`unknown job "${req.job}"`);
  const { timeoutMs, overlap } = deps.registry.settingsOf(req.job);
  const now = (deps.clock ?? (() => new Date()))();
  const schedule = deps.registry.scheduleOf(req.job);
  const scheduled = req.trigger === "vercel" || (req.trigger === "qstash" && req.scheduleId !== undefined);
  const slotAt = scheduled && schedule ? slotOf(schedule, now) : undefined;

  const open = await deps.db.rpc<OpenDecision>("job_run_open", {
    p_job: req.job,
    p_trigger: req.trigger,
    p_message_id: req.messageId ?? null,
    p_schedule_id: req.scheduleId ?? null,
    p_attempt: req.attempt ?? 0,
    p_jti: req.jti ?? null,
    p_jti_expires_at: req.jtiExpiresAt ?? null,
    p_overlap: overlap,
    p_lease_ms: timeoutMs,
    p_slot_at: slotAt ?? null,
  });
  const log = deps.log.child({ job: req.job, messageId: req.messageId, retried: req.attempt, trigger: req.trigger });
  switch (open.decision) {
    case "replay":
      log.warn("job.run.replay", { reason: "signature jti already used" });
      return { status: "replay" };
    case "duplicate":
      log.info("job.run.duplicate", { runId: open.run_id });
      return { status: "duplicate", runId: open.run_id };
    case "skip":
      log.info("job.run.skipped", { runId: open.run_id, reason: "another run holds the lease" });
      return { status: "skipped", runId: open.run_id };
    case "in_flight":
      log.info("job.run.in_flight", { runId: open.run_id, retryAfterMs: open.retry_after_ms });
      return { status: "in_flight", runId: open.run_id, retryAfterMs: open.retry_after_ms };
  }

  const runId = open.run_id;
  const runLog = log.child({ runId });
  runLog.info("job.run.started", { slotAt: slotAt?.toISOString() });
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new TimeoutError(timeoutMs);
      ac.abort(err);
      reject(err);
    }, timeoutMs);
  });
  try {
    const ctx = {
      payload: req.payload,
      db: deps.db,
      redis: deps.redis,
      env: deps.env,
      log: runLog,
      providers: deps.providers ?? createProviders(deps.env, deps.db),
      now,
      signal: ac.signal,
      run: { id: runId, trigger: req.trigger, attempt: req.attempt ?? 0, messageId: req.messageId, scheduleId: req.scheduleId, slotAt },
    };
    // A handler that ignores the signal still loses the race: the run is answered and recorded.
    const stats = (await Promise.race([job.handler(ctx), timedOut])) ?? {};
    await close(deps, runLog, runId, "succeeded", stats, null);
    runLog.info("job.run.succeeded", { stats });
    return { status: "succeeded", runId, stats };
  } catch (error) {
    await close(deps, runLog, runId, "failed", null, describeError(error));
    runLog.error("job.run.failed", { error: describeError(error) });
    return { status: "failed", runId, error };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A close that fails must not turn finished work into a retry: the work is done and keyed. The
 * row stays 'running' until its lease ends and the next open records it as failed; the log says so.
 */
async function close(deps: RunDeps, log: Logger, runId: string, status: "succeeded" | "failed", stats: JobStats | null, error: unknown) {
  try {
    await deps.db.rpc("job_run_close", { p_run_id: runId, p_status: status, p_stats: stats, p_error: error });
  } catch (err) {
    log.error("job.run.close_failed", { status, error: describeError(err) });
  }
}
