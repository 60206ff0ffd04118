import { randomUUID } from "node:crypto";
import { Client } from "@upstash/qstash";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { manualClock, startQStashServer, type ManualClock, type QStashServer } from "../../dev/qstash/server";
import { catalog, composeRegistry } from "../../config/app";
import { loadEnv, type Env } from "../../lib/env";
import { createRequestOf, desiredSchedules } from "../../lib/qstash/desired";
import { publishJob } from "../../lib/qstash/publish";
import { createE2eDatabase, freePort, startNextDev, type E2eDatabase, type NextApp } from "./support";
import { testDatabaseUrl } from "../support/db";

/** The app's registry: the server runs every product (PRODUCTS unset in test mode). */
const registry = composeRegistry(catalog);

/**
 * The whole path with nothing stubbed: the local QStash server (official SDK in front of it) delivers
 * signed requests to the real Next.js app (`next dev`), which verifies them, runs registry jobs and
 * records them in a real PostgreSQL. The QStash clock is manual, so minutes of cron ticks and
 * retry backoff pass in milliseconds; signatures carry wall-clock time, so the app verifies them.
 * The app gets a database of its own (see createE2eDatabase). Next 16 allows one `next dev` per
 * folder (.next/dev/lock): with `pnpm dev` running, this file fails at once and says so.
 */

interface Run {
  job: string;
  trigger: string;
  status: string;
  message_id: string;
  schedule_id: string | null;
  attempt: number;
  slot_at: Date | null;
  started_at: Date;
  stats: Record<string, unknown> | null;
  error: { name: string; message: string } | null;
}

let db: E2eDatabase;
let clock: ManualClock;
let qstash: QStashServer;
let app: NextApp | undefined;
let client: Client;
let env: Env;

const runs = (where: { messageId?: string; scheduleId?: string }) =>
  db.sql<Run[]>`select * from job_runs where ${where.messageId ? db.sql`message_id = ${where.messageId}` : db.sql`schedule_id = ${where.scheduleId!}`} order by started_at, id`;
const events = (messageId: string) => qstash.state.events.filter((e) => e.messageId === messageId);
const publish = (job: string, payload: unknown, opts: Parameters<typeof publishJob>[3] = {}) => publishJob({ env, registry, client }, job, payload, opts);
/** QStash's default backoff before retry n (wire facts): e^(2.5 n) seconds, 12 s, 2m28s, 30m8s. */
const backoffMs = (n: number) => Math.exp(2.5 * n) * 1000;

beforeAll(async () => {
  db = await createE2eDatabase(testDatabaseUrl());
  clock = manualClock();
  qstash = await startQStashServer({ port: 0, clock, signingNow: Date.now, currentSigningKey: `sig_e2e_cur_${randomUUID()}`, nextSigningKey: `sig_e2e_next_${randomUUID()}` });
  const port = await freePort();
  const record = {
    APP_ENV: "test",
    APP_URL: `http://127.0.0.1:${port}`,
    DATABASE_URL: db.url,
    QSTASH_URL: qstash.url,
    QSTASH_TOKEN: qstash.token,
    QSTASH_CURRENT_SIGNING_KEY: qstash.currentSigningKey,
    QSTASH_NEXT_SIGNING_KEY: qstash.nextSigningKey,
    CRON_SECRET: `e2e-cron-secret-${randomUUID()}`,
    SCHEDULE_PREFIX: "e2e",
    // Nothing listens on port 1: keep-alive fails for a real reason (Redis down) with a 500.
    UPSTASH_REDIS_REST_URL: "http://127.0.0.1:1",
    UPSTASH_REDIS_REST_TOKEN: "e2e-token",
    LOG_LEVEL: "warn",
  };
  env = loadEnv(record);
  client = new Client({ baseUrl: qstash.url, token: qstash.token, retry: false, enableTelemetry: false });
  const warmUp = ["/api/jobs/failed", "/api/jobs/heartbeat", "/api/cron/cleanup-expired-reservations"];
  // The warm-up compiles three routes with Turbopack: under CI's parallel test files on two cores
  // that took more than the default 45 s once.
  app = await startNextDev(record, { port, warmUp, readyTimeoutMs: 100_000 });
  // Unsigned, the warm-up requests are refused before any work is done.
  expect(app.warmedUp, app.output()).toEqual(Object.fromEntries(warmUp.map((p) => [p, 401])));
}, 130_000);

afterAll(async () => {
  await app?.stop();
  await qstash?.close();
  await db?.drop();
});

describe("local stack end to end (next dev + local QStash + PostgreSQL)", () => {
  it("a registered schedule fires at its tick and the run is in the ledger with trigger qstash and its schedule id", async () => {
    const expert = randomUUID();
    const hold = (status: string, expiresInMs: number) => ({
      expert_id: expert,
      client_id: randomUUID(),
      slot_start: new Date(Date.now() + 86_400_000),
      slot_end: new Date(Date.now() + 90_000_000),
      status,
      expires_at: new Date(Date.now() + expiresInMs),
    });
    await db.sql`insert into slot_reservations ${db.sql([hold("held", -3_600_000), hold("held", -60_000), hold("held", 86_400_000), hold("paid", -3_600_000)])}`;

    // The same request `pnpm qstash:schedule` sends for this registry entry.
    const desired = desiredSchedules(registry, env).find((d) => d.job === "cleanup-expired-reservations")!;
    expect(desired).toMatchObject({ scheduleId: "e2e-cleanup-expired-reservations", cron: "*/15 * * * *", destination: `${app!.url}/api/cron/cleanup-expired-reservations` });
    await client.schedules.create(createRequestOf(desired));
    const tick = (await client.schedules.get(desired.scheduleId)).nextScheduleTime!;
    expect(tick % 900_000).toBe(0);

    await clock.advanceTo(tick - 1);
    expect(await runs({ scheduleId: desired.scheduleId })).toHaveLength(0);
    await clock.advanceTo(tick);
    const [run, ...more] = await runs({ scheduleId: desired.scheduleId });
    expect(more).toHaveLength(0);
    const delivered = qstash.state.events.filter((e) => e.scheduleId === desired.scheduleId && e.state === "DELIVERED");
    expect(delivered.map((e) => [e.messageId, e.time])).toEqual([[run!.message_id, tick]]);
    expect(run).toMatchObject({ job: "cleanup-expired-reservations", trigger: "qstash", status: "succeeded", attempt: 0, stats: { released: 2 } });
    // The slot is the app's own latest quarter-hour tick (wall clock) at or before the start.
    expect(run!.slot_at!.getTime() % 900_000).toBe(0);
    expect(run!.started_at.getTime() - run!.slot_at!.getTime()).toBeLessThan(900_000);
    const left = await db.sql<{ status: string }[]>`select status from slot_reservations where expert_id = ${expert} order by expires_at, status`;
    expect(left.map((r) => r.status)).toEqual(["paid", "released", "released", "held"]);
    const after = await client.schedules.get(desired.scheduleId);
    expect(after).toMatchObject({ lastScheduleTime: tick, nextScheduleTime: tick + 900_000, lastScheduleStates: { [run!.message_id]: "SUCCESS" } });
    await client.schedules.delete(desired.scheduleId);
  });

  it("a one-time job published with a delay arrives after the delay, signed and verified", async () => {
    const t0 = clock.now();
    const { messageId } = await publish("heartbeat", {}, { delaySeconds: 90 });
    await clock.advance(89_999);
    expect(await runs({ messageId })).toHaveLength(0);
    expect((await client.messages.get(messageId)).messageId).toBe(messageId);
    await clock.advance(1);
    // trigger qstash: the app accepted the signature (bound to its APP_URL) before running the job.
    expect(await runs({ messageId })).toMatchObject([{ job: "heartbeat", trigger: "qstash", status: "succeeded", schedule_id: null, attempt: 0, stats: { ok: true, slot: null } }]);
    expect(events(messageId).map((e) => [e.state, e.time - t0])).toEqual([
      ["CREATED", 0],
      ["ACTIVE", 90_000],
      ["DELIVERED", 90_000],
    ]);
  });

  it("a job failing with 500 is retried with growing delays, then dead-lettered through the failure callback", async () => {
    const { messageId } = await publish("keep-alive", {}, { retries: 3 });
    await clock.settle();
    expect(await runs({ messageId })).toHaveLength(1);
    const waits: number[] = [];
    for (let n = 1; n <= 3; n++) {
      const retry = events(messageId).filter((e) => e.state === "RETRY")[n - 1]!;
      const failedAt = events(messageId).filter((e) => e.state === "ERROR")[n - 1]!.time;
      waits.push(retry.nextDeliveryTime! - failedAt);
      await clock.advanceTo(retry.nextDeliveryTime! - 1);
      expect(await runs({ messageId })).toHaveLength(n);
      await clock.advanceTo(retry.nextDeliveryTime!);
      expect(await runs({ messageId })).toHaveLength(n + 1);
    }
    waits.forEach((w, i) => expect(w).toBeCloseTo(backoffMs(i + 1), -3));
    const ledger = await runs({ messageId });
    expect(ledger.map((r) => [r.attempt, r.trigger, r.status])).toEqual([0, 1, 2, 3].map((a) => [a, "qstash", "failed"]));
    for (const r of ledger) expect(r.error?.message).toMatch(/fetch failed|ECONNREFUSED|Unable to connect/i);
    expect(events(messageId).filter((e) => e.state === "ERROR").map((e) => e.responseStatus)).toEqual([500, 500, 500, 500]);

    const dlq = (await client.dlq.listMessages()).messages.find((m) => m.messageId === messageId);
    expect(dlq).toMatchObject({ responseStatus: 500, url: `${app!.url}/api/jobs/keep-alive` });
    const dead = await db.sql`select * from dead_letters where source_message_id = ${messageId}`;
    expect(dead).toMatchObject([{ job: "keep-alive", dlq_id: dlq!.dlqId, response_status: 500, retried: 3, max_retries: 3, url: `${app!.url}/api/jobs/keep-alive` }]);
    expect(dead[0]!.response_body).toMatch(/fetch failed|ECONNREFUSED|Unable to connect/i);
  }, 40_000);

  it("a 489 (bad payload) goes to the DLQ without retries and is dead-lettered", async () => {
    // publishJob refuses a bad payload, so this one is sent with the SDK as a careless caller would.
    const url = `${app!.url}/api/jobs/cleanup-expired-reservations`;
    const { messageId } = await client.publishJSON({ url, body: ["not", "an", "object"], retries: 3, failureCallback: `${app!.url}/api/jobs/failed` });
    await clock.settle();
    await clock.advance(3_600_000);
    expect(events(messageId).map((e) => [e.state, e.responseStatus])).toEqual([
      ["CREATED", undefined],
      ["ACTIVE", undefined],
      ["ERROR", 489],
      ["FAILED", 489],
    ]);
    // Rejected before the ledger opens a run: no row at all.
    expect(await runs({ messageId })).toHaveLength(0);
    expect((await client.dlq.listMessages()).messages.find((m) => m.messageId === messageId)).toMatchObject({ responseStatus: 489, url });
    const dead = await db.sql`select * from dead_letters where source_message_id = ${messageId}`;
    expect(dead).toMatchObject([{ job: "cleanup-expired-reservations", response_status: 489, retried: 0, max_retries: 3, source_body: '["not","an","object"]' }]);
    expect(dead[0]!.response_body).toContain("invalid payload");
  });

  it("a duplicate publish with the same deduplication id is delivered once", async () => {
    const deduplicationId = `e2e-dedup-${randomUUID()}`;
    const first = await publish("heartbeat", {}, { deduplicationId });
    const second = await publish("heartbeat", {}, { deduplicationId });
    expect(second).toEqual({ messageId: first.messageId, deduplicated: true });
    expect(first.deduplicated).toBe(false);
    await clock.settle();
    await clock.advance(60_000);
    expect(events(first.messageId).map((e) => e.state)).toEqual(["CREATED", "ACTIVE", "DELIVERED"]);
    expect(await runs({ messageId: first.messageId })).toMatchObject([{ job: "heartbeat", trigger: "qstash", status: "succeeded", attempt: 0 }]);
  });
});
