import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Db } from "../db/types";

/** Run duration buckets, in seconds: from a quick sweep to a job at Vercel's 300 s limit. */
export const DURATION_BUCKETS_S = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

interface Snapshot {
  runs: { job: string; status: string; count: number }[];
  durations: { job: string; le_ms: number | null; count: number; sum_ms: number }[];
  last: { job: string; lag_ms: number | null; success_at: string | null }[];
  dead_letters: { job: string; count: number }[];
  effects: { job: string; status: string; count: number }[];
}

/**
 * The Prometheus text of the ledger, built fresh per scrape in a registry of its own: a serverless
 * instance has no memory of other instances' runs, so the numbers come from the database (one call),
 * and prom-client writes the format. Counters are totals over the ledger as it is kept.
 */
export async function metricsText(db: Db): Promise<{ text: string; contentType: string }> {
  const s = await db.rpc<Snapshot>("ops_metrics", { p_buckets_ms: DURATION_BUCKETS_S.map((b) => Math.round(b * 1000)) });
  const registry = new Registry();
  const runs = new Counter({ name: "cronlayer_job_runs_total", help: "Runs recorded in the ledger, by job and status.", labelNames: ["job", "status"], registers: [registry] });
  for (const r of s.runs) runs.inc({ job: r.job, status: r.status }, r.count);

  const duration = new Histogram({ name: "cronlayer_job_run_duration_seconds", help: "Duration of finished runs (succeeded or failed).", labelNames: ["job"], buckets: DURATION_BUCKETS_S, registers: [registry] });
  // The database counted each bucket and summed it; observing each bucket's mean once per run puts
  // every run in its own bucket (the mean of values in (a, b] lies in (a, b]) and keeps the sum exact.
  for (const d of s.durations) {
    const mean = d.sum_ms / d.count / 1000;
    for (let i = 0; i < d.count; i++) duration.observe({ job: d.job }, mean);
  }

  const lag = new Gauge({ name: "cronlayer_job_last_lag_seconds", help: "Lag of the job's last finished run: start minus its slot.", labelNames: ["job"], registers: [registry] });
  const lastSuccess = new Gauge({ name: "cronlayer_job_last_success_timestamp_seconds", help: "When the job last succeeded (Unix time).", labelNames: ["job"], registers: [registry] });
  for (const l of s.last) {
    if (l.lag_ms !== null) lag.set({ job: l.job }, l.lag_ms / 1000);
    if (l.success_at) lastSuccess.set({ job: l.job }, Date.parse(l.success_at) / 1000);
  }
  const dead = new Counter({ name: "cronlayer_dead_letters_total", help: "Dead letters recorded by the failure callback, by job.", labelNames: ["job"], registers: [registry] });
  for (const d of s.dead_letters) dead.inc({ job: d.job }, d.count);
  const effects = new Gauge({ name: "cronlayer_effects", help: "Effects by job and status (unknown and abandoned need a person).", labelNames: ["job", "status"], registers: [registry] });
  for (const e of s.effects) effects.set({ job: e.job, status: e.status }, e.count);
  return { text: await registry.metrics(), contentType: registry.contentType };
}
