import type { Db } from "../db/types";
import { missedSlots, slotsBetween } from "./slots";

export interface WatchedSchedule {
  job: string;
  expression: string;
  timezone: string;
  /** Slots before this are not expected (the schedule did not exist yet: QStash's createdAt). */
  since?: Date;
  /** Known elsewhere not to fire (missing or paused in QStash): reported there, not slot by slot. */
  skipSlots?: boolean;
}

export interface RunFailure {
  job: string;
  run_id: string;
  slot_at: string | null;
  started_at: string;
  attempt: number;
  error: { name?: string; message?: string } | null;
}
export interface SlowRun {
  job: string;
  run_id: string;
  started_at: string;
  duration_ms: number;
  median_ms: number;
}
export interface PartialRun {
  job: string;
  run_id: string;
  started_at: string;
  failed: number;
}

export interface WatchdogFindings {
  from: Date;
  to: Date;
  jobs: number;
  expectedSlots: number;
  missed: { job: string; slots: Date[] }[];
  failures: RunFailure[];
  slow: SlowRun[];
  partial: PartialRun[];
}

type LedgerView = Record<string, { slots: string[]; failures: Omit<RunFailure, "job">[]; slow: Omit<SlowRun, "job">[]; partial: Omit<PartialRun, "job">[] }>;

export const WATCHDOG = {
  windowMs: 24 * 3_600_000,
  /** A slot this recent may still be on its way (delivery, retries): not missed yet. */
  graceMs: 10 * 60_000,
  /** Slow: over this many times the median of the job's successful runs of the last 7 days... */
  slowFactor: 3,
  /** ...and at least this much over it, so 30 ms against 10 ms is not news. */
  slowMinExtraMs: 10_000,
};

/**
 * The last 24 h of the scheduled jobs, from the ledger: slots without a run, deliveries that ended
 * failed, runs far beyond their usual duration, and runs that succeeded with failed items.
 */
export async function watch(db: Db, schedules: readonly WatchedSchedule[], now: Date, opts: Partial<typeof WATCHDOG> = {}): Promise<WatchdogFindings> {
  const o = { ...WATCHDOG, ...opts };
  const from = new Date(now.getTime() - o.windowMs);
  const to = now;
  const view = schedules.length
    ? await db.rpc<LedgerView>("watchdog_ledger", {
        p_jobs: schedules.map((s) => s.job),
        p_from: from,
        p_to: to,
        p_slow_factor: o.slowFactor,
        p_slow_min_extra_ms: o.slowMinExtraMs,
      })
    : {};
  const findings: WatchdogFindings = { from, to, jobs: schedules.length, expectedSlots: 0, missed: [], failures: [], slow: [], partial: [] };
  for (const s of schedules) {
    const v = view[s.job] ?? { slots: [], failures: [], slow: [], partial: [] };
    if (!s.skipSlots) {
      const start = s.since && s.since > from ? s.since : from;
      const expected = slotsBetween(s, start, new Date(to.getTime() - o.graceMs));
      findings.expectedSlots += expected.length;
      const missed = missedSlots(expected, v.slots);
      if (missed.length) findings.missed.push({ job: s.job, slots: missed });
    }
    findings.failures.push(...v.failures.map((f) => ({ job: s.job, ...f })));
    findings.slow.push(...v.slow.map((f) => ({ job: s.job, ...f })));
    findings.partial.push(...v.partial.map((f) => ({ job: s.job, ...f })));
  }
  return findings;
}

export const hasFindings = (f: WatchdogFindings) => f.missed.length + f.failures.length + f.slow.length + f.partial.length > 0;

export function summarize(f: WatchdogFindings) {
  return {
    jobs: f.jobs,
    expectedSlots: f.expectedSlots,
    missed: f.missed.reduce((n, m) => n + m.slots.length, 0),
    failed: f.failures.length,
    slow: f.slow.length,
    partial: f.partial.length,
  };
}
