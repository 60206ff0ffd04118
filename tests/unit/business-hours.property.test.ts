import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nextBusinessInstant, type BusinessHours } from "../../lib/time/business-hours";
import { DAY, MINUTE, RUNS, seedFor, transitions, instantNear, wallAt, zonesToRun } from "../support/zones";

/**
 * nextBusinessInstant against the rule itself, checked the slow way: look at the wall clock
 * minute by minute from `at` until it shows an allowed weekday and a time in [start, end). Every
 * zone, a few cases each, most near the zone's offset changes in 2026-2030, with windows around
 * the wall times at which its clocks jump.
 */
const PER_ZONE = RUNS || 4;
// A window swallowed by a gap moves a week on; a one-day window can then be two weeks away.
const SCAN = 15 * DAY;

const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;

function reference(at: number, h: BusinessHours): number {
  const [start, end] = [h.start, h.end].map((s) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3)));
  const inside = (ms: number) => {
    const w = wallAt(h.zone, ms);
    return h.days.includes(w.weekday) && w.minute >= start! && w.minute < end!;
  };
  // Offsets and their changes are whole minutes, so being inside changes only on a minute.
  if (inside(at)) return at;
  for (let t = Math.floor(at / MINUTE) * MINUTE + MINUTE; t < at + SCAN; t += MINUTE) if (inside(t)) return t;
  throw new Error(`no window within ${SCAN / DAY} days of ${new Date(at).toISOString()}`);
}

/** A window, often starting or ending near a wall time the zone's clock jumps from or to. */
function windowFor(zone: string): fc.Arbitrary<BusinessHours> {
  const jumps = [...new Set(transitions(zone).flatMap((t) => [wallAt(zone, t - MINUTE).minute + 1, wallAt(zone, t).minute]))];
  const anyMinute = fc.integer({ min: 0, max: 1438 });
  const nearJump = jumps.length ? fc.tuple(fc.constantFrom(...jumps), fc.integer({ min: -60, max: 60 })).map(([j, d]) => Math.min(1438, Math.max(0, j + d))) : anyMinute;
  const start = fc.oneof(anyMinute, nearJump);
  const days = fc.oneof(fc.constantFrom<number[]>([1, 2, 3, 4, 5, 6, 7], [1, 2, 3, 4, 5]), fc.subarray([1, 2, 3, 4, 5, 6, 7], { minLength: 1 }));
  return fc
    .tuple(start, fc.oneof(fc.integer({ min: 1, max: 90 }), fc.integer({ min: 1, max: 1439 })), days)
    .map(([s, len, d]) => ({ zone, start: hhmm(s), end: hhmm(Math.min(1439, s + len)), days: d }));
}

describe("nextBusinessInstant against a minute scan of the wall clock", () => {
  const zones = zonesToRun();
  it(`agrees in all ${zones.length} zones, ${PER_ZONE} cases each`, { timeout: 120_000 }, () => {
    for (const zone of zones) {
      const property = fc.property(instantNear(zone), windowFor(zone), (at, hours) => {
        const got = nextBusinessInstant(new Date(at), hours).getTime();
        const want = reference(at, hours);
        if (got !== want) {
          const show = (t: number) => `${new Date(t).toISOString()} (${new Date(wallAt(zone, t).ms).toISOString().slice(0, 16)} local)`;
          expect.fail(`from ${show(at)} in ${JSON.stringify(hours)}: got ${show(got)}, want ${show(want)}`);
        }
      });
      fc.assert(property, { numRuns: PER_ZONE, seed: seedFor(zone) });
    }
  });
});
