import { afterEach, describe, expect, it } from "vitest";
import { ManualClock, startQStashServer, type QStashServer } from "../../dev/qstash/server";
import { createKeepAlive } from "../../jobs/system/keep-alive";
import { createWatchdog } from "../../jobs/system/watchdog";
import { runJob } from "../../lib/jobs/run";
import { jobRoute } from "../../lib/http/job-route";
import { failureRoute } from "../../lib/http/failure-route";
import { defineJob } from "../../lib/jobs/define";
import type { RunDeps } from "../../lib/jobs/run";
import type { ScheduleEntry } from "../../lib/jobs/schedules";
import { syncSchedules } from "../../lib/qstash/sync";
import { setJobPaused } from "../../lib/qstash/pause";
import { Client } from "@upstash/qstash";
import { z } from "zod";
import { schedule } from "../../lib/qstash/messages";
import { serveRoutes } from "../support/http-app";
import { sql, testDeps, uniqueName } from "../support/app";
import { VENDOR_ENV, vendors } from "../support/vendors";

const MIN = 60_000;
const DAY = 86_400_000;
// The top of the current hour: the watchdog's :20 tick runs retention, whose cutoffs are on the
// run's clock while rows are stamped by the database's, so a clock years ahead would prune them.
const START = Math.floor(Date.now() / 3_600_000) * 3_600_000;

interface Stack {
  clock: ManualClock;
  qstash: QStashServer;
  client: Client;
  deps: RunDeps;
  close(): Promise<void>;
}

/**
 * The app's real routes (cron, jobs, the failure callback) behind HTTP, the local QStash server on a
 * manual clock delivering to them, and the registry's schedules synced as `pnpm qstash:schedule` does.
 */
async function stack(jobs: ReturnType<typeof defineJob>[], entries: ScheduleEntry[], o: { maxDelayMs?: number } = {}): Promise<Stack> {
  const clock = new ManualClock(START);
  const qstash = await startQStashServer({ port: 0, clock, signingNow: Date.now, log: () => {}, maxDelayMs: o.maxDelayMs });
  // The routes and the watchdog read the deps, which are made with them: through a reference.
  const ref: { deps?: RunDeps } = {};
  const get = async () => ref.deps!;
  const cron = jobRoute("cron", get);
  const job = jobRoute("jobs", get);
  const failed = failureRoute(get);
  const app = await serveRoutes({
    cron,
    jobs: { GET: job.GET, POST: (req, ctx) => ctx.params.then((p) => (p.job === "failed" ? failed.POST(req) : job.POST(req, ctx))) },
  });
  const registry = async () => ref.deps!.registry;
  const keepAlive = createKeepAlive({ schedules: () => ref.deps!.registry.schedules, registry });
  const system = [createWatchdog({ registry }), keepAlive];
  const base = testDeps([...system, ...jobs], [{ job: "watchdog", cron: "*/10 * * * *", retries: 0, catchUp: false }, { job: "keep-alive", cron: "0 6 * * *", via: "vercel" }, ...entries], {
    ...VENDOR_ENV,
    APP_URL: app.url,
    QSTASH_URL: qstash.url,
    QSTASH_TOKEN: qstash.token,
    QSTASH_CURRENT_SIGNING_KEY: qstash.currentSigningKey,
    QSTASH_NEXT_SIGNING_KEY: qstash.nextSigningKey,
    ALERT_COOLDOWN_MINUTES: "60",
    ...(o.maxDelayMs && { QSTASH_MAX_DELAY: `${o.maxDelayMs / 86_400_000}d` }),
  });
  const deps: RunDeps = (ref.deps = { ...base, clock: () => new Date(clock.now()) });
  const client = new Client({ baseUrl: qstash.url, token: qstash.token, retry: false, enableTelemetry: false });
  expect((await syncSchedules(client, deps.env, deps.registry, { now: new Date(START) })).status).toBe("applied");
  return {
    clock,
    qstash,
    client,
    deps,
    close: async () => {
      await deps.db.close();
      await qstash.close();
      await app.close();
    },
  };
}

let s: Stack | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

const runs = (job: string) =>
  sql()<{ trigger: string; status: string; slot_at: Date | null }[]>`select trigger, status, slot_at from job_runs where job = ${job} order by slot_at, started_at`;
const iso = (ms: number) => new Date(ms).toISOString();

describe("the watchdog", () => {
  it("reports a */5 job whose schedule was deleted within 15 minutes of its first missed slot, and runs that slot once", async () => {
    const calls = vendors();
    const job = uniqueName("every-five");
    s = await stack([defineJob({ name: job, description: "a sweep", handler: async () => ({}) })], [{ job, cron: "*/5 * * * *", retries: 0 }]);
    await s.clock.advanceTo(START + 21 * MIN);
    expect((await runs(job)).map((r) => r.slot_at?.toISOString())).toEqual([5, 10, 15, 20].map((m) => iso(START + m * MIN)));

    await s.client.schedules.delete(`test-${job}`);
    const firstMissed = START + 25 * MIN;
    await s.clock.advanceTo(firstMissed + 15 * MIN);

    // Reported: one alert of the job's incident, sent by the watchdog run at 09:30 (5 minutes after the slot).
    const texts = calls.resend.map((c) => (c.body as { text: string }).text).filter((t) => t.includes(job));
    const alerts = calls.resend.filter((c) => JSON.stringify(c.body).includes(`${job}: missed its`));
    expect(alerts).toHaveLength(1);
    // A catch-up run's success is no recovery: the schedule is still missing, the incident stays open.
    expect(texts.filter((t) => t.includes(`${job} succeeded again`))).toHaveLength(0);
    expect(JSON.stringify(alerts[0]!.body)).toContain(`missed its ${iso(firstMissed)} run`);
    expect(JSON.stringify(alerts[0]!.body)).toContain("missing in QStash");
    const events = await sql()<{ reason: string; at: Date }[]>`select reason, at from alert_events where job = ${job} order by at`;
    expect(events[0]).toMatchObject({ reason: `missed:${iso(firstMissed)}` });
    expect(events[0]!.at.getTime() - firstMissed).toBeLessThanOrEqual(15 * MIN);

    // Caught up: the 09:25 slot ran once, with its own slot; 09:30 was covered by 09:35's catch-up.
    const after = (await runs(job)).filter((r) => r.slot_at!.getTime() >= firstMissed);
    expect(after.map((r) => [r.slot_at!.toISOString(), r.trigger, r.status])).toEqual([
      [iso(firstMissed), "catch-up", "succeeded"],
      [iso(START + 35 * MIN), "catch-up", "succeeded"],
    ]);
    const decided = await sql()<{ slot_at: Date; decision: string }[]>`select slot_at, decision from schedule_slots where job = ${job} order by slot_at`;
    expect(decided.map((d) => [d.slot_at.toISOString(), d.decision])).toEqual([
      [iso(firstMissed), "catch-up"],
      [iso(START + 30 * MIN), "covered"],
      [iso(START + 35 * MIN), "catch-up"],
    ]);
  });

  it("pauses a schedule after its pauseAfterFailures dead letters in a row, says how to resume, and a success after the resume closes the incident", async () => {
    const calls = vendors();
    const job = uniqueName("always-fails");
    let fail = true;
    const def = defineJob({
      name: job,
      description: "fails until fixed",
      handler: async () => {
        if (fail) throw new Error("upstream is down");
        return {};
      },
    });
    s = await stack([def], [{ job, cron: "*/5 * * * *", retries: 0, pauseAfterFailures: 2, catchUp: false }]);
    await s.clock.advanceTo(START + 11 * MIN);
    expect((await runs(job)).map((r) => r.status)).toEqual(["failed", "failed"]);
    expect((await s.client.schedules.get(`test-${job}`)).isPaused).toBe(true);
    const paused = calls.resend.filter((c) => JSON.stringify(c.body).includes(`${job} is paused after failing`));
    expect(paused).toHaveLength(1);
    expect(JSON.stringify(paused[0]!.body)).toContain(`pnpm qstash:resume ${job}`);

    // Paused: no tick, and the watchdog reports no missed slot for it.
    await s.clock.advanceTo(START + 31 * MIN);
    expect(await runs(job)).toHaveLength(2);
    expect(await sql()`select 1 from schedule_slots where job = ${job}`).toHaveLength(0);

    fail = false;
    expect(await setJobPaused(s.client, s.deps.env, job, false)).toEqual([`test-${job}`]);
    await s.clock.advanceTo(START + 36 * MIN);
    expect((await runs(job)).map((r) => r.status)).toEqual(["failed", "failed", "succeeded"]);
    expect(calls.resend.filter((c) => JSON.stringify(c.body).includes(`${job} recovered`))).toHaveLength(1);
    const [incident] = await sql()<{ recovered_at: Date | null }[]>`select recovered_at from alert_incidents where job = ${job}`;
    expect(incident!.recovered_at).not.toBeNull();
  });

  it("is itself watched by keep-alive, which sweeps the day when the watchdog stopped and says so in its digest", async () => {
    const calls = vendors();
    const job = uniqueName("hourly");
    s = await stack([defineJob({ name: job, description: "a sweep", handler: async () => ({}) })], [{ job, cron: "0 * * * *", retries: 0 }]);
    const watchdogRuns = async () => (await sql()`select 1 from job_runs where job = 'watchdog'`).length;
    const before = await watchdogRuns();
    await s.client.schedules.delete("test-watchdog");
    await s.clock.advanceTo(START + 61 * MIN);
    await s.client.schedules.delete(`test-${job}`);
    await s.clock.advanceTo(START + 4 * 60 * MIN + 30 * MIN);
    expect(await watchdogRuns()).toBe(before);

    // Its previous success three days ago: Vercel lost two mornings (it never retries), which the digest says.
    const lastMorning = new Date(Math.floor((START - 3 * DAY) / DAY) * DAY + 6 * 60 * MIN);
    await sql()`insert into job_runs (job, trigger, status, slot_at, started_at, finished_at) values ('keep-alive', 'vercel', 'succeeded', ${lastMorning}, now(), now())`;
    const out = await runJob({ job: "keep-alive", payload: {}, trigger: "vercel" }, s.deps);
    expect(out).toMatchObject({ status: "succeeded" });
    await s.clock.settle();
    // 11:00, 12:00 and 13:00 were missed: 13:00 is within the hourly job's window (one period) and runs; the others are older.
    const decided = await sql()<{ slot_at: Date; decision: string }[]>`select slot_at, decision from schedule_slots where job = ${job} order by slot_at`;
    expect(decided.map((d) => [d.slot_at.toISOString(), d.decision])).toEqual([
      [iso(START + 120 * MIN), "missed"],
      [iso(START + 180 * MIN), "missed"],
      [iso(START + 240 * MIN), "catch-up"],
    ]);
    expect((await runs(job)).map((r) => [r.slot_at!.toISOString(), r.trigger])).toEqual([
      [iso(START + 60 * MIN), "qstash"],
      [iso(START + 240 * MIN), "catch-up"],
    ]);
    const digest = calls.resend.map((c) => (c.body as { text: string }).text).find((t) => t.includes("in the last 24 h"));
    expect(digest).toContain("watchdog: slots no delivery reached in the last 24 h");
    expect(digest).toContain("the watchdog itself");
    expect(digest).toContain(`${job}: slots no delivery reached in the last 24 h: 1 caught up, 2 missed`);
    expect(digest).toContain(`keep-alive did not succeed since ${lastMorning.toISOString().slice(0, 16)}`);
  });

  it("publishes a one-time message parked past QStash's maximum delay once it comes within range", async () => {
    vendors(); // the watchdog's own alerts, if any, go to the vendors' stand-ins
    const job = uniqueName("reminder");
    s = await stack([defineJob({ name: job, description: "a reminder", payload: z.object({ n: z.number() }), handler: async () => ({}) })], [], { maxDelayMs: 7 * DAY });
    const deliverAt = new Date(START + 8 * DAY);
    const parked = await schedule({ ...s.deps, client: s.client, clock: () => new Date(s!.clock.now()) }, { owner: `test:${job}`, job, payload: { n: 1 }, notBefore: deliverAt });
    expect(parked.messageId).toMatch(/^parked_/);
    const status = async () => (await sql()<{ status: string; published_id: string }[]>`select status, published_id from job_messages where owner = ${`test:${job}`}`)[0]!;
    // Within range at 7 days less the hour's margin: the first watchdog run after that publishes it.
    await s.clock.advanceTo(deliverAt.getTime() - 7 * DAY + 60 * MIN - MIN);
    expect((await status()).status).toBe("parked");
    await s.clock.advanceTo(deliverAt.getTime() - 7 * DAY + 60 * MIN + 10 * MIN);
    const published = await status();
    expect(published.status).toBe("scheduled");
    expect((await s.client.messages.get(published.published_id)).notBefore).toBe(deliverAt.getTime());
  });
});

describe("the slots a sweep counts as unseen", () => {
  it("leave out a slot whose tick waits behind a running run (buffer-one): it is on its way, not missed", async () => {
    const job = uniqueName("buffered");
    const [a, b, c] = [new Date(START + 5 * MIN), new Date(START + 10 * MIN), new Date(START + 15 * MIN)] as const;
    await sql()`insert into job_runs (job, trigger, status, slot_at, started_at, lease_expires_at, buffered_message_id, buffered_slot_at, buffered_at)
                values (${job}, 'qstash', 'running', ${a}, now(), now() + interval '30 seconds', 'msg_waiting', ${b}, now())`;
    const unseen = await sql()<{ unseen: Record<string, string[]> }[]>`select schedule_slots_unseen(${sql().json([{ job, slots: [a, b, c].map((d) => d.toISOString()) }])}) as unseen`;
    expect(unseen[0]!.unseen[job]!.map((t) => new Date(t).toISOString())).toEqual([c.toISOString()]);
  });
});
