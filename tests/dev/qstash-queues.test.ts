import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { rejection, startRig, type Rig } from "./qstash-harness";

let rig: Rig;
beforeEach(async () => {
  rig = await startRig();
});
afterEach(() => rig.close());

describe("queues (client.queue)", () => {
  it("upsert, get, list, pause, resume and delete answer in the SDK's shapes", async () => {
    const q = rig.client.queue({ queueName: "emails" });
    const t0 = rig.clock.now();
    await q.upsert({ parallelism: 3 });
    expect(await q.get()).toEqual({ name: "emails", parallelism: 3, paused: false, lag: 0, createdAt: t0, updatedAt: t0 });
    await rig.clock.advance(1000);
    await q.pause();
    expect(await q.get()).toMatchObject({ paused: true, updatedAt: t0 + 1000, createdAt: t0 });
    await q.resume();
    await rig.client.queue({ queueName: "other" }).upsert({ parallelism: 1, paused: true });
    expect((await q.list()).map((x) => [x.name, x.parallelism, x.paused])).toEqual([
      ["emails", 3, false],
      ["other", 1, true],
    ]);
    await q.delete();
    expect(await rejection(q.get())).toMatchObject({ status: 404, error: "queue emails not found" });
    expect((await q.list()).map((x) => x.name)).toEqual(["other"]);
  });

  it("a queue made by enqueue delivers one at a time, in order", async () => {
    rig.dest.answer(() => ({ status: 200, delayMs: 20 }));
    const q = rig.client.queue({ queueName: "fifo" });
    for (let n = 0; n < 4; n++) await q.enqueue({ url: `${rig.dest.url}/q`, body: String(n) });
    expect(await q.get()).toMatchObject({ parallelism: 1 });
    await rig.clock.settle();
    expect(rig.dest.received.map((r) => r.text)).toEqual(["0", "1", "2", "3"]);
    expect(rig.dest.maxConcurrent).toBe(1);
  });

  it("enqueue honours the queue's parallelism", async () => {
    rig.dest.answer(() => ({ status: 200, delayMs: 40 }));
    const q = rig.client.queue({ queueName: "wide" });
    await q.upsert({ parallelism: 2 });
    await Promise.all([0, 1, 2, 3, 4].map((n) => q.enqueueJSON({ url: `${rig.dest.url}/w`, body: { n } })));
    await rig.clock.settle();
    expect(rig.dest.received).toHaveLength(5);
    expect(rig.dest.maxConcurrent).toBe(2);
  });

  it("a paused queue accepts messages and delivers them once resumed; lag counts them", async () => {
    const q = rig.client.queue({ queueName: "held" });
    await q.upsert({ paused: true });
    await q.enqueue({ url: `${rig.dest.url}/h`, body: "1" });
    await q.enqueue({ url: `${rig.dest.url}/h`, body: "2" });
    await rig.clock.settle();
    expect(rig.dest.received).toHaveLength(0);
    expect((await q.get()).lag).toBe(2);
    await q.resume();
    await rig.clock.settle();
    expect(rig.dest.received.map((r) => r.text)).toEqual(["1", "2"]);
    expect((await q.get()).lag).toBe(0);
  });

  it("refuses a bad parallelism", async () => {
    const res = await fetch(`${rig.server.url}/v2/queues`, {
      method: "POST",
      headers: { Authorization: `Bearer ${rig.server.token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ queueName: "x", parallelism: 0 }),
    });
    expect(res.status).toBe(400);
  });
});

describe("URL groups (client.urlGroups)", () => {
  it("add, get, list and remove endpoints; delete the group", async () => {
    const t0 = rig.clock.now();
    await rig.client.urlGroups.addEndpoints({ name: "fan", endpoints: [{ name: "a", url: `${rig.dest.url}/a` }, { url: `${rig.dest.url}/b` }] });
    expect(await rig.client.urlGroups.get("fan")).toEqual({
      name: "fan",
      endpoints: [{ name: "a", url: `${rig.dest.url}/a` }, { url: `${rig.dest.url}/b` }],
      createdAt: t0,
      updatedAt: t0,
    });
    await rig.client.urlGroups.removeEndpoints({ name: "fan", endpoints: [{ name: "a" }] });
    expect((await rig.client.urlGroups.list()).map((g) => [g.name, g.endpoints.map((e) => e.url)])).toEqual([["fan", [`${rig.dest.url}/b`]]]);
    await rig.client.urlGroups.delete("fan");
    expect(await rig.client.urlGroups.list()).toEqual([]);
    expect(await rejection(rig.client.publish({ urlGroup: "fan", body: "x" }))).toMatchObject({ status: 404, error: "topic fan not found" });
  });

  it("publishing to a group fans out: one message per endpoint, each with its own id, signed for its URL", async () => {
    await rig.client.urlGroups.addEndpoints({ name: "fan", endpoints: [{ name: "a", url: `${rig.dest.url}/a` }, { url: `${rig.dest.url}/b` }] });
    const res = await rig.client.publish({ urlGroup: "fan", body: "hello", delay: 10 });
    expect(res.map((r) => r.url)).toEqual([`${rig.dest.url}/a`, `${rig.dest.url}/b`]);
    expect(new Set(res.map((r) => r.messageId)).size).toBe(2);
    expect(await rig.client.messages.get(res[0]!.messageId)).toMatchObject({ urlGroup: "fan", endpointName: "a", body: "hello" });
    await rig.clock.advance(10_000);
    const got = [...rig.dest.received].sort((x, y) => x.path.localeCompare(y.path));
    expect(got.map((r) => [r.path, r.headers["upstash-message-id"], r.headers["upstash-topic-name"]])).toEqual([
      ["/a", res[0]!.messageId, "fan"],
      ["/b", res[1]!.messageId, "fan"],
    ]);
    expect(await rig.verify(got[1]!, `${rig.dest.url}/b`)).toBe(true);
  });

  it("a schedule to a group fans out at each tick to the endpoints the group has then", async () => {
    await rig.client.urlGroups.addEndpoints({ name: "cron-fan", endpoints: [{ url: `${rig.dest.url}/a` }] });
    await rig.client.schedules.create({ destination: "cron-fan", cron: "* * * * *", scheduleId: "fan" });
    expect(await rig.client.schedules.get("fan")).toMatchObject({ destination: "cron-fan" });
    await rig.client.urlGroups.addEndpoints({ name: "cron-fan", endpoints: [{ url: `${rig.dest.url}/b` }] });
    await rig.clock.advance(60_000);
    expect(rig.dest.received.map((r) => [r.path, r.headers["upstash-schedule-id"], r.headers["upstash-topic-name"]]).sort()).toEqual([
      ["/a", "fan", "cron-fan"],
      ["/b", "fan", "cron-fan"],
    ]);
    expect(Object.values((await rig.client.schedules.get("fan")).lastScheduleStates ?? {})).toHaveLength(2);
  });

  it("a batch item naming a group answers a nested array", async () => {
    await rig.client.urlGroups.addEndpoints({ name: "fan", endpoints: [{ url: `${rig.dest.url}/a` }, { url: `${rig.dest.url}/b` }] });
    const res = (await rig.client.batch([{ urlGroup: "fan", body: "1" }, { url: `${rig.dest.url}/c`, body: "2" }])) as unknown[];
    expect(Array.isArray(res[0]) && res[0].length).toBe(2);
    expect(res[1]).toMatchObject({ url: `${rig.dest.url}/c` });
  });
});
