import type { Retention } from "@/lib/env";
import { defineJob, type JobContext } from "@/lib/jobs/define";

const DAY_MS = 86_400_000;
const TIMEOUT_MS = 240_000;
/** Rows per batch: each batch is one short transaction of finished rows only. */
export const RETENTION_BATCH = 5000;

interface Table {
  table: string;
  fn: string;
  /** The cutoff's argument: rows older than this go. */
  args: (now: Date, r: Retention, limit: number) => Record<string, unknown>;
}

const before = (days: (r: Retention) => number) => (now: Date, r: Retention, limit: number) => ({ p_before: new Date(now.getTime() - days(r) * DAY_MS), p_limit: limit });

/** The layer's tables and how long each keeps its finished rows (RUNS_RETENTION_DAYS, ...). */
const TABLES: Table[] = [
  { table: "job_runs", fn: "job_runs_prune", args: before((r) => r.runsDays) },
  // Succeeded only: no job offers a key that old again (each due query leaves out what its own
  // table marks as done, in the transaction that settles the effect). Abandoned and unknown stay.
  { table: "effects", fn: "effects_prune", args: before((r) => r.effectsDays) },
  { table: "job_messages", fn: "job_messages_prune", args: before((r) => r.jobMessagesDays) },
  { table: "dead_letters", fn: "dead_letters_prune", args: before((r) => r.deadLettersDays) },
  { table: "alert_incidents", fn: "alert_incidents_prune", args: before((r) => r.alertIncidentsDays) },
  { table: "used_signatures", fn: "used_signatures_prune_batch", args: (now, _r, limit) => ({ p_now: now, p_limit: limit }) },
  { table: "job_run_hours", fn: "job_run_hours_prune", args: before((r) => r.rollupsDays) },
  { table: "schedule_slots", fn: "schedule_slots_prune", args: before((r) => r.runsDays) },
  // The console's action log lives as long as the runs it acted on.
  { table: "ops_actions", fn: "ops_actions_prune", args: before((r) => r.runsDays) },
];

type Outcome = { deleted: number; batches: number; more?: true };

/**
 * Deletes what is past its retention, a batch per table in turn, until nothing is left or the time
 * budget is spent (the next call goes on). Counters and rollups count rows as they are written
 * (job_run_hours_prune folds the pending ones first), so nothing the console or /api/metrics shows
 * goes down.
 */
export async function prune(ctx: Pick<JobContext<unknown>, "db" | "env" | "now" | "signal">, opts: { batch?: number; budgetMs: number }): Promise<Record<string, Outcome>> {
  const { db, env, now, signal } = ctx;
  const batch = opts.batch ?? RETENTION_BATCH;
  const deadline = Date.now() + opts.budgetMs;
  const stats: Record<string, Outcome> = Object.fromEntries(TABLES.map((t) => [t.table, { deleted: 0, batches: 0, more: true }]));
  let left = TABLES;
  while (left.length && Date.now() < deadline) {
    for (const t of left) {
      signal.throwIfAborted();
      const page = await db.rpc<{ deleted: number; more: boolean }>(t.fn, t.args(now, env.retention, batch));
      const s = stats[t.table]!;
      s.deleted += page.deleted;
      s.batches += 1;
      if (!page.more) delete s.more;
    }
    left = left.filter((t) => stats[t.table]!.more);
  }
  return stats;
}

/**
 * The layer's own upkeep, whatever products are deployed, as a job of its own for a run by hand
 * (`pnpm job:run retention`, the console). It has no schedule: the watchdog runs `prune` once an
 * hour, so the layer holds one QStash schedule (the free plan has 10).
 */
export function createRetention(opts: { batch?: number; budgetMs?: number } = {}) {
  const budgetMs = opts.budgetMs ?? TIMEOUT_MS - 30_000;
  return defineJob({
    name: "retention",
    description: "Delete runs, settled effects, one-time message records, dead letters, recovered alert incidents and expired signatures past their retention, in bounded batches",
    timeoutMs: TIMEOUT_MS,
    handler: (ctx) => prune(ctx, { batch: opts.batch, budgetMs }),
  });
}

export default createRetention();
