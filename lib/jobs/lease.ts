import type { Db } from "../db/types";
import { describeError } from "../errors";
import type { Logger } from "../log";

/**
 * A run holds its job through a short lease that it renews while its handler runs: a process that
 * dies (kill -9, a frozen or recycled function) frees the job within one lease, while a live run,
 * even one past its timeout, keeps the job until it has settled. A run that ends before the first
 * renewal costs no database call for it.
 */
export const RUN_LEASE_MS = 30_000;
export const RUN_RENEW_MS = 10_000;
/**
 * How long past its timeout a handler that ignores its signal may keep the job. After that the
 * run is closed and its lease released, so a handler stuck for good cannot block its job for ever.
 */
export const RUN_SETTLE_GRACE_MS = 10 * 60_000;

export interface LeaseTimes {
  leaseMs: number;
  renewMs: number;
  settleGraceMs: number;
}

export const DEFAULT_LEASE: LeaseTimes = { leaseMs: RUN_LEASE_MS, renewMs: RUN_RENEW_MS, settleGraceMs: RUN_SETTLE_GRACE_MS };

export function leaseTimes(overrides: Partial<LeaseTimes> | undefined): LeaseTimes {
  const t = { ...DEFAULT_LEASE, ...overrides };
  for (const [k, v] of Object.entries(t)) if (!Number.isInteger(v) || v < 1) throw new Error(`lease setting ${k} must be a positive whole number of ms, got ${v}`);
  if (t.renewMs >= t.leaseMs) throw new Error(`the lease (${t.leaseMs} ms) must be longer than the renewal interval (${t.renewMs} ms), or it lapses between renewals`);
  return t;
}

/** Someone recorded this run as failed while it was still alive: its lease had lapsed. */
export class LeaseLostError extends Error {
  override name = "LeaseLostError";
  constructor(readonly runId: string) {
    super(`run ${runId} lost its lease (it could not renew it in time and another delivery took the job over); stopping it`);
  }
}

/**
 * Renews the run's lease every `renewMs` until stopped. A renewal that finds the run no longer
 * running calls `onLost`; one that fails (database unreachable) is retried at the next tick, and the
 * lease it could not extend may lapse: that is the price of never blocking a job on a dead holder.
 */
export function holdLease(opts: { db: Db; runId: string; times: LeaseTimes; log: Logger; onLost: (err: LeaseLostError) => void }): { stop(): void } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    try {
      // Bounded by the interval: a renewal stuck on a frozen connection must not delay the next one.
      const r = await opts.db.rpc<{ renewed: boolean }>(
        "job_run_renew",
        { p_run_id: opts.runId, p_lease_ms: opts.times.leaseMs },
        { signal: AbortSignal.timeout(opts.times.renewMs) },
      );
      if (stopped) return;
      if (!r.renewed) {
        stopped = true;
        const err = new LeaseLostError(opts.runId);
        opts.log.error("job.run.lease_lost", { error: describeError(err) });
        opts.onLost(err);
        return;
      }
    } catch (err) {
      opts.log.warn("job.run.lease_renew_failed", { error: describeError(err), leaseMs: opts.times.leaseMs });
    }
    if (!stopped) timer = setTimeout(tick, opts.times.renewMs);
  };
  timer = setTimeout(tick, opts.times.renewMs);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
