import { DEFAULT_DB_TIMEOUTS } from "../db/timeouts";
import { executeRun } from "./execute";
import { leaseTimes } from "./lease";
import type { RunDeps, RunOutcome, RunRequest } from "./run-types";
import { slotOf } from "./schedules";
import { realTimers } from "./timers";
import { runWithoutLedger } from "./without-ledger";

export type { RunDeps, RunOutcome, RunRequest } from "./run-types";

type OpenDecision =
  | { decision: "run"; run_id: string; slot_at?: string | null }
  | { decision: "duplicate"; run_id: string }
  /** reason: "overlap", "slot running" (a doubled tick), "another tick waits" (buffer-one's place is taken). */
  | { decision: "skip"; run_id: string; held_by: string; reason?: string }
  | { decision: "in_flight"; run_id: string; retry_after_ms: number }
  | { decision: "wait"; held_by: string; running: number; retry_after_ms: number }
  | { decision: "buffered"; held_by: string; running: number; retry_after_ms: number; slot_at: string | null }
  | { decision: "replay" };

const DB_CALL_MS = DEFAULT_DB_TIMEOUTS.callMs;
const SKIP_REASONS: Record<string, string> = {
  overlap: "another run holds the lease",
  "slot running": "a run of the same slot is running (a doubled tick)",
  "another tick waits": "another run holds the lease and another tick already waits for it (overlap buffer-one)",
};

/**
 * A scheduled tick (Vercel cron, a QStash schedule, a run by hand or from the CLI) may be skipped
 * while another run holds its job: the next tick does the same sweep. A QStash delivery without a
 * schedule id is a one-time or event message that carries its own work: never skipped; so are
 * catch-up and backfill runs, each the one run of its slot.
 */
export function isTick(req: Pick<RunRequest, "trigger" | "scheduleId" | "oneTime">): boolean {
  if (req.oneTime) return false;
  switch (req.trigger) {
    case "qstash":
      return req.scheduleId !== undefined;
    case "catch-up":
    case "backfill":
      return false;
    default:
      return true;
  }
}

/**
 * One run: open it in the ledger (which decides run / duplicate / skip / in flight / wait /
 * replay), run the handler under the job's timeout while renewing its lease, close it. Shared by
 * the routes and `pnpm job:run`.
 */
export async function runJob(req: RunRequest, deps: RunDeps): Promise<RunOutcome> {
  const job = deps.registry.get(req.job);
  if (!job) throw new Error(`unknown job "${req.job}"`);
  const { timeoutMs, overlap } = deps.registry.settingsOf(req.job);
  const times = leaseTimes(deps.lease);
  const now = (deps.clock ?? (() => new Date()))();
  const schedule = deps.registry.scheduleOf(req.job);
  const scheduled = req.trigger === "vercel" || (req.trigger === "qstash" && req.scheduleId !== undefined);
  const tick = isTick(req);
  const concurrency = tick ? undefined : job.concurrency;
  const timers = deps.timers ?? realTimers;
  const heldSince = timers.now();

  const open = await deps.db.rpc<OpenDecision>("job_run_open", {
    p_job: req.job,
    p_trigger: req.trigger,
    p_message_id: req.messageId ?? null,
    p_schedule_id: req.scheduleId ?? null,
    p_attempt: req.attempt ?? 0,
    p_jti: req.jti ?? null,
    p_jti_expires_at: req.jtiExpiresAt ?? null,
    p_overlap: overlap,
    p_lease_ms: times.leaseMs,
    // A catch-up or backfill names its slot; a tick's is the latest of its schedule's ticks.
    p_slot_at: req.slotAt ?? ((scheduled && schedule && slotOf(schedule, now)) || null),
    p_kind: tick ? "tick" : "message",
    p_timeout_ms: timeoutMs,
    p_concurrency: concurrency?.limit ?? null,
    p_concurrency_key: concurrency?.key ? concurrency.key(req.payload) : null,
    // Past the database call's own bound this delivery is answered 500 and retried: an open that
    // reaches the database later must not leave a run that nobody runs.
    p_deadline: new Date(timers.wall() + DB_CALL_MS),
    p_renew_ms: times.renewMs,
  }).catch(async (err: unknown) => {
    // Nothing ran and nothing is recorded; the caller answers 500 so the delivery is retried.
    await runWithoutLedger(job, deps, err, timeoutMs);
    throw err;
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
      log.info("job.run.skipped", { runId: open.run_id, heldBy: open.held_by, reason: SKIP_REASONS[open.reason ?? "overlap"] ?? open.reason });
      return { status: "skipped", runId: open.run_id };
    case "in_flight":
      log.info("job.run.in_flight", { runId: open.run_id, retryAfterMs: open.retry_after_ms });
      return { status: "in_flight", runId: open.run_id, retryAfterMs: open.retry_after_ms };
    case "wait":
      log.info("job.run.waiting", { heldBy: open.held_by, running: open.running, limit: concurrency?.limit, retryAfterMs: open.retry_after_ms });
      return { status: "waiting", heldBy: open.held_by, running: open.running, retryAfterMs: open.retry_after_ms };
    case "buffered": {
      // Recorded on the holder's row (buffered_message_id, buffered_slot_at, buffered_at) too.
      const slotAt = open.slot_at ? new Date(open.slot_at) : undefined;
      log.info("job.run.buffered", { heldBy: open.held_by, slotAt, retryAfterMs: open.retry_after_ms, reason: "overlap buffer-one: the one tick waiting for the run that holds the job" });
      return { status: "waiting", heldBy: open.held_by, running: open.running, retryAfterMs: open.retry_after_ms, buffered: { slotAt } };
    }
  }

  // A retry keeps the slot of its message's first attempt (the ledger's answer), not today's tick.
  const slotAt = open.slot_at ? new Date(open.slot_at) : undefined;
  return executeRun({ job, req, deps, runId: open.run_id, slotAt, now, timeoutMs, times, heldSince, log: log.child({ runId: open.run_id }) });
}
