import { Client } from "@upstash/qstash";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startQStashServer, type QStashServer } from "../../dev/qstash/server";
import { jobRoute } from "../../lib/http/job-route";
import { defineJob } from "../../lib/jobs/define";
import type { RunDeps } from "../../lib/jobs/run";
import { KEYS, sql, testDeps, uniqueName } from "../support/app";
import { serveRoutes } from "../support/http-app";

/**
 * One-time messages carry their own work: a burst of them to a job whose scheduled ticks skip
 * overlaps must run every one, through the local QStash server and a real HTTP app.
 */
const name = uniqueName("burst");
const invocations: string[] = [];
const job = defineJob({
  name,
  description: "one run per message",
  overlap: "skip",
  handler: async ({ run }) => {
    invocations.push(run.messageId ?? "?");
    // Long enough that the deliveries of a burst overlap for sure.
    await new Promise((r) => setTimeout(r, 100));
    return { ok: true };
  },
});

let qstash: QStashServer;
let app: Awaited<ReturnType<typeof serveRoutes>>;
let deps: RunDeps;
beforeAll(async () => {
  app = await serveRoutes({ jobs: jobRoute("jobs", async () => deps) });
  deps = testDeps([job], [{ job: name, cron: "*/5 * * * *" }], { APP_URL: app.url });
  qstash = await startQStashServer({ port: 0, currentSigningKey: KEYS.current, nextSigningKey: KEYS.next });
});
afterAll(async () => {
  await qstash?.close();
  await app?.close();
  await deps?.db.close();
});

describe("a burst of one-time messages", () => {
  it("runs all 200 of them, none acknowledged as skipped", { timeout: 60_000 }, async () => {
    const client = new Client({ baseUrl: qstash.url, token: qstash.token, retry: false, enableTelemetry: false });
    const published = await Promise.all(
      Array.from({ length: 200 }, (_, i) => client.publishJSON({ url: `${app.url}/api/jobs/${name}`, body: { i }, retries: 3 })),
    );
    const ids = new Set(published.map((p) => p.messageId));
    expect(ids.size).toBe(200);
    const settledRows = async () =>
      (await sql()<{ n: number }[]>`select count(*)::int as n from job_runs where job = ${name} and status not in ('running')`)[0]!.n;
    await expect.poll(settledRows, { timeout: 45_000, interval: 200 }).toBeGreaterThanOrEqual(200);
    // QStash has nothing left to deliver: every message was answered 2xx.
    await expect.poll(() => Object.keys(qstash.state.messages).length, { timeout: 10_000 }).toBe(0);

    const rows = await sql()<{ status: string; message_id: string }[]>`select status, message_id from job_runs where job = ${name}`;
    expect(rows.filter((r) => r.status !== "succeeded")).toEqual([]);
    expect(rows).toHaveLength(200);
    expect(new Set(rows.map((r) => r.message_id))).toEqual(ids);
    expect(invocations).toHaveLength(200);
    expect(new Set(invocations)).toEqual(ids);
    expect(qstash.state.dlq).toHaveLength(0);
  });
});
