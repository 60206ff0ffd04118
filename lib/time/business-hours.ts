import { DateTime, IANAZone } from "luxon";
import { offsetAt, offsetChanges } from "./offset-changes";

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
 * The first instant at or after `at` inside the window: the first instant whose wall clock in
 * `zone` (as luxon knows it, whatever the server's zone) shows one of `days` and a time in
 * `[start, end)`. `end` itself is closed; an instant outside the window moves to the next allowed
 * day's start. On the days clocks change, the wall clock decides:
 * - a window partly inside a spring-forward gap opens at the first instant after the gap
 *   (New York 02:30-17:00 opens at 03:00 EDT); a window wholly inside the gap does not exist that
 *   day, so the answer is the next allowed day's window (New York 02:00-02:30 on the spring-forward
 *   Sunday: Monday 02:00);
 * - a window in a repeated hour opens at its first pass and is open again during the second (the
 *   clock shows those times twice); a repeated midnight (Havana) does not move the day's window.
 */
export function nextBusinessInstant(at: Date, hours: BusinessHours): Date {
  const problem = businessHoursProblem(hours);
  if (problem) throw problem;
  const window = { start: minutes(hours.start), end: minutes(hours.end), days: hours.days, zone: hours.zone };
  if (isInside(at.getTime(), window)) return at;
  // A week and a day holds the next window; with one allowed weekday, a gap that swallows that
  // window puts the next one two weeks on. Searching the short range first keeps most calls cheap.
  for (const days of [8, 22]) {
    const open = firstOpening(at.getTime(), days, window);
    if (open !== undefined) return new Date(open);
  }
  throw new Error(`no business hours within 22 days of ${at.toISOString()} in ${hours.zone}`);
}

interface Window {
  start: number;
  end: number;
  days: number[];
  zone: string;
}

/**
 * The first instant in (from, from + days] at which the window is open, if any. Being inside
 * depends on the wall clock only, so the window can open only where the clock shows `start` on
 * an allowed date, or where it jumps (an offset change): those are the candidates.
 */
function firstOpening(from: number, days: number, w: Window): number | undefined {
  const to = from + days * DAY;
  const changes = offsetChanges(w.zone, new Date(from - DAY), new Date(to + DAY));
  const offsets = new Set([offsetAt(from, w.zone), ...changes.flatMap((c) => [c.before, c.after])]);
  const candidates = changes.map((c) => c.at.getTime());
  const today = DateTime.fromMillis(from, { zone: w.zone });
  // From the day before (a clock going back across midnight shows yesterday's date again) to the
  // day after (the wall clock at `to` may already show it).
  for (let d = -1; d <= days + 1; d++) {
    const date = Date.UTC(today.year, today.month - 1, today.day + d);
    if (!w.days.includes(new Date(date).getUTCDay() || 7)) continue;
    const wall = date + w.start * 60_000;
    // The start on this date under each offset the zone takes nearby, where that offset holds.
    for (const o of offsets) if (offsetAt(wall - o * 60_000, w.zone) === o) candidates.push(wall - o * 60_000);
  }
  return candidates.filter((t) => t > from && t <= to && isInside(t, w)).sort((a, b) => a - b)[0];
}

const DAY = 86_400_000;

function minutes(hhmm: string): number {
  const [hour, minute] = hhmm.split(":").map(Number) as [number, number];
  return hour * 60 + minute;
}

function isInside(ms: number, w: Window): boolean {
  const dt = DateTime.fromMillis(ms, { zone: w.zone });
  const m = dt.hour * 60 + dt.minute;
  return w.days.includes(dt.weekday) && m >= w.start && m < w.end;
}
