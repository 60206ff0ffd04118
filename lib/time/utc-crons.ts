import { Cron } from "croner";
import { offsetAt, offsetChanges, type OffsetChange } from "./offset-changes";

/**
 * Zoned crons as UTC crons, so that no transport does zone math. A fixed offset turns a zoned
 * pattern into UTC crons ("plain"); the days around an offset change, which no fixed offset
 * describes, become crons pinned to their dates. The instants are croner's in the zone: the same
 * library computes the slots that lag and the watchdog use.
 */

/** keep-alive runs daily: re-syncing within this lead of a change leaves it two chances. */
export const RESYNC_LEAD_MS = 48 * 3600_000;
const DAY = 86_400_000;
const HORIZON = 400 * DAY;

export class ZonedCronError extends Error {
  override name = "ZonedCronError";
}

export interface UtcCrons {
  /** Five-field UTC crons whose union fires exactly the zoned instants until `resyncAt`. */
  crons: string[];
  /** From this instant on the crons must be replaced (an offset change comes); null: never. */
  resyncAt: Date | null;
}

export function utcCronsFor(expression: string, zone: string, now: Date): UtcCrons {
  const t = now.getTime();
  const changes = changesNear(zone, t);
  // The change whose crons hold now: the latest one that is at most a lead away.
  const i = changes.findLastIndex((c) => c.at.getTime() - RESYNC_LEAD_MS <= t);
  if (i === -1) return { crons: plain(expression, offsetAt(t, zone), null), resyncAt: changes[0] ? new Date(changes[0].at.getTime() - RESYNC_LEAD_MS) : null };
  const change = changes[i]!;
  const next = changes[i + 1];
  // A zone that stopped changing: once past its last change, one offset for good.
  if (!next && t >= change.at.getTime()) return { crons: plain(expression, change.after, null), resyncAt: null };
  const end = next?.at.getTime() ?? change.at.getTime() + 300 * DAY;
  return { crons: bridge(expression, zone, change, end), resyncAt: new Date(next ? end - RESYNC_LEAD_MS : change.at.getTime()) };
}

const known = new Map<string, { from: number; to: number; changes: OffsetChange[] }>();
/** The zone's changes within 400 days of `t`; searched once per zone for a wider window, since keep-alive and the CLI ask often. */
function changesNear(zone: string, t: number): OffsetChange[] {
  let k = known.get(zone);
  if (!k || t - HORIZON < k.from || t + HORIZON > k.to) {
    k = { from: t - 2 * HORIZON, to: t + 2 * HORIZON, changes: offsetChanges(zone, new Date(t - 2 * HORIZON), new Date(t + 2 * HORIZON)) };
    known.set(zone, k);
  }
  return k.changes.filter((c) => Math.abs(c.at.getTime() - t) <= HORIZON);
}

/**
 * Exact from a lead before `change` until `end` (the next change): the dates from the lead to the
 * end of the change's month pinned, then whole months on the new offset.
 */
function bridge(expression: string, zone: string, change: OffsetChange, end: number): string[] {
  const from = change.at.getTime() - RESYNC_LEAD_MS;
  const month = new Date(change.at);
  const pinsEnd = Math.min(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 1), end);
  const months: number[] = [];
  for (let m = new Date(pinsEnd); m.getTime() < end; m = new Date(Date.UTC(m.getUTCFullYear(), m.getUTCMonth() + 1, 1))) months.push(m.getUTCMonth() + 1);
  const pinned = new Set([new Date(from).getUTCMonth() + 1, month.getUTCMonth() + 1]);
  // Pinned dates repeat every year: whole months must not reach back to them. Eleven whole months
  // after a single pinned one are fine (Casablanca: March 2026 to February 2027).
  if (months.some((m) => pinned.has(m))) throw new ZonedCronError(`${zone}: offsets change too far apart to bridge with whole months`);
  return [...(months.length ? plain(expression, change.after, months) : []), ...pins(zonedInstants(expression, zone, from, pinsEnd))];
}

/** Croner's instants of a zoned pattern in [from, to). */
export function zonedInstants(expression: string, zone: string, from: number, to: number): Date[] {
  const cron = new Cron(expression, { mode: "5-part", timezone: zone, paused: true });
  const out: Date[] = [];
  for (let at = cron.nextRun(new Date(from - 1)); at && at.getTime() < to; at = cron.nextRun(at)) out.push(at);
  return out;
}

const probe = (pattern: string) => new Cron(pattern, { mode: "5-part", timezone: "UTC", paused: true });
const range = (n: number, start: number) => Array.from({ length: n }, (_, i) => i + start);

/** "1,2,3,5" as "1-3,5": short crons read better in a plan. */
export function list(values: Iterable<number>): string {
  const v = [...new Set(values)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < v.length; ) {
    let j = i;
    while (j + 1 < v.length && v[j + 1] === v[j]! + 1) j++;
    parts.push(j - i >= 2 ? `${v[i]}-${v[j]}` : v.slice(i, j + 1).join(","));
    i = j + 1;
  }
  return parts.join(",");
}

/** A pattern on a fixed offset (minutes east of UTC), optionally only in some UTC months. */
export function plain(expression: string, offset: number, onlyMonths: number[] | null): string[] {
  const [min, hour, dom, month, dow] = expression.split(" ") as [string, string, string, string, string];
  const times = probe(`${min} ${hour} * * *`);
  const [domProbe, dowProbe, monthProbe] = [probe(`0 0 ${dom} * *`), probe(`0 0 * * ${dow}`), probe(`0 0 1 ${month} *`)];
  const doms = range(31, 1).filter((d) => domProbe.match(new Date(Date.UTC(2001, 0, d))));
  const dows = range(7, 0).filter((d) => dowProbe.match(new Date(Date.UTC(2001, 0, 7 + d))));
  const monthsOfPattern = range(12, 1).filter((m) => monthProbe.match(new Date(Date.UTC(2001, m - 1, 1))));
  const months = onlyMonths ? monthsOfPattern.filter((m) => onlyMonths.includes(m)) : monthsOfPattern;
  if (!months.length) return [];
  const monthField = onlyMonths || months.length < 12 ? list(months) : "*";
  // Each local time lands on the same UTC day, the day before, or the day after.
  const byShift = new Map<number, Map<number, number[]>>();
  const dayEnd = Date.UTC(2001, 0, 2);
  for (let at = times.nextRun(new Date(Date.UTC(2001, 0, 1) - 1)); at && at.getTime() < dayEnd; at = times.nextRun(at)) {
    const t = at.getUTCHours() * 60 + at.getUTCMinutes() - offset;
    const shift = Math.floor(t / 1440);
    const u = t - shift * 1440;
    const hours = byShift.get(shift) ?? new Map<number, number[]>();
    byShift.set(shift, hours);
    hours.set(Math.floor(u / 60), [...(hours.get(Math.floor(u / 60)) ?? []), u % 60]);
  }
  const out: string[] = [];
  for (const [shift, hours] of [...byShift].sort((a, b) => a[0] - b[0])) {
    let days = `${dom} ${monthField} ${dow}`;
    if (shift !== 0) {
      const where = `"${expression}" at UTC${offset >= 0 ? "+" : "-"}${Math.abs(offset / 60)}`;
      if (/[LW#?]/i.test(`${dom} ${dow}`)) throw new ZonedCronError(`${where}: its day moves across midnight in UTC, and L, W, # or ? cannot move with it`);
      if (months.length < 12 && monthsOfPattern.length < 12) throw new ZonedCronError(`${where}: its day moves across midnight in UTC, and a month restriction cannot move with it`);
      if (doms.length < 31 && (shift < 0 ? Math.min(...doms) < 2 : Math.max(...doms) > 27)) {
        throw new ZonedCronError(`${where}: day of month ${dom} moves across a month boundary in UTC; pick a time that stays on the same UTC day, or a day of month from 2 to 27`);
      }
      const domField = doms.length < 31 ? list(doms.map((d) => d + shift)) : "*";
      const dowField = dows.length < 7 ? list(dows.map((d) => (d + shift + 7) % 7)) : "*";
      days = `${domField} ${monthField} ${dowField}`;
    }
    out.push(...timesOf(hours).map((t) => `${t} ${days}`));
  }
  return out;
}

/** Hours that share their minutes become one "minutes hours" pair. */
function timesOf(hours: Map<number, number[]>): string[] {
  const byMinutes = new Map<string, number[]>();
  for (const [h, mins] of hours) byMinutes.set(list(mins), [...(byMinutes.get(list(mins)) ?? []), h]);
  return [...byMinutes].map(([mins, hs]) => `${mins} ${list(hs)}`);
}

/** Instants as crons pinned to their UTC dates: "minutes hours day month *". */
export function pins(instants: readonly Date[]): string[] {
  const byDate = new Map<string, Map<number, number[]>>();
  for (const at of instants) {
    const key = `${at.getUTCMonth() + 1} ${at.getUTCDate()}`;
    const hours = byDate.get(key) ?? new Map<number, number[]>();
    byDate.set(key, hours);
    hours.set(at.getUTCHours(), [...(hours.get(at.getUTCHours()) ?? []), at.getUTCMinutes()]);
  }
  // Same times in the same month: one cron with a list of days; then same days: a list of months.
  const days = new Map<string, number[]>();
  for (const [key, hours] of byDate) {
    const [month, day] = key.split(" ").map(Number) as [number, number];
    for (const t of timesOf(hours)) days.set(`${t}|${month}`, [...(days.get(`${t}|${month}`) ?? []), day]);
  }
  const months = new Map<string, number[]>();
  for (const [key, ds] of days) {
    const [t, month] = key.split("|") as [string, string];
    months.set(`${t} ${list(ds)}`, [...(months.get(`${t} ${list(ds)}`) ?? []), Number(month)]);
  }
  return [...months].map(([td, ms]) => `${td} ${list(ms)} *`);
}

/** Whether the pattern translates on every offset the zone takes in the next 400 days; throws a ZonedCronError if not. */
export function checkTranslatable(expression: string, zone: string, now: Date): void {
  const offsets = new Set([offsetAt(now.getTime(), zone), ...offsetChanges(zone, now, new Date(now.getTime() + HORIZON)).map((c) => c.after)]);
  for (const o of offsets) plain(expression, o, null);
}
