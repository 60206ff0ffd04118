import { DateTime } from "luxon";
import { zoneName } from "./format";

/** A change of a zone's UTC offset: `at` is the first instant on the new offset. */
export interface Transition {
  at: Date;
  kind: "gap" | "overlap";
  /** Offsets in minutes, as luxon reports them. */
  offsetBefore: number;
  offsetAfter: number;
  /** Wall-clock window that does not exist (gap) or happens twice (overlap), as "wall ms" (see wallMs). */
  wallFrom: number;
  wallTo: number;
  /** The clock reading that is skipped or repeated from, and where it lands: 01:00 -> 02:00, or 02:00 -> 01:00. */
  clockFrom: number;
  clockTo: number;
  /** Zone names before and after, e.g. +00:00 WET -> +01:00 WEST, -05:00 EST -> -04:00 EDT. */
  nameBefore: string;
  nameAfter: string;
}

/** A wall-clock time as milliseconds of the same clock reading in UTC: comparable across offsets. */
export const wallMs = (dt: DateTime) => dt.setZone("utc", { keepLocalTime: true }).toMillis();

const offsetAt = (ms: number, zone: string) => DateTime.fromMillis(ms, { zone }).offset;

/**
 * Offset changes of `zone` in [from, to], found by luxon's offsets alone (no hand-written tz rules):
 * sampled every 6 hours, then bisected to the millisecond.
 */
export function transitions(zone: string, from: Date, to: Date): Transition[] {
  const step = 6 * 3600_000;
  const found: Transition[] = [];
  for (let t = from.getTime(); t < to.getTime(); t += step) {
    const end = Math.min(t + step, to.getTime());
    if (offsetAt(t, zone) === offsetAt(end, zone)) continue;
    let lo = t;
    let hi = end;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (offsetAt(mid, zone) === offsetAt(lo, zone)) lo = mid;
      else hi = mid;
    }
    const clockBefore = DateTime.fromMillis(hi - 1, { zone });
    const clockAfter = DateTime.fromMillis(hi, { zone });
    const gap = clockAfter.offset > clockBefore.offset;
    found.push({
      at: new Date(hi),
      kind: gap ? "gap" : "overlap",
      offsetBefore: clockBefore.offset,
      offsetAfter: clockAfter.offset,
      // Gap: the clock jumps from before+1ms to after. Overlap: it falls back from before+1ms to after.
      wallFrom: gap ? wallMs(clockBefore) + 1 : wallMs(clockAfter),
      wallTo: gap ? wallMs(clockAfter) : wallMs(clockBefore) + 1,
      clockFrom: wallMs(clockBefore) + 1,
      clockTo: wallMs(clockAfter),
      nameBefore: zoneName(clockBefore),
      nameAfter: zoneName(clockAfter),
    });
  }
  return found;
}
