import type { Client } from "@upstash/qstash";
import { readCron } from "../cli/cron-words";
import { collectStats } from "../cli/stats";
import { createCliContext } from "../cli/context";
import type { Trigger } from "../auth";
import type { Io } from "../cli/io";
import { appliesIn } from "../jobs/schedules";
import type { RunDeps } from "../jobs/run";
import { describeQStashError } from "../qstash/client";
import { desiredSchedules } from "../qstash/desired";
import { planSchedules } from "../qstash/plan";
import { readAttention, type Attention, type Failing } from "./overview";

export interface Window {
  runs: number;
  succeeded: number;
  success_rate: number | null;
  p95_ms: number | null;
}
export interface Day {
  day: string;
  runs: number;
  failed: number;
  p95_ms: number | null;
}
export interface LastRun {
  id: string;
  status: string;
  started_at: string;
  duration_ms: number | null;
  lag_ms: number | null;
  trigger: string;
}
interface Overview {
  last: LastRun | null;
  windows: Partial<Record<"24h" | "7d", Window>>;
  days: Day[];
  needs_person: { unknown: number; abandoned: number };
}

export interface JobRow extends Overview {
  job: string;
  /** The product the job belongs to; "system" for the layer's own jobs. */
  product: string;
  /** Its last finished run failed (with the streak), from the overview's call. */
  failing: Failing | undefined;
  /** An alert incident of the job is open. */
  incident: boolean;
  /** Slots the watchdog reported missed over 7 days. */
  missed: number;
  description: string | undefined;
  /** null: no schedule (one-time or event job). */
  schedule: { cron: string; words: string; zone: string; next: Date | undefined; via: "qstash" | "vercel" } | null;
  overlap: string;
  /** From QStash: undefined when it could not be asked, or the job is not a QStash schedule. */
  paused: boolean | undefined;
  /** What differs between the registry and QStash ("missing", or the changed fields); [] when in step. */
  drift: string[] | undefined;
}

export interface JobsTable {
  rows: JobRow[];
  /** Why paused/drift are unknown, when QStash could not be asked. */
  qstashError: string | undefined;
  attention: Attention;
}

/** Everything the jobs table and the overview show: the registry, two ledger calls, one QStash listing. */
export async function jobsTable(deps: RunDeps, client: Client, now: Date): Promise<JobsTable> {
  const { env, registry } = deps;
  const scheduled = registry.schedules.filter((s) => appliesIn(s, env.mode));
  const names = [...new Set([...scheduled.map((s) => s.job), ...[...registry.jobs.keys()].sort()])];
  const [overview, attention, listed] = await Promise.all([
    deps.db.rpc<Record<string, Overview>>("ops_jobs_overview", { p_now: now, p_jobs: names }),
    readAttention(deps.db, now, names),
    client.schedules.list().then(
      (l) => ({ ok: true as const, l }),
      (err: unknown) => ({ ok: false as const, error: describeQStashError(err, env.qstash.url) }),
    ),
  ]);
  const plan = listed.ok ? planSchedules(desiredSchedules(registry, env, now), listed.l, { prefix: env.schedulePrefix, appUrl: env.appUrl }) : undefined;
  const productOf = new Map(registry.products.flatMap((p) => (p.jobs ?? []).map((j) => [j.name, p.name] as const)));
  const rows = names.map((job): JobRow => {
    const s = scheduled.find((x) => x.job === job);
    const read = s ? readCron(s.cron, now, 1) : undefined;
    const item = plan?.items.find((i) => i.job === job);
    const current = item && "current" in item ? item.current : undefined;
    const qstash = s?.via === "qstash";
    return {
      job,
      product: productOf.get(job) ?? "system",
      failing: attention.failing.find((f) => f.job === job),
      incident: attention.incidents.some((i) => i.job === job),
      missed: attention.missed.filter((m) => m.job === job).reduce((n, m) => n + Number(m.n), 0),
      description: s?.description ?? registry.get(job)?.description,
      schedule: s && read ? { cron: s.cron, words: read.words, zone: read.zone, next: read.next[0], via: s.via } : null,
      overlap: registry.settingsOf(job).overlap,
      paused: qstash && current ? current.isPaused : undefined,
      drift: qstash && item ? (item.action === "create" ? ["missing in QStash"] : item.action === "update" ? item.changes.map((c) => c.field) : []) : undefined,
      ...(overview[job] ?? { last: null, windows: {}, days: [], needs_person: { unknown: 0, abandoned: 0 } }),
    };
  });
  return { rows, qstashError: listed.ok ? undefined : listed.error, attention };
}

export interface RunFilters {
  status?: string;
  trigger?: string;
  from?: Date;
  to?: Date;
}

export const STATUSES = ["running", "succeeded", "failed", "skipped", "duplicate"] as const;
export const TRIGGERS = ["qstash", "vercel", "manual", "cli", "catch-up", "backfill"] as const satisfies readonly Trigger[];

export async function jobRuns(deps: RunDeps, job: string, f: RunFilters, limit = 100): Promise<Record<string, unknown>[]> {
  return deps.db.rpc("ops_job_runs", { p_job: job, p_status: f.status ?? null, p_trigger: f.trigger ?? null, p_from: f.from ?? null, p_to: f.to ?? null, p_limit: limit });
}

const quiet: Io = { out: () => {}, err: () => {}, isTTY: false, columns: undefined, progressStream: undefined, confirm: async () => false };

/** Missed slots over 7 days, as `pnpm qstash:stats` counts them (schedules' creation, pauses, grace). */
export async function missedSlots(deps: RunDeps, client: Client, job: string, now: Date): Promise<{ missed: number | null; recent: string[]; notes: string[] }> {
  const ctx = createCliContext({ env: deps.env, registry: deps.registry, io: quiet, qstash: client, deps, now: () => now });
  const report = await collectStats(ctx, { windowMs: 7 * 86_400_000, jobs: [job] });
  const row = report.rows.find((r) => r.job === job);
  return { missed: row?.missed ?? null, recent: row?.missed_recent ?? [], notes: [...(row?.notes ?? []), ...(report.qstash.ok ? [] : [report.qstash.error])] };
}
