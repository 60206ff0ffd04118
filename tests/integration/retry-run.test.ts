import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ProviderError } from "../../lib/errors";
import { defineJob } from "../../lib/jobs/define";
import { runEffects } from "../../lib/jobs/effects";
import { runJob, type RunDeps } from "../../lib/jobs/run";
import { startRig, type Rig } from "../dev/qstash-harness";
import { sql, testDeps, uniqueName } from "../support/app";

// A daily job whose effect failed must not wait a day: its run publishes a one-time run of itself
// for the effect's retry time, through the real SDK to the local QStash server.
const names = { daily: uniqueName("daily-sync"), frequent: uniqueName("frequent-sync") };
let fail = true;
let records = ["r1"];
const sync = (name: string) =>
  defineJob({
    name,
    description: "syncs one record",
    handler: async (ctx) => {
      const c = await runEffects(ctx, {
        due: async ({ after }) => (after === undefined ? records : []),
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
  rig = await startRig();
  clock = new Date(Math.floor(rig.clock.now() / 60_000) * 60_000 + 3_600_000);
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

const messages = (job: string) => sql()<{ not_before: Date; status: string }[]>`select not_before, status from job_messages where job = ${job} order by created_at`;

describe("a run whose effects are due again before the job's next tick", () => {
  it("publishes one run of the job at the retry time, keeps it on the next failure, and that run makes the effect", async () => {
    fail = true;
    expect(await runJob({ job: names.daily, payload: {}, trigger: "cli" }, deps)).toMatchObject({ status: "succeeded", stats: { failed: 1 } });
    const [retry] = await sql()<{ next_attempt_at: Date }[]>`select next_attempt_at from effects where key = ${`${names.daily}:r1`}`;
    const first = await messages(names.daily);
    expect(first).toEqual([{ not_before: new Date(Math.ceil(retry!.next_attempt_at.getTime() / 1000) * 1000), status: "scheduled" }]);

    // Another record fails a little later: the run already scheduled covers both.
    records = ["r1", "r2"];
    clock = new Date(clock.getTime() + 10_000);
    expect(await runJob({ job: names.daily, payload: {}, trigger: "cli" }, deps)).toMatchObject({ stats: { failed: 1 } });
    expect(await messages(names.daily)).toHaveLength(1);

    await rig.clock.advanceTo(first[0]!.not_before);
    expect(rig.dest.received.map((r) => r.path)).toEqual([`/api/jobs/${names.daily}`]);
    fail = false;
    clock = new Date(Math.max(first[0]!.not_before.getTime(), clock.getTime() + 120_000));
    expect(await runJob({ job: names.daily, payload: {}, trigger: "qstash", messageId: "msg_retry" }, deps)).toMatchObject({ stats: { synced: 2 } });
  });

  it("publishes nothing when the job's own next tick comes first", async () => {
    fail = true;
    records = ["r1"];
    expect(await runJob({ job: names.frequent, payload: {}, trigger: "cli" }, deps)).toMatchObject({ stats: { failed: 1 } });
    expect(await messages(names.frequent)).toEqual([]);
  });
});
