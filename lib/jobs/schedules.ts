import { Cron } from "croner";
import { parseDuration } from "../time/duration";
import { checkTranslatable, ZonedCronError } from "../time/utc-crons";
import { OVERLAPS, type Overlap } from "./define";

export type Priority = "critical" | "high" | "medium" | "low";

/** One entry of `config/qstash.ts`: data only. */
export interface ScheduleEntry {
  job: string;
  /** Five fields, UTC unless prefixed with `CRON_TZ=<IANA zone> `. */
  cron: string;
  /** Who fires it: QStash (default), or the single Vercel-native cron (keep-alive). */
  via?: "qstash" | "vercel";
  description?: string;
  /** QStash retries after the first attempt (total attempts = 1 + retries). Default 3. */
  retries?: number;
  /** Overrides the job's own timeout for its scheduled runs. */
  timeoutMs?: number;
  /** Overrides the job's own overlap policy for its scheduled runs. */
  overlap?: Overlap;
  priority?: Priority;
  /** Only in this mode, e.g. a local heartbeat that proves `pnpm dev` fires schedules. */
  only?: "local";
  /**
   * What the watchdog does with a slot that no delivery reached: run it once if it is at most
   * `window` old (a duration: "15m", "6h", or ms), else record it as missed. `each: true` runs every
   * missed slot (a report of a day); by default the latest missed slot runs and covers the older
   * ones (a sweep). Default: one period of the cron, within [15 min, 1 day]; `false` or a window
   * of 0 turns it off.
   */
  catchUp?: { window: string | number; each?: boolean } | false;
  /** Pause the schedule in QStash after this many consecutive dead-lettered runs. Off by default. */
  pauseAfterFailures?: number;
}

/** A schedule's catch-up, resolved: `windowMs` 0 when off. */
export interface CatchUp {
  windowMs: number;
  each: boolean;
}

export interface Schedule {
  job: string;
  /** As QStash takes it, `CRON_TZ=` prefix included. */
  cron: string;
  expression: string;
  timezone: string;
  via: "qstash" | "vercel";
  description: string | undefined;
  retries: number;
  timeoutMs: number | undefined;
  overlap: Overlap | undefined;
  priority: Priority;
  only: "local" | undefined;
  catchUp: CatchUp;
  pauseAfterFailures: number | undefined;
}

/** Whether a schedule runs in a deployment of this mode (`only: "local"` entries run in local mode alone). */
export const appliesIn = (s: Pick<Schedule, "only">, mode: string): boolean => s.only === undefined || s.only === mode;

export class ScheduleConfigError extends Error {
  override name = "ScheduleConfigError";
}

const TZ_PREFIX = /^CRON_TZ=(\S+)\s+(.+)$/;

export function isValidZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Splits `CRON_TZ=Zone expr` and checks both; errors say what is wrong and how to fix it. */
export function parseCron(cron: string, where: string): { expression: string; timezone: string; cron: string } {
  const text = cron.trim().replace(/\s+/g, " ");
  const m = TZ_PREFIX.exec(text);
  const timezone = m ? m[1]! : "UTC";
  const expression = m ? m[2]! : text;
  if (!isValidZone(timezone)) {
    throw new ScheduleConfigError(`${where}: unknown time zone "${timezone}". Use an IANA name such as Europe/Berlin or America/New_York.`);
  }
  try {
    new Cron(expression, { mode: "5-part", timezone, paused: true });
  } catch (err) {
    const why = (err as Error).message.replace(/^CronPattern: /, "");
    throw new ScheduleConfigError(
      `${where}: invalid cron "${expression}" (${why}). Use five fields: minute hour day-of-month month day-of-week, e.g. "*/15 * * * *".`,
    );
  }
  return { expression, timezone, cron: timezone === "UTC" && !m ? expression : `CRON_TZ=${timezone} ${expression}` };
}

/** Checks every entry once, against the names of the defined jobs. */
export function parseSchedules(entries: readonly ScheduleEntry[], jobNames: readonly string[]): Schedule[] {
  const seen = new Set<string>();
  return entries.map((e, i) => {
    const where = `config/qstash.ts entry ${i + 1} (job "${e.job}")`;
    if (!jobNames.includes(e.job)) {
      throw new ScheduleConfigError(`${where}: unknown job "${e.job}". Define it in a product's jobs/ and list it in its defineProduct (products/<name>/index.ts), or fix the name. Known jobs: ${jobNames.join(", ")}.`);
    }
    if (seen.has(e.job)) {
      throw new ScheduleConfigError(`${where}: job "${e.job}" is scheduled twice. Schedule ids are <prefix>-<job>: keep one entry per job.`);
    }
    seen.add(e.job);
    // A zoned entry's extra schedules are <prefix>-<job>-2, -3...: no other job may be named so.
    const clash = entries.find((o) => TZ_PREFIX.test(o.cron.trim()) && new RegExp(`^${o.job}-\\d+$`).test(e.job));
    if (clash) throw new ScheduleConfigError(`${where}: the name "${e.job}" would clash with the UTC schedules of the zoned job "${clash.job}" (${clash.job}-2, -3...): rename one of them.`);
    const retries = e.retries ?? 3;
    if (!Number.isInteger(retries) || retries < 0 || retries > 20) {
      throw new ScheduleConfigError(`${where}: retries must be a whole number from 0 to 20, got ${e.retries}.`);
    }
    if (e.overlap !== undefined && !OVERLAPS.includes(e.overlap)) {
      throw new ScheduleConfigError(`${where}: unknown overlap "${String(e.overlap)}". Use ${OVERLAPS.join(", ")}.`);
    }
    if (e.via === "vercel" && TZ_PREFIX.test(e.cron.trim())) {
      throw new ScheduleConfigError(`${where}: Vercel cron runs in UTC only; remove CRON_TZ= or schedule it via QStash.`);
    }
    const { expression, timezone, cron } = parseCron(e.cron, where);
    bufferCheck(e.overlap, e.via ?? "qstash", retries, where);
    if (cron.startsWith("CRON_TZ=")) zonedCheck(expression, timezone, where);
    const pause = e.pauseAfterFailures;
    if (pause !== undefined && (!Number.isInteger(pause) || pause < 1 || pause > 100)) {
      throw new ScheduleConfigError(`${where}: pauseAfterFailures must be a whole number from 1 to 100 (consecutive dead-lettered runs), got ${pause}. Leave it out to never pause.`);
    }
    return {
      job: e.job,
      cron,
      expression,
      timezone,
      via: e.via ?? "qstash",
      description: e.description,
      retries,
      timeoutMs: e.timeoutMs,
      overlap: e.overlap,
      priority: e.priority ?? "medium",
      only: e.only,
      catchUp: catchUpOf(e, expression, timezone, where),
      pauseAfterFailures: pause,
    };
  });
}

/** The watchdog needs 13 minutes to see a slot (every 10 minutes, 3 of grace): a shorter window could never be used. */
export const CATCH_UP_MIN_MS = 15 * 60_000;
export const CATCH_UP_MAX_MS = 24 * 3_600_000;

function catchUpOf(e: ScheduleEntry, expression: string, timezone: string, where: string): CatchUp {
  if (e.catchUp === false) return { windowMs: 0, each: false };
  if (e.catchUp === undefined) return { windowMs: Math.min(CATCH_UP_MAX_MS, Math.max(CATCH_UP_MIN_MS, periodMs({ expression, timezone }))), each: false };
  const w = e.catchUp.window;
  const windowMs = typeof w === "number" ? w : parseDuration(w);
  if (windowMs === undefined || !Number.isInteger(windowMs) || windowMs < 0) {
    throw new ScheduleConfigError(`${where}: catchUp.window must be a duration such as "15m", "6h" or "2d", or a whole number of ms (0 turns catch-up off), got ${JSON.stringify(w)}.`);
  }
  if (windowMs > 0 && windowMs < CATCH_UP_MIN_MS) {
    throw new ScheduleConfigError(`${where}: catchUp.window ${JSON.stringify(w)} is shorter than 15m: the watchdog (every 10 minutes) could never use it. Use at least "15m", or 0 to turn catch-up off.`);
  }
  if (windowMs > 7 * CATCH_UP_MAX_MS) {
    throw new ScheduleConfigError(`${where}: catchUp.window ${JSON.stringify(w)} is longer than 7 days: the ledger keeps run history for the console, not for replays that late. Use pnpm job:backfill for an older range.`);
  }
  return { windowMs, each: e.catchUp.each ?? false };
}

/** The cron's usual gap: the shortest of its next few gaps, so a cron like "0 9,17 * * *" counts 8 h. */
function periodMs(s: Pick<Schedule, "expression" | "timezone">): number {
  const runs = scheduleCron(s).nextRuns(8, new Date(Date.UTC(2026, 0, 5)));
  let best = Infinity;
  for (let i = 1; i < runs.length; i++) best = Math.min(best, runs[i]!.getTime() - runs[i - 1]!.getTime());
  return Number.isFinite(best) ? best : CATCH_UP_MAX_MS;
}

/**
 * A buffer-one tick waits by being answered 429 and delivered again: Vercel cron never delivers
 * again, and a schedule without retries sends the first 429 to the DLQ. Refused rather than
 * quietly skipping or dead-lettering the waiting tick. Also checked with the job's own overlap.
 */
export function bufferCheck(overlap: Overlap | undefined, via: "qstash" | "vercel", retries: number, where: string) {
  if (overlap !== "buffer-one") return;
  if (via === "vercel") throw new ScheduleConfigError(`${where}: overlap "buffer-one" waits by being delivered again, and Vercel cron never delivers again: schedule it via QStash, or use overlap "skip".`);
  if (retries < 1) throw new ScheduleConfigError(`${where}: overlap "buffer-one" waits by being delivered again (429 + Retry-After), which takes a retry: set retries to at least 1, or use overlap "skip".`);
}

/** A zoned entry goes to QStash as UTC crons: refuse, at boot and in the CLI, one that none can express. */
function zonedCheck(expression: string, timezone: string, where: string) {
  try {
    checkTranslatable(expression, timezone, new Date());
  } catch (err) {
    if (err instanceof ZonedCronError) throw new ScheduleConfigError(`${where}: ${err.message}.`);
    throw err;
  }
}

/**
 * The one way a schedule's ticks are computed (slots, missed slots, retry runs), so they agree to
 * the millisecond. UTC goes by a fixed offset: the same instants as the zone "UTC", without a zone
 * lookup per tick (3.5x faster: a week of a 5-minute job is 2,016 ticks on every console page).
 */
export function scheduleCron(schedule: Pick<Schedule, "expression" | "timezone">): Cron {
  const where = schedule.timezone === "UTC" ? { utcOffset: 0 } : { timezone: schedule.timezone };
  return new Cron(schedule.expression, { mode: "5-part", paused: true, ...where });
}

/** The cron tick a run belongs to: the latest tick at or before `at`, in the schedule's zone. */
export function slotOf(schedule: Pick<Schedule, "expression" | "timezone">, at: Date): Date | undefined {
  return scheduleCron(schedule).previousRuns(1, new Date(at.getTime() + 1))[0];
}
