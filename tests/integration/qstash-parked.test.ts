import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import type { Db } from "../../lib/db/types";
import { defineJob } from "../../lib/jobs/define";
import { createLogger } from "../../lib/log";
import { cancel, find, publishParked, reschedule, schedule, type MessageDeps } from "../../lib/qstash/messages";
import { startRig, type Rig } from "../dev/qstash-harness";
import { sql, testDeps, uniqueName } from "../support/app";

/**
 * One-time messages due past QStash's maximum delay, against the local QStash server started as
 * the free plan (7 days: it refuses anything further out, as QStash does). Requests are counted
 * where they leave the process (fetch), messages where they land (the server's state).
 */
/** A job of its own per test: a sweep publishes the parked messages of the jobs its registry runs, whoever parked them. */
const jobNamed = (name: string) =>
  defineJob({
    name,
    description: "the deadline call of a form",
    payload: z.object({ formId: z.string() }),
    handler: async () => {},
  });

const DAY = 86_400_000;
const realFetch = globalThis.fetch;
let rig: Rig;
let job: ReturnType<typeof jobNamed>;
let deps: MessageDeps;
let requests: { method: string; path: string }[];
beforeEach(async () => {
  rig = await startRig({ maxDelayMs: 7 * DAY });
  job = jobNamed(uniqueName("parked-call"));
  deps = { ...testDeps([job], [], { APP_URL: rig.dest.url, QSTASH_URL: rig.server.url, QSTASH_TOKEN: rig.server.token, QSTASH_MAX_DELAY: "7d" }), client: rig.client, clock: () => new Date(rig.clock.now()) };
  requests = [];
  vi.spyOn(globalThis, "fetch").mockImplementation((input, init) => {
    requests.push({ method: init?.method ?? "GET", path: new URL(String(input)).pathname });
    return realFetch(input, init);
  });
  vi.spyOn(console, "error").mockImplementation(() => {});
});
afterEach(async () => {
  vi.restoreAllMocks();
  await deps.db.close();
  await rig.close();
});

const daysFromNow = (d: number) => new Date(Math.floor(rig.clock.now() / 1000) * 1000 + d * DAY);
const now = () => new Date(rig.clock.now());
const publishes = () => requests.filter((r) => r.method === "POST" && r.path.startsWith("/v2/publish/"));
const messages = () => Object.values(rig.server.state.messages);
const rows = (owner: string) =>
  sql()<{ message_id: string; status: string; not_before: Date; payload: unknown; options: unknown; dedup_id: string | null; published_id: string | null }[]>`
    select message_id, status, not_before, payload, options, dedup_id, published_id from job_messages where owner = ${owner} order by created_at, message_id`;
/** The sweep of keep-alive or the watchdog, `after` past the moment the message came within range (7 days less the hour's margin). */
const sweepAt = async (at: Date, after = 60_000) => {
  await rig.clock.advanceTo(at.getTime() - 7 * DAY + 3_600_000 + after);
  return publishParked(deps, now());
};

describe("a message due past the maximum delay", () => {
  it("is parked with everything needed to publish it, under a stable id of ours; the same deduplication id parks it once", async () => {
    const owner = uniqueName("form");
    const at = daysFromNow(30);
    const req = { owner, job: job.name, payload: { formId: "f1" }, notBefore: at, deduplicationId: `${owner}:v1`, flowControl: { key: "calls", rate: 5, period: 1 } };
    const first = await schedule(deps, req);
    expect(first).toEqual({ messageId: expect.stringMatching(/^parked_[0-9a-f-]{36}$/), deduplicated: false });
    expect(await schedule(deps, req)).toEqual({ messageId: first.messageId, deduplicated: true });
    expect(publishes()).toEqual([]);
    expect(messages()).toEqual([]);
    expect(await rows(owner)).toEqual([
      { message_id: first.messageId, status: "parked", not_before: at, payload: { formId: "f1" }, options: { flowControl: { key: "calls", rate: 5, period: 1 } }, dedup_id: `${owner}:v1`, published_id: null },
    ]);
  });

  it("is refused at once for a payload the job would refuse, and nothing is parked", async () => {
    const owner = uniqueName("form");
    await expect(schedule(deps, { owner, job: job.name, payload: { formId: 1 }, notBefore: daysFromNow(30) })).rejects.toThrow(/invalid payload/);
    expect(await rows(owner)).toEqual([]);
  });

  it("is published by the sweep once within range, at its notBefore, with its retry settings, and delivered then", async () => {
    const owner = uniqueName("form");
    const at = daysFromNow(30);
    const retry = { retries: 2, retryDelay: "pow(2, retried) * 1000" };
    const { messageId } = await schedule(deps, { owner, job: job.name, payload: { formId: "f2" }, notBefore: at, flowControl: { key: "calls", parallelism: 2 }, ...retry });
    await rig.clock.advanceTo(at.getTime() - 7 * DAY + 3_600_000 - 60_000);
    expect(await publishParked(deps, now())).toEqual({ published: 0, late: 0, errors: [] });

    expect(await sweepAt(at)).toEqual({ published: 1, late: 0, errors: [] });
    const [m] = messages();
    expect(m).toMatchObject({ notBefore: at.getTime(), flow: { key: "calls", parallelism: 2 }, ...retry });
    const [row] = await rows(owner);
    expect(row).toMatchObject({ message_id: messageId, status: "scheduled", published_id: m!.messageId });
    expect((await find(deps, owner, "scheduled")).map((r) => r.message_id)).toEqual([messageId]);

    await rig.clock.advanceTo(at.getTime() - 1000);
    expect(rig.dest.received).toHaveLength(0);
    await rig.clock.advanceTo(at);
    expect(rig.dest.received.map((r) => [r.path, r.text, r.at])).toEqual([[`/api/jobs/${job.name}`, '{"formId":"f2"}', at.getTime()]]);
    expect(await publishParked(deps, now())).toEqual({ published: 0, late: 0, errors: [] });
  });

  it("is published once by sweeps running at the same time", async () => {
    const owner = uniqueName("form");
    const at = daysFromNow(20);
    const n = 20;
    for (let i = 0; i < n; i++) await schedule(deps, { owner: `${owner}-${i}`, job: job.name, payload: { formId: `f${i}` }, notBefore: new Date(at.getTime() + i * 1000) });
    await rig.clock.advanceTo(at.getTime() - 7 * DAY + 3_600_000 + 60_000);
    const sweeps = await Promise.all([1, 2, 3, 4].map(() => publishParked(deps, now())));
    expect(sweeps.reduce((sum, s) => sum + s.published, 0)).toBe(n);
    expect(sweeps.flatMap((s) => s.errors)).toEqual([]);
    expect(publishes()).toHaveLength(n);
    expect(messages()).toHaveLength(n);
    await rig.clock.advanceTo(at.getTime() + n * 1000);
    expect(rig.dest.received).toHaveLength(n);
  });

  it("is claimed by one sweeper only: another skips the rows it holds instead of waiting for them", async () => {
    const owner = uniqueName("form");
    const at = daysFromNow(20);
    for (let i = 0; i < 3; i++) await schedule(deps, { owner, job: job.name, payload: { formId: `f${i}` }, notBefore: at });
    const t = new Date(at.getTime() - 6 * DAY);
    const claim = (q: ReturnType<typeof sql>) => q<{ c: unknown[] }[]>`
      select job_messages_claim_parked(${[job.name]}::text[], ${at}::timestamptz, ${new Date(t.getTime() - 300_000)}::timestamptz, ${t}::timestamptz) as c`;
    let claimed!: () => void;
    let release!: () => void;
    const heldClaim = new Promise<void>((r) => (claimed = r));
    const released = new Promise<void>((r) => (release = r));
    // One sweeper claims in a transaction it keeps open (it is publishing).
    const first = sql().begin(async (tx) => {
      const [row] = await claim(tx as unknown as ReturnType<typeof sql>);
      claimed();
      await released;
      return row!.c;
    });
    await heldClaim;
    const second = Promise.race([claim(sql()).then(([r]) => r!.c), new Promise((_, reject) => setTimeout(() => reject(new Error("the second sweeper waited for the first")), 2000))]);
    expect(await second).toEqual([]);
    release();
    expect(await first).toHaveLength(3);
    expect((await rows(owner)).map((r) => r.status)).toEqual(["publishing", "publishing", "publishing"]);
  });

  it("left half-published by a sweeper that died is claimed again after 5 minutes, and QStash answers the same message", async () => {
    const owner = uniqueName("form");
    const at = daysFromNow(30);
    await schedule(deps, { owner, job: job.name, payload: { formId: "f3" }, notBefore: at });
    // The sweeper publishes, then dies before recording it.
    const dying: Db = { ...deps.db, rpc: (fn, args, opts) => (fn === "job_messages_published" ? Promise.reject(new Error("connection lost")) : deps.db.rpc(fn, args, opts)) };
    await rig.clock.advanceTo(at.getTime() - 7 * DAY + 2 * 3_600_000);
    const crashed = await publishParked({ ...deps, db: dying }, now());
    expect(crashed).toEqual({ published: 0, late: 0, errors: [expect.stringMatching(/: published as msg_\w+ but not recorded: connection lost$/)] });
    expect((await rows(owner))[0]!.status).toBe("publishing");

    await rig.clock.advance(4 * 60_000);
    expect(await publishParked(deps, now())).toEqual({ published: 0, late: 0, errors: [] });
    await rig.clock.advance(2 * 60_000);
    expect(await publishParked(deps, now())).toEqual({ published: 1, late: 0, errors: [] });
    expect(publishes()).toHaveLength(2);
    expect(messages()).toHaveLength(1);
    expect((await rows(owner))[0]).toMatchObject({ status: "scheduled", published_id: messages()[0]!.messageId });
    await rig.clock.advanceTo(at);
    expect(rig.dest.received).toHaveLength(1);
  });

  it("whose notBefore passed before any sweep is published at once, and the log says it runs late", async () => {
    const owner = uniqueName("form");
    const at = daysFromNow(10);
    const { messageId } = await schedule(deps, { owner, job: job.name, payload: { formId: "f4" }, notBefore: at });
    await rig.clock.advanceTo(at.getTime() + 2 * 3_600_000);
    const lines: string[] = [];
    const log = createLogger("warn", {}, (line) => lines.push(line));
    expect(await publishParked({ ...deps, log }, now())).toEqual({ published: 1, late: 1, errors: [] });
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ level: "warn", event: "parked_message.late", messageId, owner, job: job.name, lateMs: 2 * 3_600_000 }),
    ]);
    await rig.clock.advance(1000);
    expect(rig.dest.received.map((r) => r.at)).toEqual([at.getTime() + 2 * 3_600_000]);
  });

  it("is kept by the retention job however old its notBefore", async () => {
    const owner = uniqueName("form");
    const old = new Date(Date.UTC(2001, 0, 1));
    await sql()`insert into job_messages (message_id, owner, job, not_before, status, created_at) values
      (${`parked_${owner}`}, ${owner}, ${job.name}, ${old}, 'parked', ${old}), (${`msg_${owner}`}, ${owner}, ${job.name}, ${old}, 'scheduled', ${old})`;
    expect(await deps.db.rpc("job_messages_prune", { p_before: new Date(Date.UTC(2001, 0, 2)) })).toEqual({ deleted: 1, more: false });
    expect((await rows(owner)).map((r) => r.status)).toEqual(["parked"]);
  });
});

describe("cancel and reschedule of a parked message", () => {
  it("cancel marks it cancelled without asking QStash, and no sweep publishes it", async () => {
    const owner = uniqueName("form");
    const at = daysFromNow(30);
    await schedule(deps, { owner, job: job.name, payload: { formId: "f5" }, notBefore: at });
    expect(await cancel(deps, owner)).toEqual({ cancelled: 1, delivered: 0 });
    expect(requests).toEqual([]);
    expect((await rows(owner)).map((r) => r.status)).toEqual(["cancelled"]);
    expect(await sweepAt(at)).toEqual({ published: 0, late: 0, errors: [] });
    await rig.clock.advanceTo(at.getTime() + 1000);
    expect(messages()).toEqual([]);
    expect(rig.dest.received).toHaveLength(0);
  });

  it("cancel after the sweep published it cancels QStash's message under our id", async () => {
    const owner = uniqueName("form");
    const at = daysFromNow(30);
    const { messageId } = await schedule(deps, { owner, job: job.name, payload: { formId: "f6" }, notBefore: at });
    await sweepAt(at);
    const published = messages()[0]!.messageId;
    expect(await cancel(deps, owner)).toEqual({ cancelled: 1, delivered: 0 });
    expect(requests.filter((r) => r.method === "DELETE").map((r) => r.path)).toEqual([`/v2/messages/${published}`]);
    expect(await rows(owner)).toMatchObject([{ message_id: messageId, status: "cancelled", published_id: published }]);
    await rig.clock.advanceTo(at.getTime() + 1000);
    expect(rig.dest.received).toHaveLength(0);
  });

  it("cancel while a sweeper publishes it: the sweeper takes the published message back", async () => {
    const owner = uniqueName("form");
    const at = daysFromNow(30);
    await schedule(deps, { owner, job: job.name, payload: { formId: "f7" }, notBefore: at });
    // The owner's cancel lands between the sweeper's publish and its record.
    const racing: Db = { ...deps.db, rpc: async (fn, args, opts) => (fn === "job_messages_published" && (await cancel(deps, owner)), deps.db.rpc(fn, args, opts)) };
    await rig.clock.advanceTo(at.getTime() - 7 * DAY + 2 * 3_600_000);
    expect(await publishParked({ ...deps, db: racing }, now())).toEqual({ published: 0, late: 0, errors: [] });
    const published = Object.keys(rig.server.state.messages);
    expect(published).toHaveLength(0);
    expect(requests.filter((r) => r.method === "DELETE")).toHaveLength(1);
    expect((await rows(owner)).map((r) => r.status)).toEqual(["cancelled"]);
    await rig.clock.advanceTo(at.getTime() + 1000);
    expect(rig.dest.received).toHaveLength(0);
  });

  it("reschedule moves it from parked into range and back, and only the last one is delivered", async () => {
    const owner = uniqueName("form");
    const far = daysFromNow(30);
    const near = new Date(Math.floor(rig.clock.now() / 1000) * 1000 + 3_600_000);
    const parked = await schedule(deps, { owner, job: job.name, payload: { formId: "f8" }, notBefore: far });

    const inRange = await reschedule(deps, { owner, job: job.name, payload: { formId: "f8" }, notBefore: near });
    expect(inRange).toMatchObject({ messageId: expect.stringMatching(/^msg_/), cancelled: 1, delivered: 0 });
    expect(Object.keys(rig.server.state.messages)).toEqual([inRange.messageId]);

    const back = await reschedule(deps, { owner, job: job.name, payload: { formId: "f8" }, notBefore: daysFromNow(20) });
    expect(back).toMatchObject({ messageId: expect.stringMatching(/^parked_/), cancelled: 1, delivered: 0 });
    expect(requests.filter((r) => r.method === "DELETE").map((r) => r.path)).toEqual([`/v2/messages/${inRange.messageId}`]);
    expect(Object.fromEntries((await rows(owner)).map((r) => [r.message_id, r.status]))).toEqual({
      [parked.messageId]: "cancelled",
      [inRange.messageId]: "cancelled",
      [back.messageId]: "parked",
    });

    await rig.clock.advanceTo(far.getTime() + 1000);
    expect(rig.dest.received).toHaveLength(0);
    // The last one went due with no sweep in between: the next sweep publishes it, late.
    expect(await publishParked(deps, now())).toMatchObject({ published: 1, late: 1 });
    await rig.clock.advance(1000);
    expect(rig.dest.received).toHaveLength(1);
  });
});
