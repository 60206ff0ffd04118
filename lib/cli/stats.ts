import { appliesIn, type Schedule } from "../jobs/schedules";
import { slotsBetween } from "../jobs/slots";
import { describeQStashError } from "../qstash/client";
import { deadLettersByJob, listDeadLetters } from "../qstash/dlq";
import { scheduleIdOf } from "../qstash/expected";
import type { CliContext } from "./context";

/** One job's row, as job_stats returns it plus what only QStash knows. */
export interface JobStatsRow {
  job: string;
  runs: number;
  succeeded: number;
  failed: number;
  skipped: number;
  duplicates: number;
  running: number;
  success_rate: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
  p95_lag_ms: number | null;
  last_run_at: string | null;
  last_status: string | null;
  last_error: { name: string; message: string } | null;
  /** null for a job with no schedule. */
  expected_slots: number | null;
  missed: number | null;
  missed_recent: string[];
  /** Dead letters of this deployment for the job; "unavailable" when QStash could not be asked. */
  dlq: number | "unavailable";
  cron: string | null;
  notes: string[];
}

export interface StatsReport {
  since: Date;
  until: Date;
  /** Slots newer than this are not expected yet (a delivery may be on its way). */
  slotsUntil: Date;
  rows: JobStatsRow[];
  qstash: { ok: true } | { ok: false; error: string };
}

/** Grace before an expected slot with no run counts as missed: QStash may take up to a minute, plus lag. */
export const MISSED_GRACE_MS = 5 * 60_000;

export async function collectStats(ctx: CliContext, opts: { windowMs: number; jobs?: string[]; graceMs?: number }): Promise<StatsReport> {
  const until = ctx.now();
  const since = new Date(until.getTime() - opts.windowMs);
  const slotsUntil = new Date(until.getTime() - (opts.graceMs ?? MISSED_GRACE_MS));
  const { env, registry } = ctx;
  const scheduled = registry.schedules.filter((s) => appliesIn(s, env.mode) && (!opts.jobs || opts.jobs.includes(s.job)));

  // QStash answers two questions (when did our schedules start, what is in the DLQ); when it is
  // down the ledger numbers still stand and those two say so.
  const client = ctx.qstash();
  const [listed, dead] = await Promise.allSettled([client.schedules.list(), listDeadLetters(client)]);
  const qstash: StatsReport["qstash"] =
    listed.status === "fulfilled" && dead.status === "fulfilled" ? { ok: true } : { ok: false, error: describeQStashError(listed.status === "rejected" ? listed.reason : (dead as PromiseRejectedResult).reason, env.qstash.url) };
  const byId = new Map(listed.status === "fulfilled" ? listed.value.map((s) => [s.scheduleId, s]) : []);
  const dlq = dead.status === "fulfilled" ? deadLettersByJob(dead.value, env.appUrl) : undefined;

  const notes = new Map<string, string[]>();
  const note = (job: string, text: string) => notes.set(job, [...(notes.get(job) ?? []), text]);
  const db = ctx.deps().db;
  const firstRun = scheduled.some((s) => s.via === "vercel") ? await db.rpc<string | null>("ledger_first_run") : null;
  const started = { byId: listed.status === "fulfilled" ? byId : undefined, firstRun: firstRun ? new Date(firstRun) : undefined };
  const expected = scheduled.map((s) => ({ job: s.job, slots: slotsFor(s, since, slotsUntil, started, env.schedulePrefix, note).map((d) => d.toISOString()) }));

  const rows = await db.rpc<Omit<JobStatsRow, "dlq" | "cron" | "notes">[]>("job_stats", {
    p_since: since,
    p_until: until,
    p_expected: expected,
    p_jobs: opts.jobs ?? null,
  });
  const cronOf = new Map(scheduled.map((s) => [s.job, `${s.cron}${s.via === "vercel" ? " (Vercel)" : ""}`]));
  // Dead letters of a job with no run and no schedule in the window still deserve a row.
  for (const job of dlq?.keys() ?? []) {
    if (!rows.some((r) => r.job === job) && (!opts.jobs || opts.jobs.includes(job))) rows.push({ ...EMPTY, job });
  }
  rows.sort((x, y) => x.job.localeCompare(y.job));
  return {
    since,
    until,
    slotsUntil,
    qstash,
    rows: rows.map((r) => ({ ...r, dlq: dlq ? (dlq.get(r.job) ?? 0) : "unavailable", cron: cronOf.get(r.job) ?? null, notes: notes.get(r.job) ?? [] })),
  };
}

const EMPTY: Omit<JobStatsRow, "dlq" | "cron" | "notes"> = {
  job: "",
  runs: 0,
  succeeded: 0,
  failed: 0,
  skipped: 0,
  duplicates: 0,
  running: 0,
  success_rate: null,
  p50_ms: null,
  p95_ms: null,
  p95_lag_ms: null,
  last_run_at: null,
  last_status: null,
  last_error: null,
  expected_slots: null,
  missed: null,
  missed_recent: [],
};

interface Started {
  /** QStash's schedules by id; undefined when QStash could not be asked. */
  byId: Map<string, { createdAt: number; isPaused: boolean }> | undefined;
  /** The ledger's first run of any job: when this deployment began, for Vercel crons. */
  firstRun: Date | undefined;
}

function slotsFor(s: Schedule, since: Date, until: Date, { byId, firstRun }: Started, prefix: string, note: (job: string, text: string) => void): Date[] {
  if (s.via === "vercel") {
    if (!firstRun) {
      note(s.job, "no run of any job recorded yet: Vercel cron ticks count from the first");
      return [];
    }
    return slotsBetween(s, new Date(Math.max(since.getTime(), firstRun.getTime())), until);
  }
  if (!byId) return slotsBetween(s, since, until);
  const q = byId.get(scheduleIdOf(prefix, s.job));
  if (!q) {
    note(s.job, `no schedule ${scheduleIdOf(prefix, s.job)} in QStash: every tick is missed until pnpm qstash:schedule creates it`);
    return slotsBetween(s, since, until);
  }
  if (q.isPaused) {
    note(s.job, "paused in QStash: missed runs not counted");
    return [];
  }
  // Ticks before the schedule existed were never going to run.
  return slotsBetween(s, new Date(Math.max(since.getTime(), q.createdAt)), until);
}
