import { execFile } from "node:child_process";
import { Client } from "@upstash/qstash";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { composeRegistry } from "../../config/app";
import { catalog } from "../../config/products";
import { startQStashServer, type QStashServer } from "../../dev/qstash/server";
import { syncSchedules } from "../../lib/qstash/sync";
import { testDatabaseUrl } from "../support/db";
import { testEnv } from "../support/app";

/** `pnpm qstash:pause` / `qstash:resume` as processes, against a local QStash holding the app's schedules. */
const APP_URL = "https://jobs.example.test";
let qstash: QStashServer;
let client: Client;
beforeAll(async () => {
  qstash = await startQStashServer({ port: 0 });
  client = new Client({ baseUrl: qstash.url, token: qstash.token, retry: false });
  const env = testEnv({ APP_URL, QSTASH_URL: qstash.url, QSTASH_TOKEN: qstash.token });
  // The shop's summary is zoned (STORE_TIME_ZONE): one UTC cron or several, paused and resumed together.
  expect((await syncSchedules(client, env, composeRegistry(catalog), { plan: "none" })).status).toBe("applied");
});
afterAll(() => qstash?.close());

function cli(verb: "pause" | "resume", args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      "pnpm",
      ["exec", "tsx", "scripts/qstash-pause.ts", verb, ...args],
      {
        env: { NODE_ENV: "test", PATH: process.env.PATH!, HOME: process.env.HOME ?? "/tmp", APP_ENV: "test", LOG_LEVEL: "silent", DATABASE_URL: testDatabaseUrl(), APP_URL, QSTASH_URL: qstash.url, QSTASH_TOKEN: qstash.token, SCHEDULE_PREFIX: "test" },
        timeout: 60_000,
      },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const pausedOf = async (job: string) =>
  Object.fromEntries((await client.schedules.list()).filter((s) => s.scheduleId === `test-${job}` || s.scheduleId.startsWith(`test-${job}-`)).map((s) => [s.scheduleId, s.isPaused]));

describe("pnpm qstash:pause and qstash:resume (spawned)", { timeout: 120_000 }, () => {
  it("pause every schedule of a job, and resume them, saying which; --json for scripts", async () => {
    const paused = await cli("pause", ["daily-sales-summary", "--json"]);
    expect(paused.code, paused.stderr).toBe(0);
    const out = JSON.parse(paused.stdout) as { job: string; paused: boolean; schedules: string[] };
    expect(out).toMatchObject({ job: "daily-sales-summary", paused: true });
    expect(Object.keys(await pausedOf("daily-sales-summary")).sort()).toEqual([...out.schedules].sort());
    expect(Object.values(await pausedOf("daily-sales-summary"))).toEqual(out.schedules.map(() => true));
    expect((await pausedOf("check-forms"))["test-check-forms"]).toBe(false);

    const resumed = await cli("resume", ["daily-sales-summary"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain("Resumed test-daily-sales-summary");
    expect(Object.values(await pausedOf("daily-sales-summary")).every((p) => p === false)).toBe(true);
  });

  it("refuses a job without a QStash schedule, naming those that have one", async () => {
    const r = await cli("pause", ["keep-alive"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/keep-alive has no QStash schedule in this deployment\. Scheduled jobs: .*check-forms/);
  });
});
