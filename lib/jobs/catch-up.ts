import type { Db } from "../db/types";
import { describeError } from "../errors";
import type { CatchUp, Schedule } from "./schedules";
import { slotsBetween } from "./slots";

/** A schedule as the slot sweep sees it. */
export interface SweptSchedule extends Pick<Schedule, "job" | "expression" | "timezone"> {
  catchUp: CatchUp;
  /** Slots before this are not expected (QStash's createdAt of the schedule). */
  since?: Date;
  /** Why no tick reaches it, when known (its schedule is missing in QStash): said in the alert. */
  note?: string;
  /** No creation time to go by (missing in QStash): only slots after the job's latest run are its misses. */
  afterLastRun?: boolean;
}

export type Decision = "catch-up" | "covered" | "missed";
export interface Decided {
  job: string;
  slot: Date;
  decision: Decision;
}

export interface SweepResult {
  expected: number;
  /** Decisions this sweep made (another sweep's are not repeated). */
  decided: Decided[];
  published: number;
  errors: string[];
}

export const SWEEP = {
  /** A slot this recent may still be on its way: a delivery takes seconds, its first retry 12 s. */
  graceMs: 3 * 60_000,
  /** How far back beyond a schedule's window the sweep still records missed slots. */
  lookbackMs: 60 * 60_000,
};

/**
 * What to do with a schedule's unseen slots (oldest first): within the catch-up window, one run
 * for the latest (a sweep covers the older ones) or one per slot (`each`); older, missed.
 */
export function decide(s: Pick<SweptSchedule, "job" | "catchUp">, unseen: readonly Date[], now: Date): Decided[] {
  const from = now.getTime() - s.catchUp.windowMs;
  const inWindow = (d: Date) => s.catchUp.windowMs > 0 && d.getTime() >= from;
  const latest = [...unseen].reverse().find(inWindow);
  return unseen.map((slot) => ({
    job: s.job,
    slot,
    decision: !inWindow(slot) ? "missed" : s.catchUp.each || slot === latest ? "catch-up" : "covered",
  }));
}

/**
 * The slots no delivery reached, each decided once (schedule_slots' key: a concurrent sweep's
 * decisions are not repeated here). Publish the catch-ups with `publishCatchUps` after alerting,
 * so the alert comes before the run that recovers the incident.
 */
export async function decideSlots(db: Db, schedules: readonly SweptSchedule[], now: Date, opts: Partial<typeof SWEEP> = {}): Promise<SweepResult> {
  const o = { ...SWEEP, ...opts };
  const to = new Date(now.getTime() - o.graceMs);
  const items = schedules.map((s) => {
    const start = new Date(now.getTime() - s.catchUp.windowMs - o.lookbackMs);
    // A schedule fires after its creation, not at it: a slot at createdAt itself is not expected.
    const after = s.since ? new Date(s.since.getTime() + 1) : start;
    const slots = slotsBetween(s, after > start ? after : start, to);
    return { job: s.job, slots: slots.map((d) => d.toISOString()), after_last_run: s.afterLastRun ?? false };
  });
  const result: SweepResult = { expected: items.reduce((n, i) => n + i.slots.length, 0), decided: [], published: 0, errors: [] };
  if (!result.expected) return result;
  const unseen = await db.rpc<Record<string, string[]>>("schedule_slots_unseen", { p_items: items.filter((i) => i.slots.length) });
  const proposed = schedules.flatMap((s) => decide(s, (unseen[s.job] ?? []).map((t) => new Date(t)), now));
  if (!proposed.length) return result;
  const made = await db.rpc<{ job: string; slot: string; decision: Decision }[]>("schedule_slots_decide", {
    p_items: proposed.map((d) => ({ job: d.job, slot: d.slot.toISOString(), decision: d.decision })),
    p_now: now,
  });
  result.decided = made.map((m) => ({ job: m.job, slot: new Date(m.slot), decision: m.decision }));
  return result;
}

/**
 * One run published per catch-up decision still without its message: this sweep's, and earlier
 * ones whose publish failed while they are within their window. Each run is keyed by its slot in
 * the ledger, so a late tick or a person cannot make it twice.
 */
export async function publishCatchUps(
  deps: { db: Db; publish: (job: string, slot: Date) => Promise<{ messageId: string }> },
  schedules: readonly SweptSchedule[],
  now: Date,
  result: SweepResult,
): Promise<void> {
  const windows = new Map(schedules.map((s) => [s.job, s.catchUp.windowMs]));
  if (!windows.size) return;
  const earlier = await deps.db.rpc<{ job: string; slot: string }[]>("schedule_slots_unpublished", { p_since: new Date(now.getTime() - Math.max(...windows.values())) });
  const due = earlier.map((e) => ({ job: e.job, slot: new Date(e.slot) })).filter((e) => windows.has(e.job) && e.slot.getTime() >= now.getTime() - windows.get(e.job)!);
  for (const { job, slot } of due) {
    try {
      const { messageId } = await deps.publish(job, slot);
      await deps.db.rpc("schedule_slots_published", { p_job: job, p_slot: slot, p_message_id: messageId });
      result.published++;
    } catch (err) {
      result.errors.push(`catch-up of ${job} ${slot.toISOString()} not published (the next sweep tries again): ${describeError(err).message}`);
    }
  }
}
