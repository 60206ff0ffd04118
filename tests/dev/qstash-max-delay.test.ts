import { afterEach, describe, expect, it } from "vitest";
import { rejection, startRig, type Rig } from "./qstash-harness";

/** The local server as the free plan: a publish due further out than --max-delay is refused, as QStash refuses it. */
const DAY = 86_400_000;
let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

describe("maxDelayMs (--max-delay)", () => {
  it("refuses a delay or a notBefore past the limit with a 400 naming it, and accepts one at the limit", async () => {
    rig = await startRig({ maxDelayMs: 7 * DAY });
    const now = Math.floor(rig.clock.now() / 1000);
    const url = `${rig.dest.url}/api/jobs/x`;

    expect(await rejection(rig.client.publishJSON({ url, body: {}, delay: 8 * 86_400 }))).toEqual({
      status: 400,
      error: "invalid delay: 8d is longer than the maximum delay of your plan, 7d",
    });
    expect(await rejection(rig.client.publishJSON({ url, body: {}, notBefore: now + 30 * 86_400 }))).toEqual({
      status: 400,
      error: "invalid delay: 30d is longer than the maximum delay of your plan, 7d",
    });
    // A batch is checked whole: one item over the limit accepts nothing.
    const batch = await rejection(rig.client.batchJSON([{ url, body: {} }, { url, body: {}, delay: 8 * 86_400 }]));
    expect(batch).toMatchObject({ status: 400, error: expect.stringMatching(/^batch item 1: invalid delay: 8d is longer than the maximum delay of your plan, 7d$/) });
    expect(rig.server.state.messages).toEqual({});

    const atLimit = await rig.client.publishJSON({ url, body: {}, notBefore: Math.floor(rig.clock.now() / 1000) + 7 * 86_400 });
    expect(Object.keys(rig.server.state.messages)).toEqual([atLimit.messageId]);
  });

  it("measures the limit on its own clock: the same notBefore is accepted once the clock comes near it", async () => {
    rig = await startRig({ maxDelayMs: 7 * DAY });
    const at = Math.floor(rig.clock.now() / 1000) + 10 * 86_400;
    const url = `${rig.dest.url}/api/jobs/x`;
    expect((await rejection(rig.client.publishJSON({ url, body: {}, notBefore: at }))).status).toBe(400);
    await rig.clock.advance(3 * DAY);
    const { messageId } = await rig.client.publishJSON({ url, body: {}, notBefore: at });
    await rig.clock.advanceTo(at * 1000);
    expect(rig.dest.received.map((r) => r.headers["upstash-message-id"])).toEqual([messageId]);
  });

  it("has no limit by default", async () => {
    rig = await startRig();
    const { messageId } = await rig.client.publishJSON({ url: `${rig.dest.url}/api/jobs/x`, body: {}, notBefore: Math.floor(rig.clock.now() / 1000) + 400 * 86_400 });
    expect(rig.server.state.messages[messageId]).toBeDefined();
  });
});
