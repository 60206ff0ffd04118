import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ProviderError } from "../../lib/errors";
import { defineJob } from "../../lib/jobs/define";
import { runEffects } from "../../lib/jobs/effects";
import { runJob, type RunDeps } from "../../lib/jobs/run";
import { ManualClock } from "../../dev/qstash/server";
import { startRig, type Rig } from "../dev/qstash-harness";
import { sql, testDeps, uniqueName } from "../support/app";

// A daily job whose effect failed must not wait a day: its run publishes a one-time run of itself
// for the effect's retry time, through the real SDK to the local QStash server.
const names = { daily: uniqueName("daily-sync"), frequent: uniqueName("frequent-sync") };
let fail = true;
const sync = (name: string) =>
  defineJob({
    name,
    description: "syncs one record",
    handler: async (ctx) => {
      const c = await runEffects(ctx, {
        due: async ({ after }) => (after === undefined ? ["r1"] : []),
        key: (r) => `${name}:${r}`,
        work: async () => {
          if (fail) throw new ProviderError("Vendor", "HTTP 409: try later", 409);
        },
      });
      return { synced: c.succeeded, failed: c.failed };
    },
  });

let rig: Rig;
let deps: RunDeps;
let clock: Date;
beforeEach(async () => {
  // A fixed morning, far from the daily job's 06:00 tick (a retry within 15 minutes of the tick
  // waits for it): on the wall clock this test failed between about 04:45 and 06:00 UTC.
  rig = await startRig({ clock: new ManualClock(Date.parse("2031-03-04T09:00:00Z")) });
  clock = new Date(rig.clock.now() + 3_600_000);
  deps = {
    ...testDeps(
      [sync(names.daily), sync(names.frequent)],
      [
        { job: names.daily, cron: "0 6 * * *", overlap: "allow" },
        { job: names.frequent, cron: "*/15 * * * *", overlap: "allow" },
      ],
      { APP_URL: rig.dest.url, QSTASH_URL: rig.server.url, QSTASH_TOKEN: rig.server.token },
    ),
    clock: () => clock,
  };
});
afterEach(async () => {
  await deps.db.close();
  await rig.close();
});

const messages = (job: string) => sql()<{ message_id: string; not_before: Date; status: string }[]>`select message_id, not_before, status from job_messages where job = ${job} order by created_at`;

describe("a run whose effects are due again before the job's next tick", () => {
  it("publishes one run of the job at the retry time, once however many runs see the failure, until the effect is made", async () => {
    fail = true;
    expect(await runJob({ job: names.daily, payload: {}, trigger: "cli" }, deps)).toMatchObject({ status: "succeeded", stats: { failed: 1 } });
    const nextAttempt = async () => (await sql()<{ at: Date }[]>`select next_attempt_at as at from effects where key = ${`${names.daily}:r1`}`)[0]!.at;
    const first = await nextAttempt();
    expect(await messages(names.daily)).toEqual([{ message_id: expect.any(String), not_before: first, status: "scheduled" }]);
    // QStash counts whole seconds: the message is due at the next whole second, never before the effect.
    const due = Math.ceil(first.getTime() / 1000) * 1000;
    const [m1] = await messages(names.daily);
    expect(await rig.client.messages.get(m1!.message_id)).toMatchObject({ notBefore: due });

    // Another run before then (a manual one) sees the failure too: the run already scheduled covers it.
    clock = new Date(clock.getTime() + 10_000);
    expect(await runJob({ job: names.daily, payload: {}, trigger: "cli" }, deps)).toMatchObject({ stats: { synced: 0, failed: 0 } });
    expect(await messages(names.daily)).toHaveLength(1);

    await rig.clock.advanceTo(due - 1);
    expect(rig.dest.received).toEqual([]);
    await rig.clock.advanceTo(due);
    expect(rig.dest.received.map((r) => r.path)).toEqual([`/api/jobs/${names.daily}`]);

    // The retry run fails again: it asks for the next one, which makes the effect.
    clock = new Date(due);
    expect(await runJob({ job: names.daily, payload: {}, trigger: "qstash", messageId: "msg_retry" }, deps)).toMatchObject({ stats: { failed: 1 } });
    const second = await nextAttempt();
    expect((await messages(names.daily)).map((m) => m.not_before)).toEqual([first, second]);
    fail = false;
    clock = new Date(Math.ceil(second.getTime() / 1000) * 1000);
    expect(await runJob({ job: names.daily, payload: {}, trigger: "qstash", messageId: "msg_retry_2" }, deps)).toMatchObject({ stats: { synced: 1 } });
    expect(await messages(names.daily)).toHaveLength(2);
  });

  it("publishes nothing when the job's own next tick comes first", async () => {
    fail = true;
    expect(await runJob({ job: names.frequent, payload: {}, trigger: "cli" }, deps)).toMatchObject({ stats: { failed: 1 } });
    expect(await messages(names.frequent)).toEqual([]);
  });
});
