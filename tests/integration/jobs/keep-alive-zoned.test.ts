import { Client } from "@upstash/qstash";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKeepAlive } from "../../../jobs/system/keep-alive";
import { startQStashServer, type QStashServer } from "../../../dev/qstash/server";
import { defineJob } from "../../../lib/jobs/define";
import { runJob } from "../../../lib/jobs/run";
import type { ScheduleEntry } from "../../../lib/jobs/schedules";
import { syncSchedules } from "../../../lib/qstash/sync";
import { testDeps, uniqueName } from "../../support/app";
import { VENDOR_ENV, vendors } from "../../support/vendors";

let qstash: QStashServer;
beforeAll(async () => void (qstash = await startQStashServer({ port: 0 })));
afterAll(async () => qstash.close());

/** keep-alive over one zoned job (Lisbon, 01:30), on the local QStash server, at a given instant. */
function setup(o: { qstashUrl?: string } = {}) {
  const job = uniqueName("zoned");
  const prefix = uniqueName("ka");
  const entries: ScheduleEntry[] = [{ job, cron: "CRON_TZ=Europe/Lisbon 30 1 * * *" }];
  const keepAlive = createKeepAlive({ schedules: () => deps.registry.schedules, registry: async () => deps.registry });
  const env = { ...VENDOR_ENV, QSTASH_URL: o.qstashUrl ?? qstash.url, QSTASH_TOKEN: qstash.token, SCHEDULE_PREFIX: prefix };
  const deps = testDeps([keepAlive, defineJob({ name: job, description: "t", handler: async () => ({}) })], entries, env);
  const client = new Client({ baseUrl: qstash.url, token: qstash.token, retry: false });
  const at = (iso: string) => runJob({ job: "keep-alive", payload: {}, trigger: "vercel" }, { ...deps, clock: () => new Date(iso) });
  // The watchdog alerts (no run is recorded here): Resend and Slack answer at the edge.
  const calls = vendors();
  const held = async () => (await client.schedules.list()).filter((s) => s.scheduleId.startsWith(`${prefix}-`)).map((s) => s.cron).sort();
  return { deps, client, at, held, calls };
}

describe("keep-alive re-syncs zoned schedules before an offset change", () => {
  it("leaves them alone far from a change, re-syncs them within 48 h of one, then leaves them again", async () => {
    const { deps, client, at, held } = setup();
    expect((await syncSchedules(client, deps.env, deps.registry, { now: new Date("2027-03-20T06:00:00Z") })).status).toBe("applied");
    const winter = await held();
    expect(await at("2027-03-25T06:00:00Z")).toMatchObject({ stats: { zonedSchedules: "in-sync" } });
    expect(await held()).toEqual(winter);
    // 26 March 06:00 UTC: Lisbon moves to +01:00 on the 28th at 01:00 UTC.
    const before = await at("2027-03-26T06:00:00Z");
    expect(before).toMatchObject({ stats: { zonedSchedules: { status: "resynced" } } });
    expect(await held()).toEqual(["0 1 28 3 *", "30 0 * 4-10 *", "30 0 29-31 3 *", "30 1 26,27 3 *"]);
    expect(await at("2027-03-27T06:00:00Z")).toMatchObject({ stats: { zonedSchedules: "in-sync" } });
  });

  it("alerts when it cannot re-sync, saying what is at stake", async () => {
    const { at, calls } = setup({ qstashUrl: "http://127.0.0.1:1" });
    // Two days before Lisbon's change of 2031 (alerts are one a day: a day no other test uses).
    const out = await at("2031-03-28T06:00:00Z");
    expect(out).toMatchObject({ status: "succeeded", stats: { zonedSchedules: { status: "failed", errors: [expect.stringMatching(/could not list schedules/)] } } });
    expect(JSON.stringify(calls.slack)).toMatch(/zoned schedules not re-synced, so runs after the next offset change may be missed or doubled/);
  });
});
