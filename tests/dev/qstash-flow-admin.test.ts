import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { rejection, startRig, type Rig } from "./qstash-harness";

let rig: Rig;
beforeEach(async () => {
  rig = await startRig();
});
afterEach(() => rig.close());

describe("flow-control admin (client.flowControl)", () => {
  it("get shows the key's settings, counts and wait list", async () => {
    rig.dest.answer(() => ({ status: 200, delayMs: 1000 }));
    const flowControl = { key: "mail", parallelism: 1, rate: 10, period: 60 };
    for (let n = 0; n < 3; n++) await rig.client.publish({ url: `${rig.dest.url}/m`, body: String(n), flowControl });
    // The first attempt is in flight (the destination holds its answer) while the others wait.
    while (rig.dest.received.length === 0) await new Promise((r) => setTimeout(r, 5));
    expect(await rig.client.flowControl.get("mail")).toEqual({
      flowControlKey: "mail",
      waitListSize: 2,
      parallelismMax: 1,
      parallelismCount: 1,
      rateMax: 10,
      rateCount: 1,
      ratePeriod: 60,
      ratePeriodStart: rig.clock.now(),
      isPaused: false,
      isPinnedParallelism: false,
      isPinnedRate: false,
    });
    expect(await rig.client.flowControl.getGlobalParallelism()).toEqual({ parallelismMax: 0, parallelismCount: 1 });
    await rig.clock.settle();
    expect(await rejection(rig.client.flowControl.get("nope"))).toMatchObject({ status: 404 });
  });

  it("pause holds a key's messages and resume releases them", async () => {
    const flowControl = { key: "k", parallelism: 5 };
    await rig.client.flowControl.pause("k");
    await rig.client.publish({ url: `${rig.dest.url}/p`, body: "x", flowControl });
    await rig.clock.settle();
    expect(rig.dest.received).toHaveLength(0);
    expect(await rig.client.flowControl.get("k")).toMatchObject({ isPaused: true, waitListSize: 1 });
    await rig.client.flowControl.resume("k");
    await rig.clock.settle();
    expect(rig.dest.received).toHaveLength(1);
  });

  it("a pinned parallelism wins over the messages' own until unpinned", async () => {
    rig.dest.answer(() => ({ status: 200, delayMs: 30 }));
    const flowControl = { key: "pinned", parallelism: 4 };
    await rig.client.publish({ url: `${rig.dest.url}/x`, body: "0", flowControl, delay: 10 });
    await rig.client.flowControl.pin("pinned", { parallelism: 1 });
    for (let n = 1; n < 4; n++) await rig.client.publish({ url: `${rig.dest.url}/x`, body: String(n), flowControl, delay: 10 });
    expect(await rig.client.flowControl.get("pinned")).toMatchObject({ parallelismMax: 1, isPinnedParallelism: true, isPinnedRate: false });
    await rig.clock.advance(10_000);
    await rig.clock.settle();
    expect(rig.dest.maxConcurrent).toBe(1);
    await rig.client.flowControl.unpin("pinned", { parallelism: true });
    expect(await rig.client.flowControl.get("pinned")).toMatchObject({ parallelismMax: 4, isPinnedParallelism: false });
  });

  it("resetRate opens a new window at once", async () => {
    const flowControl = { key: "r", rate: 1, period: "1h" as const };
    await rig.client.publish({ url: `${rig.dest.url}/r`, body: "1", flowControl });
    await rig.client.publish({ url: `${rig.dest.url}/r`, body: "2", flowControl });
    await rig.clock.settle();
    expect(rig.dest.received).toHaveLength(1);
    await rig.client.flowControl.resetRate("r");
    await rig.clock.settle();
    expect(rig.dest.received.map((r) => r.text)).toEqual(["1", "2"]);
  });

  it("GET /v2/flowControl lists every key", async () => {
    await rig.client.publish({ url: `${rig.dest.url}/a`, body: "a", delay: 60, flowControl: { key: "b-key", rate: 2 } });
    await rig.client.publish({ url: `${rig.dest.url}/a`, body: "a", delay: 60, flowControl: { key: "a-key", parallelism: 2 } });
    const res = await fetch(`${rig.server.url}/v2/flowControl`, { headers: { Authorization: `Bearer ${rig.server.token}` } });
    const list = (await res.json()) as { flowControlKey: string; waitListSize: number }[];
    expect(list.map((f) => f.flowControlKey)).toEqual(["a-key", "b-key"]);
  });
});
