import { Counter, Gauge, Registry } from "prom-client";
import type { Db } from "../db/types";

interface Snapshot {
  /** The histogram's bucket bounds, as the database counts them (job_run_duration_buckets_ms). */
  buckets_ms: number[];
  runs: { job: string; status: string; count: number }[];
  running: { job: string; count: number }[];
  durations: { job: string; le_ms: number | null; count: number; sum_ms: number }[];
  last: { job: string; lag_ms: number | null; success_at: string | null }[];
  dead_letters: { job: string; count: number }[];
  effects: { job: string; status: string; count: number }[];
}

const DURATION = "cronlayer_job_run_duration_seconds";

/**
 * The Prometheus text of the ledger, built fresh per scrape: a serverless instance has no memory of
 * other instances' runs, so the numbers come from the database (one call reading counters the
 * database keeps as runs finish), and prom-client writes the format. Counters are totals since the
 * ledger began: pruning old runs never lowers them. With `jobs`, only those jobs are shown: a
 * product this deployment no longer runs (PRODUCTS) keeps its rows in the ledger, not its series.
 */
export async function metricsText(db: Db, jobs?: ReadonlySet<string>): Promise<{ text: string; contentType: string }> {
  const s = only(await db.rpc<Snapshot>("ops_metrics"), jobs);
  const registry = new Registry();
  const runs = new Counter({ name: "cronlayer_job_runs_total", help: "Runs that reached a final status, by job and status.", labelNames: ["job", "status"], registers: [registry] });
  for (const r of s.runs) runs.inc({ job: r.job, status: r.status }, Number(r.count));
  const running = new Gauge({ name: "cronlayer_job_runs_running", help: "Runs running now, by job.", labelNames: ["job"], registers: [registry] });
  for (const r of s.running) running.set({ job: r.job }, Number(r.count));

  const lag = new Gauge({ name: "cronlayer_job_last_lag_seconds", help: "Lag of the job's last finished run: start minus its slot.", labelNames: ["job"], registers: [registry] });
  const lastSuccess = new Gauge({ name: "cronlayer_job_last_success_timestamp_seconds", help: "When the job last succeeded (Unix time).", labelNames: ["job"], registers: [registry] });
  for (const l of s.last) {
    if (l.lag_ms !== null) lag.set({ job: l.job }, Number(l.lag_ms) / 1000);
    if (l.success_at) lastSuccess.set({ job: l.job }, Date.parse(l.success_at) / 1000);
  }
  const dead = new Counter({ name: "cronlayer_dead_letters_total", help: "Dead letters recorded by the failure callback, by job.", labelNames: ["job"], registers: [registry] });
  for (const d of s.dead_letters) dead.inc({ job: d.job }, Number(d.count));
  const effects = new Gauge({ name: "cronlayer_effects", help: "Effects by job and status (unknown and abandoned need a person).", labelNames: ["job", "status"], registers: [registry] });
  for (const e of s.effects) effects.set({ job: e.job, status: e.status }, Number(e.count));
  return { text: `${await registry.metrics()}${histogramText(s)}`, contentType: registry.contentType };
}

function only(s: Snapshot, jobs: ReadonlySet<string> | undefined): Snapshot {
  if (!jobs) return s;
  const keep = <T extends { job: string }>(rows: T[]) => rows.filter((r) => jobs.has(r.job));
  return { ...s, runs: keep(s.runs), running: keep(s.running), durations: keep(s.durations), last: keep(s.last), dead_letters: keep(s.dead_letters), effects: keep(s.effects) };
}

/**
 * The duration histogram, written here: prom-client's Histogram only takes one observation at a
 * time, and replaying millions of runs per scrape is what made the scrape grow with the ledger.
 */
function histogramText(s: Snapshot): string {
  const byJob = new Map<string, Snapshot["durations"]>();
  for (const d of s.durations) byJob.set(d.job, [...(byJob.get(d.job) ?? []), d]);
  const lines = [`# HELP ${DURATION} Duration of finished runs (succeeded or failed).`, `# TYPE ${DURATION} histogram`];
  for (const [job, rows] of [...byJob].sort(([a], [b]) => a.localeCompare(b))) {
    const label = `job="${escapeLabel(job)}"`;
    let cum = 0;
    for (const le of s.buckets_ms) {
      cum += rows.filter((r) => r.le_ms === le).reduce((n, r) => n + Number(r.count), 0);
      lines.push(`${DURATION}_bucket{le="${le / 1000}",${label}} ${cum}`);
    }
    const count = rows.reduce((n, r) => n + Number(r.count), 0);
    const sum = rows.reduce((n, r) => n + Number(r.sum_ms), 0);
    lines.push(`${DURATION}_bucket{le="+Inf",${label}} ${count}`, `${DURATION}_sum{${label}} ${sum / 1000}`, `${DURATION}_count{${label}} ${count}`);
  }
  return `${lines.join("\n")}\n`;
}

/** The exposition format's escapes for a label value: backslash, double quote, newline. */
const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
