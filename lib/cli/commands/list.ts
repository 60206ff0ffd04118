import { DateTime } from "luxon";
import { describeQStashError } from "../../qstash/client";
import { desiredSchedules } from "../../qstash/desired";
import { isOurs } from "../../qstash/expected";
import { diffSchedule, type QStashSchedule } from "../../qstash/plan";
import type { CliContext } from "../context";
import { readCron } from "../cron-words";
import { EXIT } from "../errors";
import { renderTable } from "../table";

export interface ListRow {
  scheduleId: string;
  job: string | null;
  ours: boolean;
  /** As config/qstash.ts writes it (`CRON_TZ=Asia/Kolkata 0 18 * * *` for a zoned entry), else as QStash holds it. */
  cron: string;
  /** For a zoned entry: the UTC cron QStash holds for this row (one of the entry's UTC crons). */
  utcCron: string | null;
  words: string;
  zone: string;
  next: string[];
  paused: boolean | null;
  lastRunAt: string | null;
  lastStates: Record<string, number>;
  /** Empty when QStash holds exactly what config/qstash.ts says. */
  drift: string[];
}

const JOB_IN_URL = /\/api\/(?:cron|jobs)\/([a-z0-9-]+)(?:[?#]|$)/;

/** Our schedules as QStash holds them, compared with the registry; `all` adds everyone else's. */
export async function listRows(ctx: CliContext, opts: { all?: boolean } = {}): Promise<ListRow[]> {
  const { env } = ctx;
  const listed = await ctx.qstash().schedules.list();
  const desired = new Map(desiredSchedules(ctx.registry, env, ctx.now()).map((d) => [d.scheduleId, d]));
  const now = ctx.now();
  const rows: ListRow[] = [];
  for (const s of listed) {
    const ours = isOurs(env.schedulePrefix, s.scheduleId);
    if (!ours && !opts.all) continue;
    const d = desired.get(s.scheduleId);
    const drift = !ours ? [] : d ? diffSchedule(d, s).map((c) => `${c.field}: ${c.from} -> ${c.to}`) : ["not in config/qstash.ts (qstash:schedule deletes it)"];
    rows.push(rowOf(s, ours, ours ? (d?.job ?? s.scheduleId.slice(env.schedulePrefix.length + 1)) : (JOB_IN_URL.exec(s.destination)?.[1] ?? null), drift, now, d?.zoned?.cron));
  }
  for (const d of desired.values()) {
    if (listed.some((s) => s.scheduleId === d.scheduleId)) continue;
    const written = d.zoned?.cron ?? d.cron;
    const c = readCron(written, now);
    rows.push({ scheduleId: d.scheduleId, job: d.job, ours: true, cron: written, utcCron: d.zoned ? d.cron : null, words: c.words, zone: c.zone, next: c.next.map((x) => x.toISOString()), paused: null, lastRunAt: null, lastStates: {}, drift: ["missing in QStash (qstash:schedule creates it)"] });
  }
  return rows.sort((a, b) => Number(b.ours) - Number(a.ours) || a.scheduleId.localeCompare(b.scheduleId));
}

/** A zoned entry's row reads as the entry is written (zone, words, next runs), with QStash's UTC cron beside it. */
function rowOf(s: QStashSchedule, ours: boolean, job: string | null, drift: string[], now: Date, written?: string): ListRow {
  const c = readCron(written ?? s.cron, now);
  const lastStates: Record<string, number> = {};
  for (const state of Object.values(s.lastScheduleStates ?? {})) lastStates[state] = (lastStates[state] ?? 0) + 1;
  return {
    scheduleId: s.scheduleId,
    job,
    ours,
    cron: written ?? s.cron,
    utcCron: written ? s.cron : null,
    words: c.words,
    zone: c.zone,
    next: c.next.map((d) => d.toISOString()),
    paused: s.isPaused,
    lastRunAt: s.lastScheduleTime ? new Date(s.lastScheduleTime).toISOString() : null,
    lastStates,
    drift,
  };
}

/** `pnpm qstash:list [--all] [--json]`. */
export async function listCommand(ctx: CliContext, opts: { all?: boolean; json?: boolean } = {}): Promise<number> {
  let rows: ListRow[];
  try {
    rows = await listRows(ctx, opts);
  } catch (err) {
    ctx.io.err(`error: could not list schedules: ${describeQStashError(err, ctx.env.qstash.url)}`);
    return EXIT.failed;
  }
  if (opts.json) {
    ctx.io.out(JSON.stringify(rows, null, 2));
    return EXIT.ok;
  }
  const head = ["job", "cron", "zone", "next runs", "paused", "last", "drift"];
  const table = rows.map((r) => [
    r.ours ? (r.job ?? r.scheduleId) : `${r.scheduleId}\n(not ours)`,
    `${r.cron.replace(/^CRON_TZ=\S+\s+/, "")}\n${r.words}${r.utcCron ? `\nas UTC ${r.utcCron}` : ""}`,
    r.zone,
    r.next.map((d) => short(d, r.zone)).join("\n") || "-",
    r.paused === null ? "-" : r.paused ? "yes" : "no",
    lastText(r),
    r.ours ? (r.drift.length ? r.drift.join("\n") : "in sync") : "-",
  ]);
  ctx.io.out(renderTable(head, table, ctx.io.columns));
  const drifted = rows.filter((r) => r.ours && r.drift.length).length;
  const ours = rows.filter((r) => r.ours).length;
  ctx.io.out(`${ours} schedule(s) with prefix "${ctx.env.schedulePrefix}"${opts.all ? `, ${rows.length - ours} other(s)` : ""}; ${drifted ? `${drifted} drifted from config/qstash.ts: run pnpm qstash:schedule to reconcile.` : "all in sync with config/qstash.ts."}`);
  return EXIT.ok;
}

function lastText(r: ListRow): string {
  const states = Object.entries(r.lastStates).map(([s, n]) => (n === 1 ? s : `${s} x${n}`)).join(", ");
  if (!r.lastRunAt) return states || "never";
  return `${short(r.lastRunAt, r.zone)}${states ? `\n${states}` : ""}`;
}

/** "11-23 10:48" in the schedule's zone (the zone column says which). */
const short = (iso: string, zone: string) => DateTime.fromISO(iso, { zone: zone === "?" ? "utc" : zone }).toFormat("MM-dd HH:mm");
