import { Cron } from "croner";
import { DateTime, FixedOffsetZone } from "luxon";
import type { Registry } from "../jobs/registry";
import { isValidZone, parseCron } from "../jobs/schedules";
import { utcCronsFor, ZonedCronError } from "../time/utc-crons";
import { UsageError } from "./errors";
import { transitions, wallMs, type Transition } from "./dst";
import { zoneName } from "./format";

export interface CronSource {
  /** The job, when a job name was given. */
  job: string | undefined;
  expression: string;
  /** The zone the cron is read in (CRON_TZ): where DST skips and repeats happen. */
  zone: string;
  /** The zone times are also shown in (--tz); the cron's own zone unless told otherwise. */
  displayZone: string;
}

/**
 * `<job | "<cron>">` and `--tz`: a job is read in its schedule's zone and `--tz` only changes the
 * zone shown; a bare cron is read in `--tz` (as if `CRON_TZ=<tz>` were written), UTC by default.
 */
export function resolveCronSource(input: string, registry: Registry, tz: string | undefined): CronSource {
  if (tz !== undefined && !isValidZone(tz)) throw new UsageError(`--tz: unknown time zone "${tz}". Use an IANA name such as Europe/Lisbon or America/New_York.`);
  const schedule = registry.scheduleOf(input);
  if (schedule) return { job: input, expression: schedule.expression, zone: schedule.timezone, displayZone: tz ?? schedule.timezone };
  if (registry.get(input)) throw new UsageError(`job "${input}" has no schedule in config/qstash.ts: it runs only when published, so it has no next run times.`);
  if (!/\s/.test(input.trim())) {
    const known = registry.schedules.map((s) => s.job).join(", ");
    throw new UsageError(`"${input}" is neither a scheduled job (${known}) nor a cron expression: quote a cron, e.g. pnpm cron:next "30 1 * * *".`);
  }
  let parsed: ReturnType<typeof parseCron>;
  try {
    parsed = parseCron(input, "cron");
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const own = parsed.cron.startsWith("CRON_TZ=");
  const zone = own ? parsed.timezone : (tz ?? "UTC");
  return { job: undefined, expression: parsed.expression, zone, displayZone: tz ?? zone };
}

export type Mark = "gap-shifted" | "gap-skipped" | "overlap-first" | "overlap-second" | "overlap-both";

export interface NextRun {
  /** 1-based position among the real runs; null for a row that shows a skipped time. */
  n: number | null;
  /** The instant it fires; null when it never fires (a skipped wall-clock time). */
  at: Date | null;
  /** Wall-clock time in the cron's zone, e.g. "2027-03-28 02:00 +01:00 WEST". */
  local: string;
  /** Wall-clock time in the display zone. */
  display: string;
  mark: Mark | null;
  note: string | null;
  /** For a zoned cron: the UTC cron that qstash:schedule and keep-alive have on QStash for this run. */
  utcCron: string | null;
}

const inZone = (at: Date, zone: string) => {
  const d = DateTime.fromJSDate(at, { zone });
  return `${d.toFormat("ccc yyyy-MM-dd HH:mm")} ${zoneName(d)}`;
};
const clock = (ms: number) => DateTime.fromMillis(ms, { zone: "utc" }).toFormat("HH:mm");
const day = (ms: number) => DateTime.fromMillis(ms, { zone: "utc" }).toFormat("yyyy-MM-dd");
const instantOf = (wall: number, offset: number) =>
  DateTime.fromMillis(wall, { zone: "utc" }).setZone(FixedOffsetZone.instance(offset), { keepLocalTime: true }).toMillis();

/**
 * The next `count` runs as croner computes them (the library our slots, lag and missed-run checks
 * use), with every run that a DST change moves, skips or repeats marked. Croner 11, for a time that
 * does not exist, fires once at the first valid minute after the jump for a single named time
 * (`30 1` -> 02:00) but skips a named range (`*\/15 1` fires nothing that night); for a time that
 * happens twice it fires once, at the first occurrence, unless the pattern names the whole hour.
 * The marks are derived, not assumed: named wall-clock times in each gap or overlap are compared
 * with the runs croner actually produced.
 */
export function nextRuns(src: CronSource, count: number, from: Date): NextRun[] {
  const cron = new Cron(src.expression, { mode: "5-part", timezone: src.zone, paused: true });
  // The same pattern over a clock with no DST: which wall-clock readings the cron names.
  const wallCron = new Cron(src.expression, { mode: "5-part", timezone: "UTC", paused: true });
  const runs = cron.nextRuns(count, from);
  const rows: NextRun[] = runs.map((at, i) => row(src, at, i + 1));
  const last = runs.at(-1);
  if (!last) return rows;
  const byMs = new Map(rows.map((r) => [r.at!.getTime(), r]));
  const extra: Extra[] = [];
  for (const t of transitions(src.zone, from, last)) {
    const named = namedWalls(wallCron, t);
    if (t.kind === "gap") markGap(src, t, named, rows, wallCron, extra);
    else markOverlap(t, named, byMs, extra);
  }
  if (src.zone !== "UTC") for (const r of rows) r.utcCron = utcCronOf(src, r.at!);
  // A row for a time that never fires sits just before the first instant after the change.
  const all = [...rows.map((r) => ({ sortAt: r.at!.getTime(), row: r })), ...extra];
  return all.sort((a, b) => a.sortAt - b.sortAt).map((e) => e.row);
}

function row(src: CronSource, at: Date, n: number | null): NextRun {
  return {
    n,
    at,
    local: inZone(at, src.zone),
    display: inZone(at, src.displayZone),
    mark: null,
    note: null,
    utcCron: null,
  };
}

/** Which of the UTC crons in force at `at` fires it (null for a pattern no UTC cron can say). */
function utcCronOf(src: CronSource, at: Date): string | null {
  try {
    return utcCronsFor(src.expression, src.zone, at).crons.find((c) => new Cron(c, { mode: "5-part", timezone: "UTC", paused: true }).match(at)) ?? null;
  } catch (err) {
    if (err instanceof ZonedCronError) return null;
    throw err;
  }
}

type Extra = { sortAt: number; row: NextRun };

function namedWalls(wallCron: Cron, t: Transition): number[] {
  const out: number[] = [];
  for (let next = wallCron.nextRun(new Date(t.wallFrom - 1)); next && next.getTime() < t.wallTo; next = wallCron.nextRun(next)) out.push(next.getTime());
  return out;
}

function markGap(src: CronSource, t: Transition, named: number[], rows: NextRun[], wallCron: Cron, extra: Extra[]) {
  if (named.length === 0) return;
  const jump = `clocks jump ${clock(t.clockFrom)} -> ${clock(t.clockTo)}, ${t.nameBefore} -> ${t.nameAfter}`;
  const missing = named.map(clock).join(", ");
  // Runs right after the jump at a reading the cron does not name are the missing times, moved.
  const shifted = rows.filter((r) => {
    const ms = r.at!.getTime();
    return ms >= t.at.getTime() && ms < t.at.getTime() + 86_400_000 && !wallCron.match(new Date(wallMs(DateTime.fromMillis(ms, { zone: src.zone }))));
  });
  shifted.forEach((r, i) => {
    r.mark = "gap-shifted";
    r.note = `DST: ${named[i] === undefined ? missing : clock(named[i]!)} does not exist on ${day(t.clockFrom)} (${jump}); croner runs it at ${clock(wallMs(DateTime.fromJSDate(r.at!, { zone: src.zone })))}`;
  });
  for (const wall of named.slice(shifted.length)) {
    const note = `DST: does not exist (${jump}); croner does not run it`;
    extra.push({ sortAt: t.at.getTime() - 1, row: { n: null, at: null, local: `${day(wall)} ${clock(wall)} (does not exist)`, display: "", mark: "gap-skipped", note, utcCron: null } });
  }
}

function markOverlap(t: Transition, named: number[], byMs: Map<number, NextRun>, extra: Extra[]) {
  const back = `clocks go back ${clock(t.clockFrom)} -> ${clock(t.clockTo)}, ${t.nameBefore} -> ${t.nameAfter}`;
  for (const wall of named) {
    const first = byMs.get(instantOf(wall, t.offsetBefore));
    const second = byMs.get(instantOf(wall, t.offsetAfter));
    const twice = `DST: ${clock(wall)} happens twice on ${day(wall)} (${back})`;
    if (first && second) {
      for (const r of [first, second]) Object.assign(r, { mark: "overlap-both", note: `${twice}; runs at both` });
    } else if (first) {
      Object.assign(first, { mark: "overlap-first", note: `${twice}; runs once, at the first (${t.nameBefore}), not again at ${clock(wall)} ${t.nameAfter}` });
    } else if (second) {
      Object.assign(second, { mark: "overlap-second", note: `${twice}; runs once, at the second (${t.nameAfter}), not at ${clock(wall)} ${t.nameBefore}` });
    } else {
      const row: NextRun = { n: null, at: null, local: `${day(wall)} ${clock(wall)} (twice)`, display: "", mark: "gap-skipped", note: `${twice}; runs at neither`, utcCron: null };
      extra.push({ sortAt: instantOf(wall, t.offsetBefore), row });
    }
  }
}
