import { DateTime } from "luxon";
import type { CliContext } from "../context";
import { EXIT, UsageError } from "../errors";
import { duration, parseWindow, percent, when } from "../format";
import { collectStats, type JobStatsRow } from "../stats";
import { renderTable } from "../table";

/** `pnpm qstash:stats [--since 24h] [--job <job...>] [--json]`. */
export async function statsCommand(ctx: CliContext, opts: { since?: string; job?: string[]; json?: boolean } = {}): Promise<number> {
  const windowMs = parseWindow(opts.since ?? "24h");
  if (!windowMs) throw new UsageError(`--since must be a number and a unit (s, m, h, d, w), e.g. 24h or 7d; got "${opts.since}".`);
  let report;
  try {
    report = await collectStats(ctx, { windowMs, jobs: opts.job?.length ? opts.job : undefined });
  } catch (err) {
    const e = err as Error;
    ctx.io.err(e.name === "DbError" ? `error: could not read the ledger: ${e.message}. Is the database up, and DATABASE_URL (or SUPABASE_URL) right?` : `error: ${e.message}`);
    return EXIT.failed;
  }
  const { io } = ctx;
  if (opts.json) {
    io.out(JSON.stringify(report, null, 2));
    return EXIT.ok;
  }
  io.out(`Runs from ${when(report.since)} to ${when(report.until)} (--since ${opts.since ?? "24h"}), from the ledger (job_runs):`);
  const head = ["job", "runs", "ok/fail", "skip/dup", "success", "p50/p95", "lag p95", "last run", "missed", "DLQ"];
  io.out(renderTable(head, report.rows.map(row), io.columns));
  if (report.rows.length === 0) io.out("No runs and no schedules in this window.");
  for (const r of report.rows) {
    if (r.missed) io.out(`${r.job}: ${r.missed} of ${r.expected_slots} expected tick(s) had no run; latest: ${r.missed_recent.map((d) => when(d)).join(", ")}`);
    for (const n of r.notes) io.out(`${r.job}: ${n}`);
    if (r.last_status === "failed" && r.last_error) io.out(`${r.job}: last run failed: ${r.last_error.name}: ${r.last_error.message}`);
  }
  io.out(`ok/fail: succeeded/failed runs; skip/dup: skipped (lease held) and duplicate deliveries; times in UTC.`);
  io.out(`missed: cron ticks up to ${when(report.slotsUntil)} (5 min ago) with no run in the ledger; DLQ: this deployment's dead letters in QStash.`);
  if (!report.qstash.ok) io.err(`warning: DLQ counts and schedule start times unavailable: ${report.qstash.error}`);
  return EXIT.ok;
}

function row(r: JobStatsRow): (string | number)[] {
  return [
    r.job,
    r.runs,
    `${r.succeeded}/${r.failed}`,
    `${r.skipped}/${r.duplicates}`,
    percent(r.success_rate),
    r.p50_ms === null ? "-" : `${duration(r.p50_ms)}\n${duration(r.p95_ms)}`,
    duration(r.p95_lag_ms),
    r.last_run_at ? `${DateTime.fromISO(r.last_run_at, { zone: "utc" }).toFormat("MM-dd HH:mm")}\n${r.last_status}` : "never",
    r.missed === null ? "-" : r.missed,
    r.dlq === "unavailable" ? "n/a" : r.dlq,
  ];
}
