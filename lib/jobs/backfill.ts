import { DateTime } from "luxon";
import type { Db } from "../db/types";
import type { Registry } from "./registry";
import type { Schedule } from "./schedules";
import { slotsBetween } from "./slots";

/** More slots than this is refused unless raised: QStash's free plan delivers 1,000 messages a day. */
export const MAX_BACKFILL_SLOTS = 1000;

/** A backfill the operator must change (exit 2 in the CLI, a notice in the console). */
export class BackfillRefusal extends Error {
  override name = "BackfillRefusal";
}

export interface BackfillSlot {
  at: Date;
  /** A succeeded run of this slot is in the ledger: it is not published again. */
  done: boolean;
}

export interface BackfillPlan {
  job: string;
  schedule: Pick<Schedule, "cron" | "expression" | "timezone">;
  from: Date;
  to: Date;
  slots: BackfillSlot[];
  toRun: Date[];
}

/**
 * An instant as an operator types it: ISO with a zone (`2026-12-01T06:00Z`, `...+05:30`), or a
 * date or local time without one (`2026-12-01`, `2026-12-01T18:00`), read in the schedule's zone.
 */
export function parseInstant(text: string, zone: string, name: string): Date {
  const dt = DateTime.fromISO(text.trim(), { zone, setZone: false });
  if (!text.trim() || !dt.isValid) {
    throw new BackfillRefusal(`${name} "${text}" is not a date or an ISO instant: use 2026-12-01 (midnight in ${zone}), 2026-12-01T18:00 (in ${zone}) or 2026-12-01T12:30:00Z`);
  }
  return dt.toJSDate();
}

/**
 * The slots of `job` in [from, to), in its schedule's zone (as the ledger records them), each
 * marked done when a succeeded run of it is in the ledger. Refused: an unknown or unscheduled job,
 * an empty or reversed range, one that reaches past `now` (the schedule runs those), one with more
 * than `max` slots.
 */
export async function planBackfill(
  deps: { db: Db; registry: Registry },
  job: string,
  range: { from: string; to: string },
  /** `maxHint`: how the caller raises the limit (the CLI's --max), said when it is reached. */
  opts: { now: Date; max?: number; maxHint?: string },
): Promise<BackfillPlan> {
  if (!deps.registry.get(job)) throw new BackfillRefusal(`unknown job "${job}". Scheduled jobs: ${deps.registry.schedules.map((s) => s.job).sort().join(", ")}.`);
  const schedule = deps.registry.scheduleOf(job);
  if (!schedule) throw new BackfillRefusal(`${job} has no schedule, so it has no slots to backfill: publish its runs with their payloads instead.`);
  const from = parseInstant(range.from, schedule.timezone, "from");
  const to = parseInstant(range.to, schedule.timezone, "to");
  if (from.getTime() >= to.getTime()) throw new BackfillRefusal(`from (${from.toISOString()}) must be before to (${to.toISOString()}): the range is [from, to).`);
  if (to.getTime() > opts.now.getTime()) {
    throw new BackfillRefusal(`to (${to.toISOString()}) is in the future (now ${opts.now.toISOString()}): a backfill runs past slots only, the schedule runs the coming ones.`);
  }
  const max = opts.max ?? MAX_BACKFILL_SLOTS;
  let slots: Date[];
  try {
    slots = slotsBetween(schedule, from, to, max);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    throw new BackfillRefusal(`more than ${max} slots of "${schedule.expression}" (${schedule.timezone}) between ${from.toISOString()} and ${to.toISOString()}: backfill a shorter range${opts.maxHint ? `, or ${opts.maxHint}` : ""} (each slot is one QStash message).`);
  }
  const done = new Set(slots.length ? await deps.db.rpc<number[]>("job_slots_done", { p_job: job, p_slots: slots }) : []);
  const marked = slots.map((at) => ({ at, done: done.has(at.getTime()) }));
  return {
    job,
    schedule: { cron: schedule.cron, expression: schedule.expression, timezone: schedule.timezone },
    from,
    to,
    slots: marked,
    toRun: marked.filter((s) => !s.done).map((s) => s.at),
  };
}
