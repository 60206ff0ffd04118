import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { NonRetryableError } from "../../lib/errors";
import { defineJob } from "../../lib/jobs/define";
import { createRegistry } from "../../lib/jobs/registry";
import { fanOut } from "../../lib/qstash/fan-out";
import type { PublishDeps } from "../../lib/qstash/publish";
import { startRig, type Rig } from "../dev/qstash-harness";
import { testEnv } from "../support/app";

/**
 * fanOut through the official SDK against the local QStash server, delivering to a real HTTP
 * receiver. Batch requests are counted where they leave the process (fetch), not in fanOut.
 */
const job = defineJob({
  name: "send-practice-reminder",
  description: "one reminder per learner",
  payload: z.object({ learner: z.string(), date: z.string() }),
  timeoutMs: 45_000,
  handler: async () => {},
});
type Item = z.output<typeof job.payload>;
const key = (i: Item) => `practice:${i.learner}:${i.date}`;
const items = (n: number, date = "2026-12-01"): Item[] => Array.from({ length: n }, (_, i) => ({ learner: `l${i}`, date }));

interface BatchItem {
  destination: string;
  headers: Record<string, string>;
  body: string;
}

const realFetch = globalThis.fetch;
let rig: Rig;
let deps: PublishDeps;
let batches: BatchItem[][];
beforeEach(async () => {
  rig = await startRig();
  const env = testEnv({ APP_URL: rig.dest.url, QSTASH_URL: rig.server.url, QSTASH_TOKEN: rig.server.token });
  deps = { env, registry: createRegistry([job], []), client: rig.client };
  batches = [];
  vi.spyOn(globalThis, "fetch").mockImplementation((input, init) => {
    if (String(input).endsWith("/v2/batch")) batches.push(JSON.parse(String(init?.body)) as BatchItem[]);
    return realFetch(input, init);
  });
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rig.close();
});

const url = () => `${rig.dest.url}/api/jobs/${job.name}`;

describe("fanOut", () => {
  it("publishes 250 items in 3 batch requests, each delivered once, signed, with its key as deduplication id", async () => {
    const all = items(250);
    const res = await fanOut(deps, job.name, all, { key });
    expect(res).toMatchObject({ requests: 3, deduplicated: 0 });
    expect(batches.map((b) => b.length)).toEqual([100, 100, 50]);
    expect(new Set(res.messageIds).size).toBe(250);

    const sent = batches.flat();
    expect(sent.map((m) => m.headers["upstash-deduplication-id"])).toEqual(all.map(key));
    expect(sent.map((m) => JSON.parse(m.body) as Item)).toEqual(all);
    for (const m of sent) {
      expect(m.destination).toBe(url());
      expect(m.headers).toMatchObject({
        "upstash-failure-callback": `${rig.dest.url}/api/jobs/failed`,
        "upstash-timeout": "45s",
        "upstash-label": job.name,
        "content-type": "application/json",
      });
    }
    // The server keeps each key against the message published for that item.
    expect(all.map((i) => rig.server.state.dedup[`id:${key(i)}`]?.messageId)).toEqual(res.messageIds);

    await rig.clock.settle();
    expect(rig.dest.received).toHaveLength(250);
    expect(rig.dest.received.every((r) => r.path === `/api/jobs/${job.name}`)).toBe(true);
    expect(new Set(rig.dest.received.map((r) => String(r.headers["upstash-message-id"])))).toEqual(new Set(res.messageIds));
    expect(new Set(rig.dest.received.map((r) => r.text))).toEqual(new Set(all.map((i) => JSON.stringify(i))));
    for (const r of rig.dest.received) expect(await rig.verify(r, url())).toBe(true);
  });

  it("publishing the same items again adds no message: every one is deduplicated to the first id", async () => {
    const all = items(250);
    const first = await fanOut(deps, job.name, all, { key });
    await rig.clock.settle();
    expect(rig.dest.received).toHaveLength(250);

    const again = await fanOut(deps, job.name, all, { key });
    expect(again).toEqual({ messageIds: first.messageIds, requests: 3, deduplicated: 250 });
    await rig.clock.advance(60_000);
    expect(rig.dest.received).toHaveLength(250);
    expect(rig.server.state.messages).toEqual({});
  });

  it("counts an item whose key repeats within the same call as deduplicated, and delivers it once", async () => {
    const [a, b] = items(2);
    const res = await fanOut(deps, job.name, [a!, b!, a!], { key });
    expect(res.deduplicated).toBe(1);
    expect(res.messageIds[2]).toBe(res.messageIds[0]);
    await rig.clock.settle();
    expect(rig.dest.received.map((r) => r.text).sort()).toEqual([JSON.stringify(a), JSON.stringify(b)]);
  });

  it("delivers at notBefore, not before", async () => {
    const at = new Date(Math.floor(rig.clock.now() / 1000) * 1000 + 3_600_000);
    await fanOut(deps, job.name, items(120), { key, notBefore: at });
    expect(batches.flat().every((m) => m.headers["upstash-not-before"] === String(at.getTime() / 1000))).toBe(true);
    await rig.clock.advanceTo(at.getTime() - 1);
    expect(rig.dest.received).toHaveLength(0);
    await rig.clock.advanceTo(at);
    expect(rig.dest.received).toHaveLength(120);
    expect(new Set(rig.dest.received.map((r) => r.at))).toEqual(new Set([at.getTime()]));
  });

  it("passes flow control through: at most `rate` deliveries per period and `parallelism` at once", async () => {
    const flowControl = { key: "novu", rate: 10, period: 60, parallelism: 2 };
    rig.dest.answer(() => ({ status: 200, delayMs: 5 }));
    const t0 = rig.clock.now();
    const res = await fanOut(deps, job.name, items(25), { key, flowControl, delaySeconds: 1 });
    expect(batches.flat().every((m) => m.headers["upstash-flow-control-key"] === "novu" && m.headers["upstash-flow-control-value"] === "parallelism=2, rate=10, period=60s")).toBe(true);
    expect(await rig.client.messages.get(res.messageIds[0]!)).toMatchObject({ flowControlKey: "novu", rate: 10, period: 60, parallelism: 2 });

    await rig.clock.advance(1000);
    expect(rig.dest.received).toHaveLength(10);
    await rig.clock.advance(60_000);
    expect(rig.dest.received).toHaveLength(20);
    await rig.clock.advance(60_000);
    expect(rig.dest.received).toHaveLength(25);
    expect(rig.dest.maxConcurrent).toBeLessThanOrEqual(2);
    // Three windows of a minute from the first start.
    const windows = rig.dest.received.map((r) => Math.floor((r.at - t0 - 1000) / 60_000));
    expect([0, 1, 2].map((w) => windows.filter((x) => x === w).length)).toEqual([10, 10, 5]);
  });

  it("checks every item before the first request: one bad payload publishes nothing", async () => {
    const all: unknown[] = [...items(150), { learner: 7, date: "2026-12-01" }];
    await expect(fanOut(deps, job.name, all, { key: (i) => `k:${JSON.stringify(i)}` })).rejects.toThrow(
      new NonRetryableError(`cannot publish ${job.name} (item 150, key k:{"learner":7,"date":"2026-12-01"}): invalid payload: learner: Invalid input: expected string, received number`),
    );
    await expect(fanOut(deps, job.name, items(3), { key: (i) => (i.learner === "l1" ? "" : key(i)) })).rejects.toThrow(/item 1\): its key is empty/);
    await expect(fanOut(deps, "no-such-job", items(3), { key })).rejects.toThrow(/unknown job "no-such-job"/);
    expect(batches).toEqual([]);
    expect(rig.server.state.messages).toEqual({});
  });

  it("refuses a destination cloud QStash cannot reach, before any request", async () => {
    const env = testEnv({ APP_URL: rig.dest.url, QSTASH_URL: "https://qstash.upstash.io", QSTASH_TOKEN: rig.server.token });
    await expect(fanOut({ ...deps, env }, job.name, items(3), { key })).rejects.toThrow(/cloud QStash \(https:\/\/qstash.upstash.io\) cannot reach/);
    expect(batches).toEqual([]);
  });
});
