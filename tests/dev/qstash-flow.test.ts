import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startRig, type Rig } from "./qstash-harness";

let rig: Rig;
beforeEach(async () => {
  rig = await startRig();
});
afterEach(() => rig.close());

describe("flow control", () => {
  it("parallelism caps the deliveries in flight per key", async () => {
    rig.dest.answer(() => ({ status: 200, delayMs: 30 }));
    const flowControl = { key: "resend", parallelism: 2 };
    await Promise.all([1, 2, 3, 4, 5].map((n) => rig.client.publish({ url: `${rig.dest.url}/f`, body: String(n), flowControl })));
    await rig.clock.settle();
    expect(rig.dest.received).toHaveLength(5);
    expect(rig.dest.maxConcurrent).toBe(2);
  });

  it("keys are independent: two keys with parallelism 1 run side by side", async () => {
    rig.dest.answer(() => ({ status: 200, delayMs: 40 }));
    await Promise.all(["a", "b"].map((key) => rig.client.publish({ url: `${rig.dest.url}/${key}`, body: key, flowControl: { key, parallelism: 1 } })));
    await rig.clock.settle();
    expect(rig.dest.maxConcurrent).toBe(2);
  });

  it("rate per period starts at most `rate` deliveries per window", async () => {
    const t0 = rig.clock.now();
    const flowControl = { key: "stripe", rate: 2, period: "10s" as const };
    for (let n = 0; n < 5; n++) await rig.client.publish({ url: `${rig.dest.url}/r`, body: String(n), flowControl });
    await rig.clock.settle();
    expect(rig.dest.received).toHaveLength(2);
    await rig.clock.advance(25_000);
    expect(rig.dest.received.map((r) => r.at - t0)).toEqual([0, 0, 10_000, 10_000, 20_000]);
    expect(rig.dest.received.map((r) => r.text)).toEqual(["0", "1", "2", "3", "4"]);
  });

  it("many keys at once: each key keeps its order and its rate, whatever the others do", async () => {
    rig.dest.answer(() => ({ status: 200, delayMs: 2 }));
    const t0 = rig.clock.now();
    const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
    // Even keys one at a time, odd keys 3 per 10 s; message n of every key is published before n + 1.
    const flow = (i: number) => (i % 2 === 0 ? { key: keys[i]!, parallelism: 1 } : { key: keys[i]!, rate: 3, period: "10s" as const });
    for (let n = 0; n < 15; n++) await rig.client.batch(keys.map((k, i) => ({ url: `${rig.dest.url}/${k}`, body: String(n), flowControl: flow(i) })));
    await rig.clock.advance(60_000);
    expect(rig.dest.received).toHaveLength(300);
    for (const [i, k] of keys.entries()) {
      const got = rig.dest.received.filter((r) => r.path === `/${k}`);
      if (i % 2 === 0) {
        expect(got.map((r) => r.text)).toEqual(Array.from({ length: 15 }, (_, n) => String(n)));
        continue;
      }
      const windows = new Map<number, string[]>();
      for (const r of got) windows.set(r.at - t0, [...(windows.get(r.at - t0) ?? []), r.text]);
      expect([...windows.keys()].sort((a, b) => a - b)).toEqual([0, 10_000, 20_000, 30_000, 40_000]);
      // Oldest first: window w starts messages 3w, 3w + 1 and 3w + 2.
      for (const [at, texts] of windows) expect(texts.map(Number).sort((a, b) => a - b)).toEqual([0, 1, 2].map((j) => (at / 10_000) * 3 + j));
    }
  });

  it("shows the flow-control settings on the message", async () => {
    const res = await rig.client.publish({ url: `${rig.dest.url}/x`, body: "x", delay: 60, flowControl: { key: "k", parallelism: 3, rate: 5, period: 60 } });
    expect(await rig.client.messages.get(res.messageId)).toMatchObject({ flowControlKey: "k", parallelism: 3, rate: 5, period: 60 });
  });

  it("rejects an unknown flow-control setting with 400", async () => {
    const answer = await fetch(`${rig.server.url}/v2/publish/${rig.dest.url}/x`, {
      method: "POST",
      headers: { Authorization: `Bearer ${rig.server.token}`, "Upstash-Flow-Control-Key": "k", "Upstash-Flow-Control-Value": "burst=3" },
    });
    expect(answer.status).toBe(400);
    expect(((await answer.json()) as { error: string }).error).toMatch(/unknown setting "burst"/);
  });
});
