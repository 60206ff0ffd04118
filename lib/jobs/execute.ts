import { Client } from "@upstash/qstash";
import { alertRecovery, safely, type Recovered } from "../alerts/incidents";
import { describeError, TimeoutError } from "../errors";
import type { Logger } from "../log";
import { createProviders } from "../providers";
import { jobCompleted, type RunCompleted } from "../product-events";
import { providersWithSignal } from "../providers/bind";
import type { JobContext, JobDefinition, JobStats } from "./define";
import { keepLines, keptPayload, type KeptLines } from "./kept-lines";
import { holdLease, type Lease, type LeaseTimes } from "./lease";
import { scheduleRetryRun } from "./retry-run";
import type { RunDeps, RunOutcome, RunRequest } from "./run-types";
import { dbWithSignal } from "./scope";
import { realTimers } from "./timers";

type Settled = { ok: true; stats: JobStats } | { ok: false; error: unknown };

interface Run {
  job: JobDefinition;
  req: RunRequest;
  deps: RunDeps;
  runId: string;
  slotAt: Date | undefined;
  now: Date;
  timeoutMs: number;
  times: LeaseTimes;
  log: Logger;
  /** When the open was sent (timers.now()): the lease the ledger granted runs at least from then. */
  heldSince: number;
  /** The lines the close records (kept-lines.ts); set by executeRun. */
  kept?: KeptLines;
}

/**
 * Runs the handler of an opened run and closes it. At the timeout the run's signal aborts; a
 * handler that ignores it keeps renewing the lease until it settles, so no redelivery runs a
 * second copy beside it, and is then recorded as failed with a TimeoutError.
 */
export async function executeRun(run: Run): Promise<RunOutcome> {
  const kept = keepLines(run.log);
  const r: Run = { ...run, log: kept.log, kept };
  const { deps, req, runId, log } = r;
  const started = Date.now();
  log.info("job.run.started", { slotAt: r.slotAt?.toISOString() });
  const timers = deps.timers ?? realTimers;
  const ac = new AbortController();
  const lease = holdLease({ db: deps.db, runId, times: r.times, log, timers, heldSince: r.heldSince, onLost: (err) => ac.abort(err) });
  const ctx: JobContext<unknown> = {
    payload: req.payload,
    db: dbWithSignal(deps.db, ac.signal),
    // Recording what was done is not cancelled with the run: each call has the database's own bound.
    settleDb: deps.db,
    lease,
    redis: deps.redis,
    env: deps.env,
    log,
    providers: providersWithSignal(deps.providers ?? createProviders(deps.env, deps.db), ac.signal, () => lease.check()),
    now: r.now,
    signal: ac.signal,
    run: { id: runId, job: r.job.name, trigger: req.trigger, attempt: req.attempt ?? 0, messageId: req.messageId, scheduleId: req.scheduleId, slotAt: r.slotAt },
    runAgainAt: (at) =>
      scheduleRetryRun(retryDeps(deps), { job: r.job.name, payload: req.payload }, at, r.now).then(
        (how) => log.info("job.retry_run", { at: at.toISOString(), how }),
        (error: unknown) => log.warn("job.retry_run.failed", { at: at.toISOString(), error: describeError(error), hint: "its effects wait for the job's next scheduled run" }),
      ),
  };
  const settled: Promise<Settled> = Promise.resolve()
    .then(() => r.job.handler(ctx))
    .then(
      (stats) => ({ ok: true, stats: stats ?? {} }),
      (error: unknown) => ({ ok: false, error }),
    );
  let timer: unknown;
  const timedOut = new Promise<"timeout">((resolve) => (timer = timers.setTimeout(() => resolve("timeout"), r.timeoutMs)));
  const first = await Promise.race([settled, timedOut]);

  if (first !== "timeout") {
    timers.clearTimeout(timer);
    lease.stop();
    if (first.ok) {
      await close(r, "succeeded", first.stats, null);
      log.info("job.run.succeeded", { durationMs: Date.now() - started, stats: first.stats });
      return { status: "succeeded", runId, stats: first.stats };
    }
    await close(r, "failed", null, describeError(first.error));
    log.error("job.run.failed", { durationMs: Date.now() - started, error: describeError(first.error) });
    return { status: "failed", runId, error: first.error };
  }

  const timeout = new TimeoutError(r.timeoutMs);
  ac.abort(timeout);
  log.warn("job.run.timed_out", { timeoutMs: r.timeoutMs, note: "the signal is aborted; the run keeps its lease until the handler settles" });
  const settlement = settleLate(r, settled, timeout, lease);
  if (req.continueAfterTimeout) {
    req.continueAfterTimeout(settlement);
    return { status: "failed", runId, error: timeout, settling: true };
  }
  await settlement;
  return { status: "failed", runId, error: timeout };
}

/** Waits (within a grace period) for a handler past its timeout, then records the timeout. Never rejects. */
async function settleLate(r: Run, settled: Promise<Settled>, timeout: TimeoutError, lease: Lease): Promise<void> {
  const started = Date.now();
  const timers = r.deps.timers ?? realTimers;
  let grace: unknown;
  const abandoned = new Promise<"abandoned">((resolve) => (grace = timers.setTimeout(() => resolve("abandoned"), r.times.settleGraceMs)));
  const late = await Promise.race([settled, abandoned]);
  timers.clearTimeout(grace);
  lease.stop();
  if (late === "abandoned") {
    const error = {
      ...describeError(timeout),
      message: `${timeout.message}; it had still not settled ${r.times.settleGraceMs} ms later, so its lease was released and a later delivery may run the job again`,
    };
    await close(r, "failed", null, error);
    r.log.error("job.run.abandoned", { error });
    void settled.then(() => r.log.warn("job.run.settled_after_release", { afterMs: Date.now() - started }));
    return;
  }
  // What the handler did after all is kept beside the timeout: the answer was already given.
  const handler = late.ok ? { status: "succeeded", stats: late.stats } : { status: "failed", error: describeError(late.error) };
  const error = { ...describeError(timeout), handler, settledAfterTimeoutMs: Date.now() - started };
  await close(r, "failed", null, error);
  r.log.error("job.run.failed", { error });
}

/**
 * A close that fails must not turn finished work into a retry: the work is done and keyed. The
 * row stays 'running' until its lease lapses and the next open records it as failed; the log says so.
 */
async function close(r: Run, status: "succeeded" | "failed", stats: JobStats | null, error: unknown) {
  let closed: { duration_ms?: number; recovered?: Recovered } | undefined;
  try {
    // The payload and the kept lines ride on the close: the run page shows them, at no round trip.
    closed = await r.deps.db.rpc("job_run_close", { p_run_id: r.runId, p_status: status, p_stats: stats, p_error: error, p_payload: keptPayload(r.req.payload), p_logs: r.kept?.lines(status === "failed") ?? null });
  } catch (err) {
    r.log.error("job.run.close_failed", { status, error: describeError(err) });
  }
  // Every ending passes here once; off unless POSTHOG_KEY is set, and it never throws.
  const e = { job: r.job.name, runId: r.runId, trigger: r.req.trigger, status, stats, durationMs: closed?.duration_ms, error: error as RunCompleted["error"] };
  await jobCompleted(r.deps.env, e, r.log);
  // The close ended the job's open alert incident (a success, not a catch-up or backfill run, which
  // says nothing of whether the schedule fires again): its one recovery notice (never throws).
  const recovered = closed?.recovered;
  if (recovered) await safely(r.log, "recovery", r.job.name, () => alertRecovery(r.deps, r.job.name, recovered));
}

/** Best effort: a publish that fails is not retried here, the job's next tick retries the effects anyway. */
function retryDeps(deps: RunDeps) {
  const client = deps.qstash ?? new Client({ baseUrl: deps.env.qstash.url, token: deps.env.qstash.token, retry: false });
  return { env: deps.env, registry: deps.registry, db: deps.db, client: client as Client, clock: deps.clock };
}
