import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { defineJob } from "../../lib/jobs/define";
import { runJob } from "../../lib/jobs/run";
import { sql, testDeps, uniqueName } from "../support/app";

/**
 * A zoned job reaches the app through any of its UTC crons (`<prefix>-<job>-3` on a DST night);
 * the ledger's slot, which lag and the watchdog read, is still the zoned instant.
 */
describe("the slot of a run fired by one of a zoned entry's UTC crons", () => {
  it("is the zoned instant: Lisbon's 01:30 on the night it does not exist is 02:00 WEST", async () => {
    const name = uniqueName("zoned-slot");
    const deps = testDeps([defineJob({ name, description: "t", handler: async () => ({}) })], [{ job: name, cron: "CRON_TZ=Europe/Lisbon 30 1 * * *" }]);
    const run = (iso: string, scheduleId: string) =>
      runJob({ job: name, payload: {}, trigger: "qstash", scheduleId, messageId: `msg_${randomUUID()}` }, { ...deps, clock: () => new Date(iso) });
    // The pinned cron "0 1 28 3 *" fires at 01:00 UTC; delivered 4 s later.
    expect(await run("2027-03-28T01:00:04Z", `test-${name}-3`)).toMatchObject({ status: "succeeded" });
    // The next day, from the pinned "30 0 29-31 3 *": 01:30 WEST.
    expect(await run("2027-03-29T00:30:02Z", `test-${name}-4`)).toMatchObject({ status: "succeeded" });
    const rows = await sql()`select schedule_id, slot_at from job_runs where job = ${name} order by slot_at`;
    expect(rows.map((r) => [r.schedule_id, (r.slot_at as Date).toISOString()])).toEqual([
      [`test-${name}-3`, "2027-03-28T01:00:00.000Z"],
      [`test-${name}-4`, "2027-03-29T00:30:00.000Z"],
    ]);
  });
});
