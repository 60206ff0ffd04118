import { randomUUID } from "node:crypto";
import { Client } from "@upstash/qstash";
import { z } from "zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startQStashServer, type QStashServer } from "../../dev/qstash/server";
import { defineJob } from "../../lib/jobs/define";
import type { RunDeps } from "../../lib/jobs/run";
import { performAction } from "../../lib/ops/actions";
import { jobRuns, jobsTable } from "../../lib/ops/jobs";
import { createRequestOf, desiredSchedules } from "../../lib/qstash/desired";
import { sql, testDeps, uniqueName } from "../support/app";

/** The console's data (jobs table, runs with filters) and its Run now, on the real ledger and a local QStash. */
const steady = uniqueName("steady");
const flaky = uniqueName("flaky");
const event = uniqueName("event");
let fail = false;
const jobs = [
  defineJob({ name: steady, description: "t", handler: async () => ({ done: 1 }) }),
  defineJob({ name: flaky, description: "t", handler: async () => {
    if (fail) throw new Error("down");
    return {};
  } }),
  defineJob({ name: event, description: "needs an id", payload: z.object({ id: z.string() }), handler: async () => ({}) }),
];
let qstash: QStashServer;
let client: Client;
let deps: RunDeps;

beforeAll(async () => {
  qstash = await startQStashServer({ port: 0 });
  client = new Client({ baseUrl: qstash.url, token: qstash.token, retry: false, enableTelemetry: false });
  deps = testDeps(jobs, [
    { job: steady, cron: "*/5 * * * *" },
    { job: flaky, cron: "CRON_TZ=Europe/Berlin 0 9 * * *" },
  ], { QSTASH_URL: qstash.url, QSTASH_TOKEN: qstash.token });
});
afterAll(() => qstash?.close());

const form = (fields: Record<string, string>) => {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.set(k, v);
  return f;
};

describe("ops console data", () => {
  it("Run now runs the job in the app with trigger manual and says where its run is", async () => {
    const r = await performAction("run", form({ job: steady }), deps, client);
    const [run] = await sql()<{ id: string; trigger: string; status: string }[]>`select id, trigger, status from job_runs where job = ${steady}`;
    expect(run).toMatchObject({ trigger: "manual", status: "succeeded" });
    expect(r).toMatchObject({ ok: true, location: `/ops/jobs/${steady}?run=${run!.id}&notice=run%20succeeded` });
  });

  it("Run now refuses a job that needs a payload and an unknown job, running nothing", async () => {
    expect(await performAction("run", form({ job: event }), deps, client)).toMatchObject({ ok: false, notice: `${event} needs a payload: it runs from its events, not by hand here` });
    expect(await performAction("run", form({ job: "no-such-job" }), deps, client)).toMatchObject({ ok: false, location: expect.stringMatching(/^\/ops\?error=/) });
    expect(await sql()`select 1 from job_runs where job = ${event}`).toHaveLength(0);
  });

  it("the jobs table has success rates, p95, the last run, effects needing a person, and drift against QStash", async () => {
    fail = false;
    await performAction("run", form({ job: flaky }), deps, client);
    fail = true;
    await performAction("run", form({ job: flaky }), deps, client);
    await sql()`insert into effects (key, job, status) values (${`k:${randomUUID()}`}, ${flaky}, 'unknown'), (${`k:${randomUUID()}`}, ${flaky}, 'abandoned'), (${`k:${randomUUID()}`}, ${flaky}, 'failed')`;
    const [d] = desiredSchedules(deps.registry, deps.env).filter((x) => x.job === steady);
    await client.schedules.create({ ...createRequestOf(d!), retries: 7 });

    const table = await jobsTable(deps, client, new Date());
    const row = (job: string) => table.rows.find((r) => r.job === job)!;
    expect(table.qstashError).toBeUndefined();
    expect(row(flaky)).toMatchObject({
      last: { status: "failed", trigger: "manual" },
      windows: { "24h": { runs: 2, succeeded: 1, success_rate: 0.5 }, "7d": { runs: 2, succeeded: 1 } },
      needs_person: { unknown: 1, abandoned: 1 },
      schedule: { words: "At 09:00", zone: "Europe/Berlin", via: "qstash" },
      drift: ["missing in QStash"],
      paused: undefined,
      overlap: "skip",
    });
    expect(row(flaky).days).toEqual([expect.objectContaining({ runs: 2, failed: 1 })]);
    expect(row(steady)).toMatchObject({ drift: ["retries"], paused: false, windows: { "24h": { success_rate: 1 } } });
    expect(typeof row(steady).windows["24h"]!.p95_ms).toBe("number");
    expect(row(event)).toMatchObject({ schedule: null, drift: undefined, last: null });
  });

  it("filters runs by status, trigger and time", async () => {
    const all = await jobRuns(deps, flaky, {});
    expect(all.map((r) => r.status)).toEqual(["failed", "succeeded"]);
    expect((await jobRuns(deps, flaky, { status: "failed" })).map((r) => r.status)).toEqual(["failed"]);
    expect(await jobRuns(deps, flaky, { trigger: "qstash" })).toEqual([]);
    const firstStart = new Date(all[1]!.started_at as string);
    expect(await jobRuns(deps, flaky, { to: firstStart })).toEqual([]);
    expect((await jobRuns(deps, flaky, { from: firstStart, to: new Date(Date.now() + 1000) })).length).toBe(2);
  });

  it("an action on QStash that fails says why instead of throwing", async () => {
    const down = testDeps(jobs, [{ job: steady, cron: "*/5 * * * *" }], { QSTASH_URL: "http://127.0.0.1:1" });
    const r = await performAction("pause", form({ job: steady }), down, new Client({ baseUrl: "http://127.0.0.1:1", token: "t", retry: false }));
    expect(r.ok).toBe(false);
    expect(decodeURIComponent(r.location)).toMatch(/pause failed: QStash at http:\/\/127\.0\.0\.1:1 is not reachable/);
  });
});
