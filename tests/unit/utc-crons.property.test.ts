import { Cron } from "croner";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkTranslatable, utcCronsFor, zonedInstants, ZonedCronError } from "../../lib/time/utc-crons";
import { DAY, HOUR, MINUTE, RUNS, SEED, instantNear, seedFor, transitions, wallClock, zonesToRun } from "../support/zones";

/**
 * Zoned crons as UTC crons, as properties over zones, instants most often near their offset
 * changes in 2026-2030, and crons from a generator of the fields schedules use:
 * - a cron checkTranslatable accepts translates, and the UTC crons fire exactly croner's zoned
 *   instants until they must be re-synced (over two days at most); one it refuses is refused
 *   with a ZonedCronError;
 * - croner's zoned instants follow the rule lib/jobs/slots.ts documents, checked by a minute scan
 *   of the wall clock: a tick in a skipped hour fires at the first instant after it, a tick in a
 *   repeated hour fires at its first occurrence (and, below, when croner fires it again).
 */
const PER_ZONE = RUNS || 2;
const TRANSLATIONS = RUNS ? RUNS * 50 : 100;
const RANGE = 2 * DAY;

const pick = <T,>(...xs: T[]) => fc.constantFrom(...xs);
const numbers = (min: number, max: number) => fc.integer({ min, max });
const listOf = (min: number, max: number) => fc.uniqueArray(numbers(min, max), { minLength: 2, maxLength: 3 }).map((xs) => xs.sort((a, b) => a - b).join(","));
const rangeOf = (min: number, max: number) => fc.tuple(numbers(min, max), numbers(min, max)).filter(([a, b]) => a < b).map(([a, b]) => `${a}-${b}`);

/** Five fields, at most every five minutes; days of the month and months that may not move across midnight in UTC. */
const expressions = fc
  .tuple(
    fc.oneof(numbers(0, 59).map(String), listOf(0, 59), pick("*/5", "*/15", "*/30", "0-10/5")),
    fc.oneof(numbers(0, 23).map(String), listOf(0, 23), pick("*", "*/2", "*/6", "1-5", "9-17")),
    fc.oneof({ arbitrary: pick("*"), weight: 4 }, numbers(1, 31).map(String), rangeOf(1, 31)),
    fc.oneof({ arbitrary: pick("*"), weight: 6 }, numbers(1, 12).map(String), pick("3-10", "1,7")),
    fc.oneof({ arbitrary: pick("*"), weight: 3 }, pick("1-5", "0", "6", "0,6", "1,3,5", "7")),
  )
  .map((fields) => fields.join(" "));

/** Every instant in [from, to) that any of the UTC crons fires. */
function fired(crons: readonly string[], from: number, to: number): number[] {
  const out = new Set<number>();
  for (const c of crons) {
    const cron = new Cron(c, { mode: "5-part", timezone: "UTC", paused: true });
    for (let at = cron.nextRun(new Date(from - 1)); at && at.getTime() < to; at = cron.nextRun(at)) out.add(at.getTime());
  }
  return [...out].sort((a, b) => a - b);
}

/** The values a cron field (numbers, `*`, `a-b`, `/n`, lists) holds, from 0 to 59; 7 in days of the week is Sunday, 0. */
function fieldValues(field: string, dow = false): Set<number> {
  const out = new Set<number>();
  for (const part of field.split(",")) {
    const [span, step = "1"] = part.split("/") as [string, string?];
    const [lo, hi] = span === "*" ? [0, 59] : span.includes("-") ? span.split("-").map(Number) : [Number(span), step === "1" ? Number(span) : 59];
    for (let x = lo!; x <= hi!; x += Number(step)) out.add(dow && x === 7 ? 0 : x);
  }
  return out;
}

/**
 * The documented rule by a minute scan of the wall clock in `zone`, over [from, to): `once`, the
 * instants at which the cron fires; `moved`, those of them that fire for a tick the clock jumped
 * over; `again`, the instants in a repeated hour whose wall minute matches a second time.
 */
function ruleTicks(expression: string, zone: string, from: number, to: number): Record<"once" | "moved" | "again", number[]> {
  const fields = expression.split(" ") as [string, string, string, string, string];
  const [min, hour, dom, month, dow] = fields.map((f, i) => fieldValues(f, i === 4));
  // Both days restricted: either will do (croner's default, as in Vixie cron).
  const either = fields[2] !== "*" && fields[4] !== "*";
  const matches = (wall: number) => {
    const d = new Date(wall);
    const [byDom, byDow] = [dom!.has(d.getUTCDate()), dow!.has(d.getUTCDay())];
    return (either ? byDom || byDow : byDom && byDow) && min!.has(d.getUTCMinutes()) && hour!.has(d.getUTCHours()) && month!.has(d.getUTCMonth() + 1);
  };
  const clock = wallClock(zone);
  const [once, moved, again] = [[], [], []] as [number[], number[], number[]];
  // The latest wall minute shown so far: a clock that went back shows nothing new until it passes it.
  // Starting a few hours early: no clock goes back by more than one.
  const start = Math.floor(from / MINUTE) * MINUTE - 3 * HOUR;
  let shown = clock(start).ms;
  for (let t = start + MINUTE; t < to; t += MINUTE) {
    const wall = clock(t).ms;
    if (wall <= shown) {
      if (t >= from && matches(wall)) again.push(t);
      continue;
    }
    // Every wall minute newly shown, those the clock jumped over included, fires here.
    let jumpedOver = false;
    for (let w = shown + MINUTE; w < wall && !jumpedOver; w += MINUTE) jumpedOver = matches(w);
    shown = wall;
    if (t >= from && (jumpedOver || matches(wall))) once.push(t);
    if (t >= from && jumpedOver && !matches(wall)) moved.push(t);
  }
  return { once, moved, again };
}

const iso = (xs: readonly number[]) => xs.map((x) => new Date(x).toISOString());

describe("zoned crons as UTC crons, against croner, in every zone", () => {
  const zones = zonesToRun();
  // Croner takes a tenth of a millisecond or more per instant, and the translation a few for a
  // zone's first call: a sample of zones here, most of them zones whose offset changes.
  const changing = zones.filter((z) => transitions(z).length);
  const zone = changing.length ? fc.oneof({ arbitrary: fc.constantFrom(...changing), weight: 3 }, fc.constantFrom(...zones)) : fc.constantFrom(...zones);
  const cases = zone.chain((z) => fc.tuple(fc.constant(z), instantNear(z), expressions));
  it(`translate to UTC crons that fire croner's instants: ${TRANSLATIONS} cases`, { timeout: 120_000 }, () => {
    let [translated, refused] = [0, 0];
    const property = fc.property(cases, ([zone, now, expression]) => {
      try {
        checkTranslatable(expression, zone, new Date(now));
      } catch (err) {
        expect(err).toBeInstanceOf(ZonedCronError);
        refused++;
        return;
      }
      translated++;
      const { crons, resyncAt } = utcCronsFor(expression, zone, new Date(now));
      const end = Math.min(resyncAt?.getTime() ?? Infinity, now + RANGE);
      expect(iso(fired(crons, now, end)), `"${expression}" ${zone} from ${new Date(now).toISOString()}: ${crons.join(" | ")}`).toEqual(iso(zonedInstants(expression, zone, now, end).map((d) => d.getTime())));
    });
    fc.assert(property, { numRuns: TRANSLATIONS, seed: SEED });
    // The generator is for crons schedules use: most translate.
    expect(translated).toBeGreaterThan(refused);
  });

  // Croner departs from the rule in two ways, both when the cron has another tick shortly before
  // (examples below): a tick in a skipped hour may not fire at all, and a tick in a repeated hour
  // may fire in both passes. The UTC crons follow croner, so slots and QStash agree; the property
  // pins down that croner departs from the rule in these two ways only.
  it(`croner's zoned instants follow the documented DST rule but for two departures: ${zones.length} zones, ${PER_ZONE} cases each`, { timeout: 120_000 }, () => {
    for (const zone of zones) {
      const property = fc.property(instantNear(zone), expressions, (now, expression) => {
        const { once, moved, again } = ruleTicks(expression, zone, now, now + RANGE);
        const got = zonedInstants(expression, zone, now, now + RANGE).map((d) => d.getTime());
        const where = `"${expression}" ${zone} from ${new Date(now).toISOString()}`;
        expect(iso(once.filter((t) => !got.includes(t) && !moved.includes(t))), `${where}: ticks croner does not fire`).toEqual([]);
        expect(iso(got.filter((t) => !once.includes(t) && !again.includes(t))), `${where}: croner fires outside the rule`).toEqual([]);
      });
      fc.assert(property, { numRuns: PER_ZONE, seed: seedFor(zone) });
    }
  });

  // These contradict lib/jobs/slots.ts ("fires at the first instant after it", "fires once"):
  // pinned here so that a change of croner's behaviour, or of the rule, is seen.
  const ny = (e: string, day: string) => zonedInstants(e, "America/New_York", Date.parse(`${day}T04:00:00Z`), Date.parse(`${day}T08:00:00Z`)).map((d) => d.toISOString().slice(11, 16));
  it("croner drops a tick in the skipped hour when the cron has another tick before it that night", () => {
    // 2027-03-14: 02:00 EST (07:00 UTC) is 03:00 EDT. 00:00 EST is 05:00 UTC.
    expect(ny("0 2 * * *", "2027-03-14")).toEqual(["07:00"]);
    expect(ny("0 0,2 * * *", "2027-03-14")).toEqual(["05:00"]);
  });

  it("croner fires a repeated hour's ticks in both passes when the cron has another tick before them", () => {
    // 2027-11-07: 01:00-02:00 EDT is 05:00-06:00 UTC, 01:00-02:00 EST 06:00-07:00.
    expect(ny("30 1 * * *", "2027-11-07")).toEqual(["05:30"]);
    expect(ny("0,30 1 * * *", "2027-11-07")).toEqual(["05:00", "05:30", "06:00", "06:30"]);
  });
});
