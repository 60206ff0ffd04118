import { randomUUID } from "node:crypto";
import parsePrometheusTextFormat, { type MetricFamily } from "parse-prometheus-text-format";
import { beforeAll, describe, expect, it } from "vitest";
import { failureRoute } from "../../lib/http/failure-route";
import { jobRoute } from "../../lib/http/job-route";
import { defineJob } from "../../lib/jobs/define";
import { metricsRoute } from "../../lib/ops/metrics-route";
import { APP_URL, bearerRequest, CRON_SECRET, params, qstashRequest, sql, testDeps, uniqueName } from "../support/app";

/**
 * /api/metrics read back with an independent parser of the Prometheus text format (not prom-client,
 * which wrote it: a round trip through the writer would agree with itself). The ledger is filled by
 * running real jobs through the real routes; this file has a database of its own, so counts are exact.
 */
const ok = uniqueName("steady");
/** A job of a product this deployment no longer runs: its rows stay in the ledger, its series go. */
const gone = uniqueName("retired");
const bad = uniqueName("broken");
const jobs = [
  defineJob({ name: ok, description: "t", handler: async () => ({}) }),
  defineJob({ name: bad, description: "t", handler: async () => {
    throw new Error("boom");
  } }),
];
const deps = testDeps(jobs);
const route = metricsRoute(async () => deps);
const run = jobRoute("jobs", async () => deps);
const failed = failureRoute(async () => deps);

let families: Map<string, MetricFamily>;
let text: string;
const family = (name: string) => {
  const f = families.get(name);
  if (!f) throw new Error(`no metric ${name} in: ${[...families.keys()].join(", ")}`);
  return f;
};
const sample = (name: string, labels: Record<string, string>) => family(name).metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));

beforeAll(async () => {
  for (let i = 0; i < 3; i++) expect((await run.GET(bearerRequest(`/api/jobs/${ok}`, `Bearer ${CRON_SECRET}`), params(ok))).status).toBe(200);
  expect((await run.GET(bearerRequest(`/api/jobs/${bad}`, `Bearer ${CRON_SECRET}`), params(bad))).status).toBe(500);
  const callback = JSON.stringify({ status: 500, retried: 3, maxRetries: 3, sourceMessageId: `msg_${randomUUID()}`, url: `${APP_URL}/api/jobs/${bad}` });
  expect((await failed.POST(qstashRequest("/api/jobs/failed", callback))).status).toBe(200);
  await sql()`insert into effects (key, job, status, attempts) values (${`m:${randomUUID()}`}, ${ok}, 'succeeded', 1), (${`m:${randomUUID()}`}, ${ok}, 'unknown', 1), (${`m:${randomUUID()}`}, ${ok}, 'unknown', 2)`;
  // Counters are kept as runs finish, so a run of a known duration (7 s) and lag (1.5 s, as a
  // scheduled run has; manual runs have none) is recorded finished, the latest of the job.
  await sql()`insert into job_runs (job, trigger, status, started_at, finished_at, duration_ms, lag_ms)
    values (${ok}, 'qstash', 'succeeded', now() + interval '1 second', now() + interval '8 seconds', 7000, 1500),
           (${gone}, 'qstash', 'succeeded', now(), now() + interval '1 second', 1000, 0)`;
  const res = await route.GET(bearerRequest("/api/metrics", `Bearer ${CRON_SECRET}`));
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  text = await res.text();
  families = new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f]));
});

describe("GET /api/metrics", () => {
  it("answers 401 without the Bearer secret, or with a wrong one, and says how to authenticate", async () => {
    const none = await route.GET(new Request("http://127.0.0.1:3000/api/metrics"));
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect((await route.GET(bearerRequest("/api/metrics", "Bearer not-the-secret"))).status).toBe(401);
    const bare = metricsRoute(async () => testDeps(jobs, [], { CRON_SECRET: undefined }));
    expect((await bare.GET(bearerRequest("/api/metrics", "Bearer undefined"))).status).toBe(401);
  });

  it("counts runs by job and status", () => {
    expect(family("cronlayer_job_runs_total").type).toBe("COUNTER");
    expect(sample("cronlayer_job_runs_total", { job: ok, status: "succeeded" })?.value).toBe("4");
    expect(sample("cronlayer_job_runs_total", { job: bad, status: "failed" })?.value).toBe("1");
  });

  it("has a duration histogram per job whose buckets and sum match the ledger", async () => {
    expect(family("cronlayer_job_run_duration_seconds").type).toBe("HISTOGRAM");
    // The parser folds every label set of a histogram into one (its flattenMetrics), so it is given
    // one job's series at a time, the job label taken out.
    const name = "cronlayer_job_run_duration_seconds";
    const label = `job="${ok}"`;
    const mine = text
      .split("\n")
      .filter((l) => l.startsWith(`# HELP ${name} `) || l.startsWith(`# TYPE ${name} `) || (l.startsWith(name) && l.includes(label)))
      .map((l) => l.replace(`,${label}`, "").replace(`${label},`, "").replace(`{${label}}`, ""))
      .join("\n");
    const [h] = parsePrometheusTextFormat(`${mine}\n`)[0]!.metrics;
    expect(h).toBeDefined();
    expect(h!.count).toBe("4");
    const [row] = await sql()<{ sum: number; fast: number }[]>`select sum(duration_ms)::int as sum, count(*) filter (where duration_ms <= 5000)::int as fast from job_runs where job = ${ok}`;
    expect(Number(h!.sum)).toBeCloseTo(row!.sum / 1000, 6);
    // The 7 s run is above the 5 s bucket and within 10 s; the other three are quick.
    expect(h!.buckets!["5"]).toBe(String(row!.fast));
    expect(h!.buckets!["10"]).toBe("4");
    expect(h!.buckets!["+Inf"]).toBe("4");
  });

  it("exports lag, last success time, dead letters and effects by status", async () => {
    const [last] = await sql()<{ at: Date }[]>`select max(finished_at) as at from job_runs where job = ${ok} and status = 'succeeded'`;
    expect(Number(sample("cronlayer_job_last_success_timestamp_seconds", { job: ok })?.value)).toBeCloseTo(last!.at.getTime() / 1000, 2);
    expect(sample("cronlayer_job_last_success_timestamp_seconds", { job: bad })).toBeUndefined();
    expect(sample("cronlayer_job_last_lag_seconds", { job: ok })?.value).toBe("1.5");
    expect(family("cronlayer_job_last_lag_seconds").type).toBe("GAUGE");
    expect(sample("cronlayer_dead_letters_total", { job: bad })?.value).toBe("1");
    expect(sample("cronlayer_effects", { job: ok, status: "unknown" })?.value).toBe("2");
    expect(sample("cronlayer_effects", { job: ok, status: "succeeded" })?.value).toBe("1");
  });

  it("shows only the jobs this deployment runs: a job the registry no longer has keeps its ledger rows, not its series", async () => {
    const [row] = await sql()<{ n: number }[]>`select count(*)::int as n from job_runs where job = ${gone}`;
    expect(row!.n).toBe(1);
    expect(sample("cronlayer_job_runs_total", { job: ok, status: "succeeded" })).toBeDefined();
    expect(text).not.toContain(gone);
  });
});
