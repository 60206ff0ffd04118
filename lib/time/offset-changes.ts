import { DateTime } from "luxon";

/** A change of a zone's UTC offset: `at` is the first instant on the new offset (minutes east of UTC). */
export interface OffsetChange {
  at: Date;
  before: number;
  after: number;
}

export const offsetAt = (ms: number, zone: string) => DateTime.fromMillis(ms, { zone }).offset;

/**
 * Offset changes of `zone` in [from, to], found from the zone database alone (no hand-written DST
 * rules): sampled daily, then bisected to the millisecond. Zones change offset at most a few times
 * a year, never twice in a day.
 */
export function offsetChanges(zone: string, from: Date, to: Date): OffsetChange[] {
  const step = 24 * 3600_000;
  const found: OffsetChange[] = [];
  let offset = offsetAt(from.getTime(), zone);
  for (let t = from.getTime(); t < to.getTime(); t += step) {
    const end = Math.min(t + step, to.getTime());
    const endOffset = offsetAt(end, zone);
    const same = offset === endOffset;
    offset = endOffset;
    if (same) continue;
    let lo = t;
    let hi = end;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (offsetAt(mid, zone) === offsetAt(lo, zone)) lo = mid;
      else hi = mid;
    }
    found.push({ at: new Date(hi), before: offsetAt(lo, zone), after: offsetAt(hi, zone) });
  }
  return found;
}
