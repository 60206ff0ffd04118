import type { Db } from "../db/types";
import { describeError } from "../errors";
import type { Logger } from "../log";
import type { Timers } from "./timers";

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
  // The fence closes half a lease after the last confirmed renewal: a healthy run renews before that.
  if (t.renewMs * 2 >= t.leaseMs) throw new Error(`the lease (${t.leaseMs} ms) must be more than twice the renewal interval (${t.renewMs} ms), or a healthy run fences itself between renewals`);
  return t;
}

/** The run can no longer prove it holds its job: someone recorded it as failed, or it could not renew for half its lease, or it has closed. */
export class LeaseLostError extends Error {
  override name = "LeaseLostError";
  constructor(
    readonly runId: string,
    why = "lost its lease (it could not renew it in time and another delivery took the job over)",
  ) {
    super(`run ${runId} ${why}; it makes no more effects`);
  }
}

export interface Lease {
  /** Throws LeaseLostError unless the run still holds its lease with half of it to spare: called before every provider call. */
  check(): void;
  stop(): void;
}

/**
 * Renews the run's lease every `renewMs` until stopped, and fences the run: half a lease after the
 * last renewal the database confirmed (counted from when it was sent, so the database's lease ends
 * at least half a lease later), `onLost` aborts the run and `check` refuses every further provider
 * call. Only then may the ledger (job_run_open, effects_claim) hand its job and claims to another
 * run, so two runs never make effects for the same claim at once.
 */
export function holdLease(opts: { db: Db; runId: string; times: LeaseTimes; log: Logger; timers: Timers; heldSince: number; onLost: (err: LeaseLostError) => void }): Lease {
  const { timers, times } = opts;
  let lost: LeaseLostError | undefined;
  let stopped = false;
  let confirmedAt = opts.heldSince;
  let renewTimer: unknown;
  let fenceTimer: unknown;
  const lose = (err: LeaseLostError) => {
    if (lost || stopped) return;
    lost = err;
    timers.clearTimeout(renewTimer);
    timers.clearTimeout(fenceTimer);
    opts.log.error("job.run.lease_lost", { error: describeError(err) });
    opts.onLost(err);
  };
  const halfLeaseLeft = () => confirmedAt + times.leaseMs / 2 - timers.now();
  const armFence = () => {
    timers.clearTimeout(fenceTimer);
    fenceTimer = timers.setTimeout(() => {
      if (halfLeaseLeft() <= 0) lose(new LeaseLostError(opts.runId, `could not renew its lease for half of it (${times.leaseMs / 2} ms)`));
      else armFence();
    }, Math.max(0, halfLeaseLeft()));
  };
  const tick = async () => {
    const sentAt = timers.now();
    try {
      // Bounded by the interval: a renewal stuck on a frozen connection must not delay the next one.
      const r = await opts.db.rpc<{ renewed: boolean }>("job_run_renew", { p_run_id: opts.runId, p_lease_ms: times.leaseMs }, { signal: AbortSignal.timeout(times.renewMs) });
      if (stopped || lost) return;
      if (!r.renewed) return lose(new LeaseLostError(opts.runId));
      confirmedAt = Math.max(confirmedAt, sentAt);
    } catch (err) {
      opts.log.warn("job.run.lease_renew_failed", { error: describeError(err), leaseMs: times.leaseMs });
    }
    if (!stopped && !lost) renewTimer = timers.setTimeout(() => void tick(), times.renewMs);
  };
  renewTimer = timers.setTimeout(() => void tick(), times.renewMs);
  armFence();
  return {
    check() {
      if (lost) throw lost;
      if (stopped) throw new LeaseLostError(opts.runId, "has closed");
      if (halfLeaseLeft() <= 0) {
        lose(new LeaseLostError(opts.runId, `could not renew its lease for half of it (${times.leaseMs / 2} ms)`));
        throw lost;
      }
    },
    stop() {
      stopped = true;
      timers.clearTimeout(renewTimer);
      timers.clearTimeout(fenceTimer);
    },
  };
}
