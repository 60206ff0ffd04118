import { randomUUID } from "node:crypto";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { describe, expect, it } from "vitest";
import { createRetention } from "../../../jobs/system/retention";
import { catalog, composeRegistry } from "../../../config/app";
import { failureRoute } from "../../../lib/http/failure-route";
import { jobRoute } from "../../../lib/http/job-route";
import { defineJob } from "../../../lib/jobs/define";
import { metricsRoute } from "../../../lib/ops/metrics-route";
import { APP_URL, bearerRequest, CRON_SECRET, params, qstashRequest, sql, testDeps, uniqueName } from "../../support/app";

// The retention job runs on a clock years back, so its cutoffs never reach rows other test files
// write at the real time (they share the database); the rows it must delete are dated before it.
const clock = new Date("2012-07-01T04:00:00Z");
const DAY = 86_400_000;
const ago = (ms: number) => new Date(clock.getTime() - ms);
const BATCH = 10;
const retention = createRetention({ batch: BATCH });
// Only the layer's own job: no marketplace job is registered, so none ever runs.
const deps = { ...testDeps([retention]), clock: () => clock };
const route = jobRoute("jobs", async () => deps);
const runRetention = async () => {
  const res = await route.GET(bearerRequest("/api/jobs/retention", `Bearer ${CRON_SECRET}`), params("retention"));
  const body = (await res.json()) as { status: string; stats: Record<string, { deleted: number; batches: number; more?: true }> };
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body.stats;
};

describe("retention (the layer's system job)", () => {
  it("is a job of the app, and no marketplace job prunes the layer's tables any more", async () => {
    const appJobs = [...composeRegistry(catalog).jobs.values()];
    expect(appJobs.map((j) => j.name)).toContain("retention");
    const processTasks = appJobs.find((j) => j.name === "process-tasks")!;
    expect(processTasks.description).not.toMatch(/effects|message/);
  });

  it("deletes what is past each retention in bounded batches, keeps the rest, and a second run deletes nothing; with no marketplace job, effects and messages are pruned", async () => {
    const tag = randomUUID().slice(0, 8);
    const job = `retention-${tag}`;
    // 25 finished runs past 90 days, one still running (kept), one recent (kept).
    await sql()`insert into job_runs (job, trigger, status, started_at, finished_at, duration_ms)
      select ${job}, 'qstash', 'succeeded', ${ago(91 * DAY)}::timestamptz - make_interval(secs => i), ${ago(91 * DAY)}, 5 from generate_series(1, 25) i`;
    await sql()`insert into job_runs (job, trigger, status, started_at, lease_expires_at) values (${job}, 'qstash', 'running', ${ago(200 * DAY)}, ${ago(199 * DAY)})`;
    await sql()`insert into job_runs (job, trigger, status, started_at, finished_at, duration_ms) values (${job}, 'qstash', 'failed', ${ago(89 * DAY)}, ${ago(89 * DAY)}, 5)`;
    // Effects: succeeded ones past 30 days go, of every job; unknown, abandoned and failed stay.
    const effects = [
      { key: "old", status: "succeeded", finished_at: ago(30 * DAY + 1000) },
      { key: "old-other-job", status: "succeeded", finished_at: ago(90 * DAY) },
      { key: "recent", status: "succeeded", finished_at: ago(30 * DAY - 1000) },
      { key: "unknown", status: "unknown", finished_at: null },
      { key: "abandoned", status: "abandoned", finished_at: ago(90 * DAY) },
      { key: "failed", status: "failed", finished_at: null },
    ];
    for (const e of effects) {
      await sql()`insert into effects (key, job, status, attempts, finished_at, created_at, updated_at)
        values (${`sweep:${tag}:${e.key}`}, ${e.key === "old-other-job" ? "process-expert-transfers" : job}, ${e.status}, 1, ${e.finished_at}, ${ago(91 * DAY)}, ${ago(91 * DAY)})`;
    }
    const messages = [
      { id: "due-long-ago", not_before: ago(30 * DAY + 1000), created_at: ago(31 * DAY) },
      { id: "published-long-ago", not_before: null, created_at: ago(30 * DAY + 1000) },
      { id: "due-recently", not_before: ago(29 * DAY), created_at: ago(31 * DAY) },
    ];
    for (const m of messages) await sql()`insert into job_messages (message_id, owner, job, not_before, created_at) values (${`sweep:${tag}:${m.id}`}, ${`sweep:${tag}`}, 'call-form', ${m.not_before}, ${m.created_at})`;
    await sql()`insert into dead_letters (job, source_message_id, url, callback, created_at) values
      (${job}, ${`msg_old_${tag}`}, 'https://x.test', '{}', ${ago(91 * DAY)}), (${job}, ${`msg_new_${tag}`}, 'https://x.test', '{}', ${ago(89 * DAY)})`;
    await sql()`insert into alert_incidents (job, opened_at, last_alert_at, recovered_at) values
      (${job}, ${ago(100 * DAY)}, ${ago(100 * DAY)}, ${ago(91 * DAY)}), (${job}, ${ago(100 * DAY)}, ${ago(100 * DAY)}, ${ago(89 * DAY)}), (${job}, ${ago(200 * DAY)}, ${ago(200 * DAY)}, null)`;
    await sql()`insert into used_signatures (jti, expires_at) values (${`jwt_old_${tag}`}, ${ago(1000)}), (${`jwt_live_${tag}`}, ${new Date(clock.getTime() + 1000)})`;

    const first = await runRetention();
    // 25 runs in batches of at most 10: three batches, and the last one says there is no more.
    expect(first.job_runs).toEqual({ deleted: 25, batches: 3 });
    expect(first.effects).toEqual({ deleted: 2, batches: 1 });
    expect(first.job_messages).toEqual({ deleted: 2, batches: 1 });
    expect(first.dead_letters).toEqual({ deleted: 1, batches: 1 });
    expect(first.alert_incidents).toEqual({ deleted: 1, batches: 1 });
    expect(first.used_signatures).toEqual({ deleted: 1, batches: 1 });

    expect((await sql()`select status from job_runs where job = ${job} order by status`).map((r) => r.status)).toEqual(["failed", "running"]);
    expect((await sql()`select key from effects where key like ${`sweep:${tag}:%`} order by key`).map((r) => (r.key as string).split(":")[2])).toEqual(["abandoned", "failed", "recent", "unknown"]);
    expect((await sql()`select message_id from job_messages where owner = ${`sweep:${tag}`}`).map((r) => (r.message_id as string).split(":")[2])).toEqual(["due-recently"]);
    expect((await sql()`select source_message_id from dead_letters where job = ${job}`).map((r) => r.source_message_id)).toEqual([`msg_new_${tag}`]);
    expect((await sql()`select recovered_at is null as open from alert_incidents where job = ${job} order by open`).map((r) => r.open)).toEqual([false, true]);
    expect((await sql()`select jti from used_signatures where jti like ${`jwt_%_${tag}`}`).map((r) => r.jti)).toEqual([`jwt_live_${tag}`]);

    const second = await runRetention();
    for (const [table, s] of Object.entries(second)) expect(s, table).toEqual({ deleted: 0, batches: 1 });
  });

  it("never lowers a metrics counter: the runs' and dead letters' counters read the same after their rows are pruned", async () => {
    const name = uniqueName("counted");
    const counted = defineJob({ name, description: "t", handler: async () => ({}) });
    const appDeps = testDeps([counted]);
    const run = jobRoute("jobs", async () => appDeps);
    for (let i = 0; i < 3; i++) expect((await run.GET(bearerRequest(`/api/jobs/${name}`, `Bearer ${CRON_SECRET}`), params(name))).status).toBe(200);
    const callback = JSON.stringify({ status: 500, retried: 3, maxRetries: 3, sourceMessageId: `msg_${randomUUID()}`, url: `${APP_URL}/api/jobs/${name}` });
    expect((await failureRoute(async () => appDeps).POST(qstashRequest("/api/jobs/failed", callback))).status).toBe(200);

    const metrics = metricsRoute(async () => appDeps);
    const scrape = async () => {
      const res = await metrics.GET(bearerRequest("/api/metrics", `Bearer ${CRON_SECRET}`));
      expect(res.status).toBe(200);
      const text = await res.text();
      // Every counter sample of this job: runs by status, the histogram's buckets, sum and count, dead letters.
      const mine = text.split("\n").filter((l) => !l.startsWith("#") && l.includes(`job="${name}"`) && /^cronlayer_(job_runs_total|job_run_duration_seconds|dead_letters_total)/.test(l));
      return new Map(mine.map((l) => [l.slice(0, l.lastIndexOf(" ")), Number(l.slice(l.lastIndexOf(" ") + 1))]));
    };
    const before = await scrape();
    expect(before.get(`cronlayer_job_runs_total{job="${name}",status="succeeded"}`)).toBe(3);
    expect(before.get(`cronlayer_dead_letters_total{job="${name}"}`)).toBe(1);
    expect([...before.keys()].filter((k) => k.startsWith("cronlayer_job_run_duration_seconds_count"))).toHaveLength(1);
    // The whole text still parses as Prometheus text.
    expect(parsePrometheusTextFormat((await (await metrics.GET(bearerRequest("/api/metrics", `Bearer ${CRON_SECRET}`))).text())).length).toBeGreaterThan(0);

    // Their rows age past retention (dates only: nothing is counted again) and are pruned.
    await sql()`update job_runs set started_at = ${ago(365 * DAY)}, finished_at = ${ago(365 * DAY)} where job = ${name}`;
    await sql()`update dead_letters set created_at = ${ago(365 * DAY)} where job = ${name}`;
    const stats = await runRetention();
    expect(stats.job_runs!.deleted).toBeGreaterThanOrEqual(3);
    expect(await sql()`select 1 from job_runs where job = ${name}`).toHaveLength(0);
    expect(await sql()`select 1 from dead_letters where job = ${name}`).toHaveLength(0);

    const after = await scrape();
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [sample, value] of before) expect(after.get(sample), sample).toBe(value);
  });
});
