import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { createKeepAlive } from "../../../jobs/system/keep-alive";
import { defineJob } from "../../../lib/jobs/define";
import { runJob } from "../../../lib/jobs/run";
import type { RunDeps } from "../../../lib/jobs/run";
import { schedule } from "../../../lib/qstash/messages";
import { startRig, type Rig } from "../../dev/qstash-harness";
import { sql, testDeps, uniqueName } from "../../support/app";
import { VENDOR_ENV, vendors } from "../../support/vendors";

/** keep-alive sweeps the one-time messages parked past QStash's maximum delay (the local server as the free plan). */
const DAY = 86_400_000;
let rig: Rig;
let deps: RunDeps;
let job: string;
beforeEach(async () => {
  rig = await startRig({ maxDelayMs: 7 * DAY });
  job = uniqueName("reminder");
  const keepAlive = createKeepAlive({ schedules: () => deps.registry.schedules, registry: async () => deps.registry });
  const reminder = defineJob({ name: job, description: "t", payload: z.object({ id: z.string() }), handler: async () => ({}) });
  deps = testDeps([keepAlive, reminder], [], { ...VENDOR_ENV, APP_URL: rig.dest.url, QSTASH_URL: rig.server.url, QSTASH_TOKEN: rig.server.token });
});
afterEach(async () => {
  await deps.db.close();
  await rig.close();
});

const keepAliveAt = (at: Date) => runJob({ job: "keep-alive", payload: {}, trigger: "vercel" }, { ...deps, clock: () => at });

describe("keep-alive and parked messages", () => {
  it("publishes the parked messages now within range, and says so in its stats", async () => {
    const at = new Date(Math.floor(rig.clock.now() / 1000) * 1000 + 30 * DAY);
    await schedule(deps, { owner: uniqueName("owner"), job, payload: { id: "r1" }, notBefore: at });
    expect(Object.keys(rig.server.state.messages)).toEqual([]);

    await rig.clock.advanceTo(at.getTime() - 6 * DAY);
    const out = await keepAliveAt(new Date(rig.clock.now()));
    expect(out).toMatchObject({ status: "succeeded", stats: { parkedMessages: { published: 1, late: 0, errors: [] } } });
    expect(Object.values(rig.server.state.messages).map((m) => m.notBefore)).toEqual([at.getTime()]);
  });

  it("alerts on a parked message it could not publish, and leaves it parked for the next sweep", async () => {
    const calls = vendors();
    // A day no other keep-alive test uses (alerts are one a day per channel).
    const now = new Date("2033-05-17T06:00:00Z");
    const id = `parked_${uniqueName("bad")}`;
    await sql()`insert into job_messages (message_id, owner, job, not_before, status, payload) values
      (${id}, ${uniqueName("owner")}, ${job}, ${new Date("2033-05-20T00:00:00Z")}, 'parked', ${sql().json({ id: 7 })})`;
    const out = await keepAliveAt(now);
    expect(out).toMatchObject({ status: "succeeded", stats: { parkedMessages: { published: 0, errors: [expect.stringMatching(/invalid payload/)] }, alert: expect.anything() } });
    expect(JSON.stringify(calls.slack)).toMatch(/parked message not published, tried again at the next sweep/);
    expect(await sql()`select status, publish_error from job_messages where message_id = ${id}`).toEqual([{ status: "parked", publish_error: expect.stringMatching(/invalid payload/) }]);
  });
});
