import fc from "fast-check";

/**
 * Zones and wall clocks for property tests, read from Intl alone: the code under test does its
 * zone math with luxon and croner, so the references built on these share only the zone database.
 */

/** Every zone in the IANA database as this runtime's Intl knows it. */
export const ZONES: readonly string[] = Intl.supportedValuesOf("timeZone");

/** The years the properties cover. */
export const FROM = Date.UTC(2026, 0, 1);
export const TO = Date.UTC(2031, 0, 1);
export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/**
 * The run's size and seed. CI runs the same cases every time (a red build is a regression, not bad
 * luck); `PROPERTY_RUNS=200 PROPERTY_SEED=7` runs more or others, `PROPERTY_ZONES=America/Havana`
 * only some zones (a zone's cases do not depend on which other zones run, so a failure replays).
 */
export const RUNS = Number(process.env.PROPERTY_RUNS || 0);
export const SEED = Number(process.env.PROPERTY_SEED || 28);
export const zonesToRun = (): readonly string[] => (process.env.PROPERTY_ZONES ? process.env.PROPERTY_ZONES.split(",") : ZONES);

/** A seed for one zone's cases: stable whatever else runs. */
export function seedFor(zone: string): number {
  let h = SEED | 0;
  for (const ch of zone) h = (Math.imul(h, 31) + ch.charCodeAt(0)) | 0;
  return h;
}

export interface Wall {
  /** The local date and time as if it were UTC: comparable, and steps one minute per minute. */
  ms: number;
  /** ISO weekday, 1 = Monday ... 7 = Sunday. */
  weekday: number;
  /** Minutes since local midnight. */
  minute: number;
  day: number;
  month: number;
}

const offsetFormats = new Map<string, Intl.DateTimeFormat>();

/** The zone's UTC offset at `ms`, in minutes east of UTC, by Intl ("GMT-05:00"). */
export function offsetAt(zone: string, ms: number): number {
  let f = offsetFormats.get(zone);
  if (!f) offsetFormats.set(zone, (f = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "longOffset" })));
  const m = /GMT(?:([+-])(\d\d):(\d\d)(?::(\d\d))?)?$/.exec(f.format(ms));
  if (!m) throw new Error(`${zone}: no offset in "${f.format(ms)}"`);
  if (m[4] && m[4] !== "00") throw new Error(`${zone}: an offset with seconds at ${new Date(ms).toISOString()}`);
  return m[1] ? (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
}

/**
 * What the wall clock in `zone` shows at each minute: UTC plus the offset Intl gives. Scans read
 * millions of minutes, so the offset is read at each hour's ends and, when they agree, taken for
 * the whole hour (no zone changes offset twice within an hour); else at the minute itself.
 */
export function wallClock(zone: string): (ms: number) => Wall {
  const hourly = new Map<number, number>();
  const atHour = (h: number) => hourly.get(h) ?? (hourly.set(h, offsetAt(zone, h * HOUR)), hourly.get(h)!);
  return (ms) => {
    const h = Math.floor(ms / HOUR);
    const o = atHour(h) === atHour(h + 1) ? atHour(h) : offsetAt(zone, ms);
    const local = new Date(Math.floor(ms / MINUTE) * MINUTE + o * MINUTE);
    const day = local.getUTCDay();
    return { ms: local.getTime(), weekday: day === 0 ? 7 : day, minute: local.getUTCHours() * 60 + local.getUTCMinutes(), day: local.getUTCDate(), month: local.getUTCMonth() + 1 };
  };
}

const clocks = new Map<string, (ms: number) => Wall>();
/** The wall clock at one instant (a shared clock per zone). */
export function wallAt(zone: string, ms: number): Wall {
  let c = clocks.get(zone);
  if (!c) clocks.set(zone, (c = wallClock(zone)));
  return c(ms);
}

const transitionsOf = new Map<string, number[]>();
/**
 * The instants in 2026-2030 at which the zone's offset changes: sampled weekly (no zone changes
 * twice in a week and back), then bisected to the minute. The references scan minute by minute,
 * so each change must fall on a whole minute: checked here.
 */
export function transitions(zone: string): number[] {
  const known = transitionsOf.get(zone);
  if (known) return known;
  const found: number[] = [];
  for (let t = FROM, o = offsetAt(zone, t); t < TO; t += 7 * DAY) {
    const next = offsetAt(zone, t + 7 * DAY);
    if (o === next) continue;
    o = next;
    let [lo, hi] = [t / MINUTE, (t + 7 * DAY) / MINUTE];
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (offsetAt(zone, mid * MINUTE) === offsetAt(zone, lo * MINUTE)) lo = mid;
      else hi = mid;
    }
    if (offsetAt(zone, hi * MINUTE - 1) !== offsetAt(zone, lo * MINUTE)) throw new Error(`${zone}: an offset change inside a minute, before ${new Date(hi * MINUTE).toISOString()}`);
    found.push(hi * MINUTE);
  }
  transitionsOf.set(zone, found);
  return found;
}

/** An instant in 2026-2030, most often within two days of one of the zone's offset changes. */
export function instantNear(zone: string): fc.Arbitrary<number> {
  const anywhere = fc.integer({ min: FROM, max: TO - 1 });
  const changes = transitions(zone);
  if (!changes.length) return anywhere;
  // Whole minutes mostly (where windows open), sometimes a second or a millisecond past one.
  const near = fc.tuple(fc.constantFrom(...changes), fc.integer({ min: -2 * 24 * 60, max: 2 * 24 * 60 }), fc.oneof(fc.constant(0), fc.integer({ min: 0, max: MINUTE - 1 })));
  return fc.oneof({ arbitrary: near.map(([t, m, ms]) => t + m * MINUTE + ms), weight: 3 }, { arbitrary: anywhere, weight: 1 });
}
