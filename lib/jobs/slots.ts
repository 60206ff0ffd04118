import { scheduleCron, type Schedule } from "./schedules";

type CronSpec = Pick<Schedule, "expression" | "timezone">;

/**
 * The cron's ticks in [from, to), in the schedule's zone, with the same cron as `slotOf`, so
 * every slot listed here is exactly the `slot_at` a run arriving for it records.
 * Daylight-saving days follow croner: a single time in the skipped hour fires at the first instant
 * after it, one in the repeated hour once, at its first occurrence; a cron with another tick
 * shortly before departs from that (decision 005 says how), and the UTC crons do the same.
 */
export function slotsBetween(schedule: CronSpec, from: Date, to: Date, limit = 100_000): Date[] {
  const cron = scheduleCron(schedule);
  const slots: Date[] = [];
  let cursor = new Date(from.getTime() - 1);
  for (;;) {
    const next = cron.nextRun(cursor);
    if (!next || next.getTime() >= to.getTime()) return slots;
    if (slots.length === limit) {
      throw new RangeError(`"${schedule.expression}" (${schedule.timezone}) has more than ${limit} slots between ${from.toISOString()} and ${to.toISOString()}: use a shorter window.`);
    }
    slots.push(next);
    cursor = next;
  }
}

/** The expected slots that no ledger row claims (`seen`: slot_at values, as Dates or ISO strings). */
export function missedSlots(expected: readonly Date[], seen: Iterable<Date | string>): Date[] {
  const got = new Set<number>();
  for (const s of seen) got.add(new Date(s).getTime());
  return expected.filter((slot) => !got.has(slot.getTime()));
}
