import { DateTime } from "luxon";
import { offsetChanges } from "../time/offset-changes";
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

/** Offset changes of `zone` in [from, to], with the wall-clock windows they skip or repeat. */
export function transitions(zone: string, from: Date, to: Date): Transition[] {
  return offsetChanges(zone, from, to).map(({ at }) => {
    const clockBefore = DateTime.fromMillis(at.getTime() - 1, { zone });
    const clockAfter = DateTime.fromMillis(at.getTime(), { zone });
    const gap = clockAfter.offset > clockBefore.offset;
    return {
      at,
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
    };
  });
}
