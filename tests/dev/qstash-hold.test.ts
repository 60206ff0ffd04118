import { afterEach, describe, expect, it } from "vitest";
import { startRig, type Rig } from "./qstash-harness";

let rig: Rig | undefined;
afterEach(() => rig?.close());

describe("deliveries held until the app answers (pnpm dev's start-up)", () => {
  it("keeps due messages and schedule ticks while held, then delivers each once, with no retry and nothing in the DLQ", async () => {
    rig = await startRig({ holdDeliveries: true });
    const r = rig;
    await r.clock.advanceTo(Math.ceil(r.clock.now() / 60_000) * 60_000 + 1_000);
    await r.client.schedules.create({ destination: `${r.dest.url}/api/cron/heartbeat`, cron: "* * * * *", scheduleId: "hold-heartbeat" });
    const { messageId } = await r.client.publishJSON({ url: `${r.dest.url}/api/jobs/once`, body: { n: 1 } });
    await r.clock.advance(150_000); // two ticks of the schedule fall due meanwhile
    expect(r.dest.received).toEqual([]);

    r.server.releaseDeliveries();
    await r.clock.settle();
    expect(r.dest.received.map((x) => x.path).sort()).toEqual(["/api/cron/heartbeat", "/api/cron/heartbeat", "/api/jobs/once"]);
    expect(r.dest.received.every((x) => x.headers["upstash-retried"] === "0")).toBe(true);
    expect(r.dest.received.find((x) => x.path === "/api/jobs/once")!.headers["upstash-message-id"]).toBe(messageId);
    expect(await r.client.dlq.listMessages()).toMatchObject({ messages: [] });
  });

  it("delivers at once when not held", async () => {
    rig = await startRig();
    await rig.client.publishJSON({ url: `${rig.dest.url}/api/jobs/once`, body: {} });
    await rig.clock.settle();
    expect(rig.dest.received).toHaveLength(1);
  });
});
