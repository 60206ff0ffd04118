import { DateTime, IANAZone } from "luxon";

/** A weekly window in one zone: `start`/`end` as `HH:MM`, `days` ISO weekdays (1 = Monday ... 7 = Sunday). */
export interface BusinessHours {
  zone: string;
  start: string;
  end: string;
  days: number[];
}

export const DEFAULT_BUSINESS_HOURS: Omit<BusinessHours, "zone"> = { start: "09:00", end: "17:00", days: [1, 2, 3, 4, 5] };

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

export class BusinessHoursError extends Error {
  override name = "BusinessHoursError";
  constructor(
    readonly field: "zone" | "start" | "end" | "days",
    message: string,
  ) {
    super(message);
  }
}

export function isValidZone(zone: string): boolean {
  return IANAZone.isValidZone(zone);
}

/** What is wrong with a window, naming the field; undefined when it is usable. */
export function businessHoursProblem(h: BusinessHours): BusinessHoursError | undefined {
  if (!isValidZone(h.zone)) return new BusinessHoursError("zone", `zone: unknown time zone "${h.zone}" (use an IANA name such as Europe/Lisbon)`);
  for (const field of ["start", "end"] as const) {
    if (!HHMM.test(h[field])) return new BusinessHoursError(field, `${field}: "${h[field]}" is not a time of day as HH:MM (00:00 to 23:59)`);
  }
  if (h.start >= h.end) return new BusinessHoursError("end", `end: ${h.end} must be after start ${h.start} (windows across midnight are not supported)`);
  if (!h.days.length || h.days.some((d) => !Number.isInteger(d) || d < 1 || d > 7)) {
    return new BusinessHoursError("days", `days: ${JSON.stringify(h.days)} must be ISO weekdays, 1 (Monday) to 7 (Sunday), at least one`);
  }
  return undefined;
}

/**
 * The first instant at or after `at` inside `[start, end)` on one of `days`, in `zone`: `end`
 * itself is closed, and an instant outside the window moves to the next allowed day's start.
 * Wall times are the zone's, as luxon knows them; a start that falls in a DST gap opens at the
 * first instant after the gap.
 */
export function nextBusinessInstant(at: Date, hours: BusinessHours): Date {
  const problem = businessHoursProblem(hours);
  if (problem) throw problem;
  const [start, end] = [wall(hours.start), wall(hours.end)];
  const local = DateTime.fromJSDate(at, { zone: hours.zone });
  // Eight days: with a single allowed weekday, today's window may be over and the next is a week on.
  for (let d = 0; d <= 7; d++) {
    const day = local.startOf("day").plus({ days: d });
    if (!hours.days.includes(day.weekday)) continue;
    const open = firstAtOrAfter(day, start);
    const close = firstAtOrAfter(day, end);
    if (at.getTime() < open.toMillis()) return open.toJSDate();
    if (at.getTime() < close.toMillis()) return at;
  }
  // Unreachable: some allowed weekday falls within any eight consecutive days.
  throw new Error("no business day found within a week");
}

function wall(hhmm: string): { hour: number; minute: number } {
  const [hour, minute] = hhmm.split(":").map(Number) as [number, number];
  return { hour, minute };
}

/**
 * The instant the wall clock of `day`'s zone first shows `t` or later on that date. Luxon puts a
 * wall time that does not exist (a spring-forward gap) the gap's length later; the gap itself ends
 * earlier, at the first minute whose wall time is past `t`, so step back to it.
 */
function firstAtOrAfter(day: DateTime, t: { hour: number; minute: number }): DateTime {
  const dt = day.set({ hour: t.hour, minute: t.minute, second: 0, millisecond: 0 });
  if (dt.hour === t.hour && dt.minute === t.minute && dt.hasSame(day, "day")) return dt;
  let first = dt;
  for (let i = 0; i < 24 * 60; i++) {
    const before = first.minus({ minutes: 1 });
    if (!after(before, day, t)) return first;
    first = before;
  }
  return dt;
}

/** Whether `dt` shows, on `day`'s date or later, a wall time at or past `t`. */
function after(dt: DateTime, day: DateTime, t: { hour: number; minute: number }): boolean {
  if (!dt.hasSame(day, "day")) return dt > day;
  return dt.hour * 60 + dt.minute >= t.hour * 60 + t.minute;
}
