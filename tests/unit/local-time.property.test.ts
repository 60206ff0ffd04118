import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { localTime, luxonLocalTime } from "../../lib/emails/layout";
import { RUNS, instantNear, seedFor, zonesToRun } from "../support/zones";

/**
 * localTime formats with one cached Intl formatter per zone, and keeps each zone's text per minute;
 * Luxon's text is the reference it replaced. Every zone, a few instants each, most near the zone's offset changes in 2026-2030.
 */
const PER_ZONE = RUNS || 6;

describe("localTime writes what Luxon writes", () => {
  it("in every zone, around its clock changes", () => {
    for (const zone of zonesToRun()) {
      fc.assert(
        fc.property(instantNear(zone), (ms) => {
          // The first and the last millisecond of the instant's minute: the second is answered from
          // the text the first left for that zone and minute.
          const first = Math.floor(ms / 60_000) * 60_000;
          for (const at of [ms, first, first + 59_999]) {
            expect(localTime(new Date(at), zone), `${zone} ${new Date(at).toISOString()}`).toEqual(luxonLocalTime(new Date(at), zone));
          }
        }),
        { numRuns: PER_ZONE, seed: seedFor(zone) },
      );
    }
  });

  it("for names Intl and Luxon read differently, and zones neither knows", () => {
    const at = new Date("2026-10-25T00:30:00Z");
    for (const zone of ["utc", "UTC", "gmt", "Etc/GMT+5", "europe/berlin", "Asia/Calcutta", "UTC+3", "Nope/Zone", ""]) {
      expect(localTime(at, zone), zone).toEqual(luxonLocalTime(at, zone));
    }
    expect(localTime(at, "Nope/Zone").zone).toBe("UTC");
    expect(localTime("2026-10-25T09:05:00Z", "Europe/Berlin").long).toBe("Sunday 25 October 2026 at 10:05 GMT+1 (Europe/Berlin)");
    expect(localTime("2026-10-25T00:05:00Z", "Europe/Berlin").short).toBe("Sun 25 Oct, 02:05 GMT+2");
  });
});
