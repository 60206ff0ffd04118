import { randomUUID } from "node:crypto";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Client } from "@upstash/qstash";
import { http, HttpResponse } from "msw";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startQStashServer } from "../../dev/qstash/server";
import { cleanupCommand } from "../../lib/cli/commands/cleanup";
import { listCommand, listRows } from "../../lib/cli/commands/list";
import { scheduleCommand, type ScheduleOptions } from "../../lib/cli/commands/schedule";
import { createCliContext } from "../../lib/cli/context";
import { memoryIo } from "../../lib/cli/io";
import { LOCAL_QSTASH, loadEnv } from "../../lib/env";
import { defineJob } from "../../lib/jobs/define";
import { createRegistry } from "../../lib/jobs/registry";
import type { ScheduleEntry } from "../../lib/jobs/schedules";
import { server as msw } from "../mocks/server";

// Yearly crons: the local server must not fire deliveries at a closed port while the tests run.
const YEARLY = "0 0 1 1 *";
const APP_URL = "http://127.0.0.1:9/app";
const prefix = `t${randomUUID().slice(0, 6)}`;

let qstash: Awaited<ReturnType<typeof startQStashServer>>;
let proxy: Server;
let proxyUrl: string;
/** Every request the CLI made to QStash, as "METHOD /path", counted by a pass-through proxy. */
const requests: string[] = [];

beforeAll(async () => {
  qstash = await startQStashServer({ port: 0 });
  const target = new URL(qstash.url);
  proxy = createServer((req, res) => {
    requests.push(`${req.method} ${req.url!.split("?")[0]}`);
    const up = httpRequest({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    req.pipe(up);
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => proxy.close(r));
  await qstash.close();
});
beforeEach(() => void (requests.length = 0));

const noop = async () => ({});
const jobs = ["alpha", "beta", "gamma"].map((name) => defineJob({ name, description: "t", timeoutMs: 30_000, handler: noop }));
const v1: ScheduleEntry[] = [
  { job: "alpha", cron: YEARLY },
  // Zoned: noon on 1 January in Lisbon, which QStash gets as the UTC cron of that offset.
  { job: "beta", cron: "CRON_TZ=Europe/Lisbon 0 12 1 1 *", retries: 5 },
  { job: "gamma", cron: YEARLY, retries: 0 },
];

function cli(entries: ScheduleEntry[], env: Record<string, string> = {}, io = memoryIo()) {
  const e = loadEnv({ APP_ENV: "test", APP_URL, QSTASH_URL: proxyUrl, QSTASH_TOKEN: LOCAL_QSTASH.token, SCHEDULE_PREFIX: prefix, ...env });
  return { io, ctx: createCliContext({ env: e, registry: createRegistry(jobs, entries), io }) };
}
async function schedule(entries: ScheduleEntry[], opts: ScheduleOptions = {}, env: Record<string, string> = {}) {
  const { ctx, io } = cli(entries, env);
  const code = await scheduleCommand(ctx, opts);
  return { code, out: io.stdout(), err: io.stderr() };
}
const direct = () => new Client({ baseUrl: qstash.url, token: LOCAL_QSTASH.token, retry: false });
const listed = async () => (await direct().schedules.list()).sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
const writes = () => requests.filter((r) => !r.startsWith("GET "));

describe("pnpm qstash:schedule against the local QStash server", () => {
  let handMade: string;

  beforeAll(async () => {
    // Two schedules that are not ours: another environment's prefix, and one made by hand (no id).
    await direct().schedules.create({ scheduleId: `other${prefix}-alpha`, destination: "https://elsewhere.example.com/api/cron/alpha", cron: YEARLY });
    handMade = (await direct().schedules.create({ destination: "https://elsewhere.example.com/hook", cron: YEARLY })).scheduleId;
  });
  const foreignSurvive = async () => expect((await listed()).map((s) => s.scheduleId)).toEqual(expect.arrayContaining([`other${prefix}-alpha`, handMade]));

  it("first sync creates every schedule, then verifies by listing again", async () => {
    const r = await schedule(v1);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain(`Plan: 3 to create, 0 to update, 0 to delete, 0 unchanged. 2 other schedules in the account are not ours and left alone.`);
    expect(r.out).toMatch(new RegExp(`│ create +│ ${prefix}-alpha +│ ${YEARLY.replace(/\*/g, "\\*")}, retries 3, timeout 30s +│`));
    expect(r.out).toContain(`Verified: QStash now matches config/qstash.ts (3 schedules).`);
    expect(r.out).toMatch(/zoned: beta \(CRON_TZ=Europe\/Lisbon 0 12 1 1 \*\) runs as 1 UTC cron\(s\): 0 12 1 1 \*; keep-alive re-syncs them from 2027-03-26 01:00 UTC/);
    expect(requests).toEqual(["GET /v2/schedules", ...Array(3).fill(expect.stringMatching(/^POST \/v2\/schedules\//)), "GET /v2/schedules"]);
    const ours = (await listed()).filter((s) => s.scheduleId.startsWith(`${prefix}-`));
    expect(ours.map((s) => [s.scheduleId, s.destination, s.cron, s.retries, s.method, s.failureCallback])).toEqual([
      [`${prefix}-alpha`, `${APP_URL}/api/cron/alpha`, YEARLY, 3, "POST", `${APP_URL}/api/jobs/failed`],
      [`${prefix}-beta`, `${APP_URL}/api/cron/beta`, "0 12 1 1 *", 5, "POST", `${APP_URL}/api/jobs/failed`],
      [`${prefix}-gamma`, `${APP_URL}/api/cron/gamma`, YEARLY, 0, "POST", `${APP_URL}/api/jobs/failed`],
    ]);
    expect(ours[0]!.header?.["Cronlayer-Timeout"]).toEqual(["30"]);
    await foreignSurvive();
  });

  it("a second sync changes nothing, says so, and makes only the list call", async () => {
    const r = await schedule(v1);
    expect(r.code).toBe(0);
    expect(r.out).toContain("No changes: QStash already matches config/qstash.ts (3 schedules).");
    expect(requests).toEqual(["GET /v2/schedules"]);
  });

  it("--check exits 0 when in sync and 2 when something would change, without changing anything", async () => {
    expect((await schedule(v1, { check: true })).code).toBe(0);
    const changed = await schedule([{ ...v1[0]!, cron: "0 0 2 1 *" }, v1[1]!, v1[2]!], { check: true });
    expect(changed.code).toBe(2);
    expect(changed.out).toContain("1 change(s) pending: run pnpm qstash:schedule to apply them.");
    const dry = await schedule(v1.slice(0, 2), { dryRun: true });
    expect(dry.code).toBe(0);
    expect(dry.out).toContain("Dry run: nothing was applied.");
    expect(writes()).toEqual([]);
  });

  it("a changed cron is an update showing old -> new; a removed job is deleted; foreign schedules stay", async () => {
    const r = await schedule([{ ...v1[0]!, cron: "0 0 2 1 *" }, v1[1]!]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`│ update +│ ${prefix}-alpha +│ cron: 0 0 1 1 \\* -> 0 0 2 1 \\* +│`));
    expect(r.out).toMatch(new RegExp(`│ delete +│ ${prefix}-gamma +│ job "gamma" is no longer in config/qstash.ts +│`));
    expect(r.out).toContain("Plan: 0 to create, 1 to update, 1 to delete, 1 unchanged.");
    expect(r.out).toContain(`updated ${prefix}-alpha\ndeleted ${prefix}-gamma\n`);
    expect(writes()).toEqual([`POST /v2/schedules/${APP_URL}/api/cron/alpha`, `DELETE /v2/schedules/${prefix}-gamma`]);
    const ours = (await listed()).filter((s) => s.scheduleId.startsWith(`${prefix}-`));
    expect(ours.map((s) => [s.scheduleId, s.cron])).toEqual([
      [`${prefix}-alpha`, "0 0 2 1 *"],
      [`${prefix}-beta`, "0 12 1 1 *"],
    ]);
    await foreignSurvive();
  });

  it("--json gives the plan to scripts", async () => {
    const { ctx, io } = cli([{ ...v1[0]!, cron: "0 0 2 1 *", retries: 4 }, v1[1]!]);
    expect(await scheduleCommand(ctx, { json: true, check: true })).toBe(2);
    expect(JSON.parse(io.stdout())).toMatchObject({
      status: "pending",
      prefix,
      plan: { create: [], delete: [], unchanged: [`${prefix}-beta`], update: [{ scheduleId: `${prefix}-alpha`, changes: [{ field: "retries", from: "3", to: "4" }] }] },
    });
  });

  it("refuses over the plan's schedule limit and warns over its messages/day, before applying", async () => {
    const bulk = (n: number) => Array.from({ length: n }, (_, i) => defineJob({ name: `bulk-${i}`, description: "t", handler: noop }));
    const entriesOf = (jobs: ReturnType<typeof bulk>) => jobs.map((j) => ({ job: j.name, cron: "* * * * *" }));
    const e = loadEnv({ APP_ENV: "test", APP_URL, QSTASH_URL: proxyUrl, QSTASH_TOKEN: LOCAL_QSTASH.token, SCHEDULE_PREFIX: prefix });
    // 9 of ours + 2 foreign (the 2 of ours that leave the registry do not count after the sync): refused, nothing sent.
    const over = memoryIo();
    expect(await scheduleCommand(createCliContext({ env: e, registry: createRegistry(bulk(9), entriesOf(bulk(9))), io: over }), { dryRun: true, plan: "free" })).toBe(1);
    expect(over.stderr()).toContain("error: 11 schedules (9 for this deployment's jobs + 2 others already in the account) exceed the free plan's 10");
    expect(over.stderr()).toContain("Nothing was sent to QStash.");
    // One fewer fits; the messages/day past the plan's 1,000 is a warning (an estimate, retries and one-time messages on top).
    const io = memoryIo();
    expect(await scheduleCommand(createCliContext({ env: e, registry: createRegistry(bulk(8), entriesOf(bulk(8))), io }), { dryRun: true, plan: "free" })).toBe(0);
    expect(io.stderr()).toMatch(/warning: about 11,520 messages\/day from schedules alone \(first attempts, without retries or one-time messages\) exceed the free plan's 1,000/);
    expect(io.stdout()).toContain("Estimated load: 10 schedules in the account, about 11,520 messages/day");
    // Against a local server the limits are not checked unless asked for.
    const quiet = memoryIo();
    expect(await scheduleCommand(createCliContext({ env: e, registry: createRegistry(bulk(9), entriesOf(bulk(9))), io: quiet }), { dryRun: true })).toBe(0);
    expect(quiet.stderr()).toBe("");
    expect(writes()).toEqual([]);
  });

  it("refuses a localhost or plain-http APP_URL against cloud QStash, before any request", async () => {
    let cloudCalls = 0;
    msw.use(http.all("https://qstash.upstash.io/*", () => (cloudCalls++, HttpResponse.json([]))));
    const local = await schedule(v1, {}, { QSTASH_URL: "https://qstash.upstash.io", APP_URL: "http://localhost:3000" });
    expect(local.code).toBe(1);
    expect(local.err).toMatch(/^error: refusing to schedule against cloud QStash: APP_URL http:\/\/localhost:3000\/ is on this machine or a private network/);
    expect(local.err).toContain("Nothing was sent to QStash.");
    const plain = await schedule(v1, {}, { QSTASH_URL: "https://qstash.upstash.io", APP_URL: "http://jobs.example.com" });
    expect(plain.code).toBe(1);
    expect(plain.err).toContain("APP_URL http://jobs.example.com/ is not https");
    const priv = await schedule(v1, { check: true }, { QSTASH_URL: "https://qstash.upstash.io", APP_URL: "https://192.168.1.20" });
    expect(priv.code).toBe(1);
    expect(cloudCalls).toBe(0);
    expect(requests).toEqual([]);
  });

  it("qstash:list shows our schedules with drift, and the others with --all", async () => {
    // Someone edits one of ours in the console.
    const [alpha] = (await listed()).filter((s) => s.scheduleId === `${prefix}-alpha`);
    await direct().schedules.create({ scheduleId: alpha!.scheduleId, destination: alpha!.destination, cron: "0 0 2 1 *", retries: 1, method: "POST", body: "{}", timeout: 30, headers: { "Cronlayer-Timeout": "30" }, failureCallback: alpha!.failureCallback });
    const entries = [{ ...v1[0]!, cron: "0 0 2 1 *" }, v1[1]!];
    const { ctx } = cli(entries);
    const rows = await listRows(ctx, { all: true });
    expect(rows.filter((r) => r.ours).map((r) => [r.scheduleId, r.job, r.zone, r.words, r.drift])).toEqual([
      [`${prefix}-alpha`, "alpha", "UTC", "At 00:00, on day 2 of the month, only in January", ["retries: 1 -> 3"]],
      [`${prefix}-beta`, "beta", "Europe/Lisbon", "At 12:00, on day 1 of the month, only in January", []],
    ]);
    expect(rows.filter((r) => !r.ours).map((r) => r.scheduleId)).toEqual(expect.arrayContaining([`other${prefix}-alpha`, handMade]));
    expect(rows.find((r) => r.scheduleId === `${prefix}-beta`)!.next[0]).toBe("2027-01-01T12:00:00.000Z");

    const { ctx: c2, io } = cli(entries);
    expect(await listCommand(c2)).toBe(0);
    expect(io.stdout()).toContain("retries: 1 -> 3");
    expect(io.stdout()).toContain(`2 schedule(s) with prefix "${prefix}"; 1 drifted from config/qstash.ts: run pnpm qstash:schedule to reconcile.`);
    expect(io.stdout()).not.toContain(handMade);
    expect(writes()).toEqual([]);
  });

  it("qstash:cleanup asks first, deletes only our prefix, and leaves everything else", async () => {
    const dry = cli(v1);
    expect(await cleanupCommand(dry.ctx, { dryRun: true })).toBe(0);
    expect(dry.io.stdout()).toContain("Dry run: would delete 2 schedule(s)");
    const piped = cli(v1);
    expect(await cleanupCommand(piped.ctx)).toBe(1);
    expect(piped.io.stderr()).toContain("refusing to delete without confirmation: there is no terminal to ask. Pass --yes.");
    const no = cli(v1, {}, memoryIo({ isTTY: true, answer: false }));
    expect(await cleanupCommand(no.ctx)).toBe(1);
    expect(no.io.asked).toEqual(["Delete these 2 schedule(s)?"]);
    expect(writes()).toEqual([]);

    const yes = cli(v1);
    expect(await cleanupCommand(yes.ctx, { yes: true })).toBe(0);
    expect(yes.io.stdout()).toContain(`deleted ${prefix}-alpha\ndeleted ${prefix}-beta\nDeleted 2 schedule(s) with prefix "${prefix}".`);
    expect(writes()).toEqual([`DELETE /v2/schedules/${prefix}-alpha`, `DELETE /v2/schedules/${prefix}-beta`]);
    expect((await listed()).filter((s) => s.scheduleId.startsWith(`${prefix}-`))).toEqual([]);
    await foreignSurvive();
  });
});

describe("pnpm qstash:list with a zoned entry", () => {
  const kprefix = `k${randomUUID().slice(0, 6)}`;
  const entries: ScheduleEntry[] = [{ job: "alpha", cron: "CRON_TZ=Asia/Kolkata 0 18 1 1 *" }];
  const kcli = () => {
    const io = memoryIo();
    const env = loadEnv({ APP_ENV: "test", APP_URL, QSTASH_URL: proxyUrl, QSTASH_TOKEN: LOCAL_QSTASH.token, SCHEDULE_PREFIX: kprefix });
    return { io, ctx: createCliContext({ env, registry: createRegistry(jobs, entries), io, now: () => new Date("2026-12-07T06:00:00Z") }) };
  };

  it("shows the entry as written (18:00 Asia/Kolkata) with the UTC cron QStash holds beside it", async () => {
    expect(await scheduleCommand(kcli().ctx)).toBe(0);
    const rows = await listRows(kcli().ctx);
    expect(rows.map((r) => [r.scheduleId, r.cron, r.utcCron, r.zone, r.words, r.next[0], r.drift])).toEqual([
      [`${kprefix}-alpha`, "CRON_TZ=Asia/Kolkata 0 18 1 1 *", "30 12 1 1 *", "Asia/Kolkata", "At 18:00, on day 1 of the month, only in January", "2027-01-01T12:30:00.000Z", []],
    ]);
    const { ctx, io } = kcli();
    expect(await listCommand(ctx)).toBe(0);
    expect(io.stdout()).toMatch(/│ alpha +│ 0 18 1 1 \* +│ Asia\/Kolkata +│ 01-01 18:00/);
    expect(io.stdout()).toMatch(/│ +│ as UTC 30 12 1 1 \* +│/);
    expect(io.stdout()).not.toMatch(/At 12:30/);
  });
});

describe("pnpm qstash:schedule with a zoned entry in a zone with DST", () => {
  const zprefix = `z${randomUUID().slice(0, 6)}`;
  const entries: ScheduleEntry[] = [{ job: "alpha", cron: "CRON_TZ=Europe/Lisbon 30 1 * * *" }];
  const at = (iso: string, opts: ScheduleOptions = {}) => {
    const io = memoryIo();
    const env = loadEnv({ APP_ENV: "test", APP_URL, QSTASH_URL: proxyUrl, QSTASH_TOKEN: LOCAL_QSTASH.token, SCHEDULE_PREFIX: zprefix });
    const ctx = createCliContext({ env, registry: createRegistry(jobs, entries), io, now: () => new Date(iso) });
    return scheduleCommand(ctx, opts).then((code) => ({ code, out: io.stdout() }));
  };
  const ours = async () => (await listed()).filter((s) => s.scheduleId.startsWith(`${zprefix}-`)).map((s) => [s.scheduleId, s.cron]);

  it("sends UTC crons, reports them out of date within 48 h of the change, and then pins the change's dates", async () => {
    const first = await at("2027-03-20T06:00:00Z");
    expect(first.code).toBe(0);
    // Winter's crons: whole months at +00:00, and the dates after last October's change pinned.
    expect(await ours()).toEqual([
      [`${zprefix}-alpha`, "30 1 * 1-3,11,12 *"],
      [`${zprefix}-alpha-2`, "30 0 24,25 10 *"],
      [`${zprefix}-alpha-3`, "30 1 26-31 10 *"],
    ]);
    // Two days before the change (01:00 UTC on 28 March): --check says the UTC crons are out of date.
    const check = await at("2027-03-26T06:00:00Z", { check: true });
    expect(check.code).toBe(2);
    expect(check.out).toMatch(/out of date: alpha \(CRON_TZ=Europe\/Lisbon 30 1 \* \* \*\) runs as 4 UTC cron\(s\): 30 0 \* 4-10 \* \| 30 1 26,27 3 \* \| 0 1 28 3 \* \| 30 0 29-31 3 \*/);
    expect(check.out).toMatch(/│ update +│ \S+-alpha-2 +│ cron: 30 0 24,25 10 \* -> 30 1 26,27 3 \* +│/);
    expect(check.out).toMatch(/│ create +│ \S+-alpha-4 +│ 30 0 29-31 3 \* \(UTC, 4 of 4 for CRON_TZ=Europe\/Lisbon 30 1 \* \* \*\)/);
    expect((await at("2027-03-26T06:00:00Z")).code).toBe(0);
    expect(await ours()).toEqual([
      [`${zprefix}-alpha`, "30 0 * 4-10 *"],
      [`${zprefix}-alpha-2`, "30 1 26,27 3 *"],
      [`${zprefix}-alpha-3`, "0 1 28 3 *"],
      [`${zprefix}-alpha-4`, "30 0 29-31 3 *"],
    ]);
    // A second run the same day changes nothing; after the autumn lead the pins go again.
    expect((await at("2027-03-27T06:00:00Z")).out).toContain("No changes");
    const autumn = await at("2027-10-29T06:00:00Z");
    expect(autumn.out).toMatch(/│ delete +│ \S+-alpha-4 +│ not one of the UTC crons config\/qstash.ts needs now/);
    expect((await ours()).every(([, cron]) => !cron!.includes("CRON_TZ"))).toBe(true);
  });
});
