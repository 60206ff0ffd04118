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
