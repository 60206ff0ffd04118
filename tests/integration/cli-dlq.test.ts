import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Client } from "@upstash/qstash";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startQStashServer } from "../../dev/qstash/server";
import { dlqActCommand, dlqListCommand, dlqShowCommand } from "../../lib/cli/commands/dlq";
import { statsCommand } from "../../lib/cli/commands/stats";
import { createCliContext } from "../../lib/cli/context";
import { memoryIo } from "../../lib/cli/io";
import type { StatsReport } from "../../lib/cli/stats";
import { LOCAL_QSTASH } from "../../lib/env";
import { defineJob } from "../../lib/jobs/define";
import { createRegistry } from "../../lib/jobs/registry";
import { testEnv, uniqueName } from "../support/app";

const job = uniqueName("dlq-job");
const registry = createRegistry([defineJob({ name: job, description: "t", handler: async () => ({}) })], []);

let qstash: Awaited<ReturnType<typeof startQStashServer>>;
let app: Server;
let appUrl: string;
/** The app answers 500 until told otherwise, so each message (retries: 0) lands in the DLQ at once. */
let appStatus = 500;
const delivered: string[] = [];

beforeAll(async () => {
  qstash = await startQStashServer({ port: 0 });
  app = createServer((req, res) => {
    delivered.push(`${req.method} ${req.url}`);
    res.writeHead(appStatus, { "content-type": "application/json" }).end(JSON.stringify({ error: appStatus === 500 ? "database is down" : undefined }));
  });
  await new Promise<void>((r) => app.listen(0, "127.0.0.1", r));
  appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
});
const contexts: ReturnType<typeof createCliContext>[] = [];
afterAll(async () => {
  for (const c of contexts) await c.close();
  await qstash.close();
  await new Promise((r) => app.close(r));
});

const client = () => new Client({ baseUrl: qstash.url, token: LOCAL_QSTASH.token, retry: false });
function cli() {
  const io = memoryIo();
  const ctx = createCliContext({ env: testEnv({ APP_URL: appUrl, QSTASH_URL: qstash.url, QSTASH_TOKEN: LOCAL_QSTASH.token }), registry, io });
  contexts.push(ctx);
  return { ctx, io };
}
async function deadLetter(url: string): Promise<string> {
  const { messageId } = await client().publishJSON({ url, body: { n: 1 }, retries: 0 });
  for (let i = 0; i < 200; i++) {
    const hit = (await client().dlq.listMessages()).messages.find((m) => m.messageId === messageId);
    if (hit) return hit.dlqId;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`message ${messageId} to ${url} never reached the DLQ`);
}

describe("pnpm qstash:dlq against the local QStash server", () => {
  let ours: string;
  let other: string;
  beforeAll(async () => {
    ours = await deadLetter(`${appUrl}/api/jobs/${job}`);
    // Another deployment's dead letter in the same account.
    other = await deadLetter(`${appUrl.replace("127.0.0.1", "localhost")}/api/jobs/${job}`);
  });

  it("lists this deployment's dead letters (all of them with --all)", async () => {
    const { ctx, io } = cli();
    expect(await dlqListCommand(ctx)).toBe(0);
    expect(io.stdout()).toMatch(new RegExp(`│ ${ours} +│ ${job} +│ 500 +│ .* UTC +│ - +│ {"error":"database is down"} +│`));
    expect(io.stdout()).not.toContain(other);
    expect(io.stdout()).toContain("1 dead letter(s).");
    const all = cli();
    expect(await dlqListCommand(all.ctx, { all: true, json: true })).toBe(0);
    expect((JSON.parse(all.io.stdout()) as { dlqId: string }[]).map((m) => m.dlqId).sort()).toEqual([ours, other].sort());
  });

  it("shows one, and says clearly when an id is not there", async () => {
    const { ctx, io } = cli();
    expect(await dlqShowCommand(ctx, ours)).toBe(0);
    expect(io.stdout()).toMatch(new RegExp(`│ url +│ POST ${appUrl}/api/jobs/${job} +│`));
    expect(io.stdout()).toMatch(/│ last status +│ 500 +│/);
    expect(io.stdout()).toMatch(/│ body +│ {"n":1} +│/);
    const missing = cli();
    expect(await dlqShowCommand(missing.ctx, "dlq_nope")).toBe(1);
    expect(missing.io.stderr()).toContain("error: no dead letter dlq_nope: it was retried, deleted, or expired");
  });

  it("counts dead letters per job in qstash:stats", async () => {
    const { ctx, io } = cli();
    expect(await statsCommand(ctx, { since: "1h", job: [job], json: true })).toBe(0);
    const report = JSON.parse(io.stdout()) as StatsReport;
    expect(report.qstash).toEqual({ ok: true });
    expect(report.rows).toEqual([expect.objectContaining({ job, runs: 0, dlq: 1, missed: null })]);
  });

  it("qstash:stats counts ticks from when QStash holds the schedule, and says when it is paused or missing", async () => {
    const paused = uniqueName("paused");
    const missing = uniqueName("missing");
    const fresh = uniqueName("fresh");
    const reg = createRegistry(
      [paused, missing, fresh].map((name) => defineJob({ name, description: "t", handler: async () => ({}) })),
      [paused, missing, fresh].map((job) => ({ job, cron: "*/5 * * * *" })),
    );
    const env = testEnv({ APP_URL: appUrl, QSTASH_URL: qstash.url, QSTASH_TOKEN: LOCAL_QSTASH.token });
    for (const job of [paused, fresh]) await client().schedules.create({ scheduleId: `${env.schedulePrefix}-${job}`, destination: `${appUrl}/api/cron/${job}`, cron: "*/5 * * * *" });
    await client().schedules.pause({ schedule: `${env.schedulePrefix}-${paused}` });
    const io = memoryIo();
    const ctx = createCliContext({ env, registry: reg, io });
    contexts.push(ctx);
    expect(await statsCommand(ctx, { since: "1h", job: [paused, missing, fresh], json: true })).toBe(0);
    const rows = (JSON.parse(io.stdout()) as StatsReport).rows;
    const p = rows.find((r) => r.job === paused)!;
    const m = rows.find((r) => r.job === missing)!;
    expect([p.expected_slots, p.missed, p.notes]).toEqual([0, 0, ["paused in QStash: missed runs not counted"]]);
    // An hour of */5 minus the 5-minute grace: 11 or 12 ticks, every one missed.
    expect(m.expected_slots === 11 || m.expected_slots === 12).toBe(true);
    expect(m.missed).toBe(m.expected_slots);
    expect(m.notes).toEqual([`no schedule ${env.schedulePrefix}-${missing} in QStash: every tick is missed until pnpm qstash:schedule creates it`]);
    // Created a moment ago: no tick before it was expected to run.
    expect(rows.find((r) => r.job === fresh)).toMatchObject({ expected_slots: 0, missed: 0, notes: [] });
    for (const job of [paused, fresh]) await client().schedules.delete(`${env.schedulePrefix}-${job}`);
  });

  it("retries (a new message, delivered) and deletes by id; an unknown id fails with exit 1", async () => {
    appStatus = 200;
    const before = delivered.length;
    const r = cli();
    expect(await dlqActCommand(r.ctx, "retry", [ours, "dlq_nope"])).toBe(1);
    expect(r.io.stdout()).toMatch(new RegExp(`^retried ${ours}: new message msg_\\S+\\n1 of 2 retried\\.\\n$`));
    expect(r.io.stderr()).toContain("error: could not retry dlq_nope: ");
    await expect.poll(() => delivered.length, { timeout: 10_000 }).toBe(before + 1);

    const d = cli();
    expect(await dlqActCommand(d.ctx, "delete", [other])).toBe(0);
    expect(d.io.stdout()).toBe(`deleted ${other}\n1 of 1 deleted.\n`);
    expect((await client().dlq.listMessages()).messages.map((m) => m.dlqId)).toEqual([]);
    const gone = cli();
    expect(await dlqActCommand(gone.ctx, "delete", [other])).toBe(1);
    expect(gone.io.stderr()).toMatch(new RegExp(`could not delete ${other}: QStash at .* answered 404: dlq message ${other} not found`));
  });
});
