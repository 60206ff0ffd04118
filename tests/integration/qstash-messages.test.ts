import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { NonRetryableError } from "../../lib/errors";
import { defineJob } from "../../lib/jobs/define";
import { cancel, find, reschedule, schedule, type MessageDeps } from "../../lib/qstash/messages";
import { startRig, type Rig } from "../dev/qstash-harness";
import { sql, testDeps, uniqueName } from "../support/app";

/**
 * One-time messages recorded by owner, through the official SDK against the local QStash server,
 * delivering to a real HTTP receiver. Cancels are counted where they leave the process (fetch).
 */
const job = defineJob({
  name: "call-form",
  description: "the deadline call of a form",
  payload: z.object({ formId: z.string() }),
  handler: async () => {},
});

const realFetch = globalThis.fetch;
let rig: Rig;
let deps: MessageDeps;
let deletes: string[];
beforeEach(async () => {
  rig = await startRig();
  deps = { ...testDeps([job], [], { APP_URL: rig.dest.url, QSTASH_URL: rig.server.url, QSTASH_TOKEN: rig.server.token }), client: rig.client };
  deletes = [];
  vi.spyOn(globalThis, "fetch").mockImplementation((input, init) => {
    if (init?.method === "DELETE") deletes.push(new URL(String(input)).pathname);
    return realFetch(input, init);
  });
  // The SDK prints every non-2xx answer (the 404 of a message already delivered).
  vi.spyOn(console, "error").mockImplementation(() => {});
});
afterEach(async () => {
  vi.restoreAllMocks();
  await deps.db.close();
  await rig.close();
});

const hourFromNow = (h = 1) => new Date(Math.floor(rig.clock.now() / 1000) * 1000 + h * 3_600_000);
const rows = (owner: string) =>
  sql()<{ message_id: string; job: string; status: string; not_before: Date | null; cancelled_at: Date | null }[]>`
    select message_id, job, status, not_before, cancelled_at from job_messages where owner = ${owner} order by created_at, message_id`;

describe("schedule", () => {
  it("publishes the job at notBefore and records the message under its owner", async () => {
    const owner = uniqueName("form");
    const at = hourFromNow();
    const { messageId, deduplicated } = await schedule(deps, { owner, job: job.name, payload: { formId: "f1" }, notBefore: at });
    expect(deduplicated).toBe(false);
    expect(await rows(owner)).toEqual([{ message_id: messageId, job: job.name, status: "scheduled", not_before: at, cancelled_at: null }]);
    expect(await rig.client.messages.get(messageId)).toMatchObject({ notBefore: at.getTime(), failureCallback: `${rig.dest.url}/api/jobs/failed` });

    await rig.clock.advanceTo(at.getTime() - 1);
    expect(rig.dest.received).toHaveLength(0);
    await rig.clock.advanceTo(at);
    expect(rig.dest.received.map((r) => [r.path, r.text, r.at])).toEqual([[`/api/jobs/${job.name}`, '{"formId":"f1"}', at.getTime()]]);
    expect(await rig.verify(rig.dest.received[0]!, `${rig.dest.url}/api/jobs/${job.name}`)).toBe(true);
  });

  it("records a delayed message with its time, and the same deduplication id once", async () => {
    const owner = uniqueName("form");
    const before = Date.now();
    const first = await schedule(deps, { owner, job: job.name, payload: { formId: "f2" }, delaySeconds: 90, deduplicationId: `${owner}:v1` });
    const again = await schedule(deps, { owner, job: job.name, payload: { formId: "f2" }, delaySeconds: 90, deduplicationId: `${owner}:v1` });
    expect(again).toEqual({ messageId: first.messageId, deduplicated: true });
    const [row, ...rest] = await rows(owner);
    expect(rest).toEqual([]);
    expect(row!.not_before!.getTime()).toBeGreaterThanOrEqual(before + 90_000);
    expect(row!.not_before!.getTime()).toBeLessThanOrEqual(Date.now() + 90_000);
    await rig.clock.advance(90_000);
    expect(rig.dest.received).toHaveLength(1);
  });

  it("publishes and records nothing for a payload the job would refuse", async () => {
    const owner = uniqueName("form");
    await expect(schedule(deps, { owner, job: job.name, payload: { formId: 1 }, delaySeconds: 5 })).rejects.toThrow(NonRetryableError);
    expect(await rows(owner)).toEqual([]);
    expect(rig.server.state.messages).toEqual({});
  });
});

describe("cancel", () => {
  it("cancels the owner's scheduled message at QStash, records it, and it is never delivered", async () => {
    const owner = uniqueName("form");
    const other = uniqueName("form");
    const { messageId } = await schedule(deps, { owner, job: job.name, payload: { formId: "f3" }, notBefore: hourFromNow() });
    const kept = await schedule(deps, { owner: other, job: job.name, payload: { formId: "f4" }, notBefore: hourFromNow() });

    expect(await cancel(deps, owner)).toEqual({ cancelled: 1, delivered: 0 });
    expect(deletes).toEqual([`/v2/messages/${messageId}`]);
    const [row] = await rows(owner);
    expect(row).toMatchObject({ status: "cancelled" });
    expect(row!.cancelled_at).toBeInstanceOf(Date);
    expect((await rows(other)).map((r) => r.status)).toEqual(["scheduled"]);

    await rig.clock.advance(2 * 3_600_000);
    expect(rig.dest.received.map((r) => r.headers["upstash-message-id"])).toEqual([kept.messageId]);
    const { events } = await rig.client.logs({ filter: { messageId } });
    expect(events.map((e) => e.state)).toContain("CANCELLED");

    // Nothing is left to cancel: no request to QStash.
    expect(await cancel(deps, owner)).toEqual({ cancelled: 0, delivered: 0 });
    expect(deletes).toHaveLength(1);
  });

  it("cancels every one of an owner's messages past the 100 a bulk call used to take, one by id each", async () => {
    const owner = uniqueName("form");
    const ids = [];
    for (let i = 0; i < 150; i++) ids.push((await schedule(deps, { owner, job: job.name, payload: { formId: `m${i}` }, notBefore: hourFromNow() })).messageId);
    expect(await cancel(deps, owner)).toEqual({ cancelled: 150, delivered: 0 });
    expect(deletes.sort()).toEqual(ids.map((id) => `/v2/messages/${id}`).sort());
    expect(Object.keys(rig.server.state.messages)).toEqual([]);
    expect(new Set((await rows(owner)).map((r) => r.status))).toEqual(new Set(["cancelled"]));
  });

  it("takes QStash's 404 for a message already delivered as delivered", async () => {
    const owner = uniqueName("form");
    const { messageId } = await schedule(deps, { owner, job: job.name, payload: { formId: "f5" }, delaySeconds: 60 });
    await rig.clock.advance(60_000);
    expect(rig.dest.received).toHaveLength(1);

    expect(await cancel(deps, owner)).toEqual({ cancelled: 0, delivered: 1 });
    expect(deletes).toEqual([`/v2/messages/${messageId}`]);
    expect(await rows(owner)).toMatchObject([{ message_id: messageId, status: "delivered", cancelled_at: null }]);
  });

  it("records what was answered when a later cancel fails, and throws", async () => {
    const owner = uniqueName("form");
    await schedule(deps, { owner, job: job.name, payload: { formId: "f6" }, notBefore: hourFromNow() });
    await schedule(deps, { owner, job: job.name, payload: { formId: "f7" }, notBefore: hourFromNow() });
    let n = 0;
    vi.mocked(globalThis.fetch).mockImplementation((input, init) => {
      if (init?.method === "DELETE" && n++ === 1) return Promise.resolve(new Response('{"error":"boom"}', { status: 500 }));
      return realFetch(input, init);
    });
    await expect(cancel(deps, owner)).rejects.toThrow(/boom/);
    const after = await rows(owner);
    expect(after.map((r) => r.status).sort()).toEqual(["cancelled", "scheduled"]);
    // The one still scheduled is the one QStash still delivers; the cancelled one never comes.
    await rig.clock.advance(2 * 3_600_000);
    expect(rig.dest.received.map((r) => r.headers["upstash-message-id"])).toEqual([after.find((r) => r.status === "scheduled")!.message_id]);
  });
});

describe("reschedule", () => {
  it("cancels the old message and schedules the new one: one delivery, at the new time", async () => {
    const owner = uniqueName("form");
    const old = await schedule(deps, { owner, job: job.name, payload: { formId: "f8" }, notBefore: hourFromNow() });
    const at = hourFromNow(2);
    const res = await reschedule(deps, { owner, job: job.name, payload: { formId: "f8" }, notBefore: at });
    expect(res).toMatchObject({ cancelled: 1, delivered: 0, deduplicated: false });
    expect(res.messageId).not.toBe(old.messageId);
    expect((await find(deps, owner)).map((m) => [m.message_id, m.status])).toEqual([
      [old.messageId, "cancelled"],
      [res.messageId, "scheduled"],
    ]);

    await rig.clock.advance(3 * 3_600_000);
    expect(rig.dest.received.map((r) => [r.headers["upstash-message-id"], r.at])).toEqual([[res.messageId, at.getTime()]]);
  });

  it("refuses a deduplication id that QStash maps to the cancelled message", async () => {
    const owner = uniqueName("form");
    await schedule(deps, { owner, job: job.name, payload: { formId: "f9" }, notBefore: hourFromNow(), deduplicationId: `${owner}:deadline` });
    await expect(reschedule(deps, { owner, job: job.name, payload: { formId: "f9" }, notBefore: hourFromNow(2), deduplicationId: `${owner}:deadline` })).rejects.toThrow(
      /deduplicated the message .* which was cancelled: nothing is scheduled/,
    );
    expect((await rows(owner)).map((r) => r.status)).toEqual(["cancelled"]);
    await rig.clock.advance(3 * 3_600_000);
    expect(rig.dest.received).toHaveLength(0);
  });
});
