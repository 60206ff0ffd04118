import { DateTime } from "luxon";
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../dev/qstash/server";
import { loadEnv } from "../../lib/env";
import { defineJob } from "../../lib/jobs/define";
import { createRegistry } from "../../lib/jobs/registry";
import { resyncZoned } from "../../lib/qstash/resync-zoned";
import { syncSchedules } from "../../lib/qstash/sync";
import { offsetChanges } from "../../lib/time/offset-changes";
import { zonedInstants } from "../../lib/time/utc-crons";
import { startRig, type Rig } from "./qstash-harness";

const DAY = 86_400_000;
const ZONES = ["Europe/Lisbon", "America/New_York", "Australia/Sydney", "Pacific/Chatham"];
const TIMES = { "daily-0130": "30 1 * * *", "daily-1800": "0 18 * * *" } as const;
const noop = async () => ({});
const jobs = Object.keys(TIMES).map((name) => defineJob({ name, description: "t", timeoutMs: 30_000, handler: noop }));

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

/**
 * A week around `change` on the local QStash server's manual clock: `qstash:schedule`'s sync at the
 * start, then keep-alive's re-sync every day at 06:00 UTC (vercel.json). Returns the deliveries.
 */
async function weekAround(zone: string, change: Date, o: { faultyZones: boolean; translate: boolean }) {
  const start = Date.UTC(change.getUTCFullYear(), change.getUTCMonth(), change.getUTCDate() - 4, 6);
  rig = await startRig({ clock: new ManualClock(start), faultyZones: o.faultyZones });
  const env = loadEnv({ APP_ENV: "test", APP_URL: rig.dest.url, QSTASH_URL: rig.server.url, QSTASH_TOKEN: rig.server.token, SCHEDULE_PREFIX: "z" });
  const registry = createRegistry(jobs, Object.entries(TIMES).map(([job, cron]) => ({ job, cron: `CRON_TZ=${zone} ${cron}` })));
  if (o.translate) {
    expect((await syncSchedules(rig.client, env, registry, { now: new Date(start) })).status).toBe("applied");
    expect((await rig.client.schedules.list()).filter((s) => s.cron.includes("CRON_TZ"))).toEqual([]);
  } else {
    // What the app did before: the zoned cron as is, the zone math left to the transport.
    for (const [job, cron] of Object.entries(TIMES)) await rig.client.schedules.create({ scheduleId: `z-${job}`, destination: `${rig.dest.url}/api/cron/${job}`, cron: `CRON_TZ=${zone} ${cron}` });
  }
  for (let t = start + DAY; t <= start + 8 * DAY; t += DAY) {
    await rig.clock.advanceTo(t);
    if (o.translate) expect((await resyncZoned(rig.client, env, registry, new Date(t))).status).not.toBe("failed");
  }
  return { from: start + DAY, to: start + 7 * DAY, received: rig.dest.received.map((r) => ({ job: r.path.split("/").at(-1)!, at: r.at })) };
}

/** Per job and local day: the runs' instants, and croner's zoned instant for that day. */
function byLocalDay(zone: string, w: Awaited<ReturnType<typeof weekAround>>) {
  const out: Record<string, { runs: string[]; want: string[] }> = {};
  for (const [job, cron] of Object.entries(TIMES)) {
    for (const want of zonedInstants(cron, zone, w.from, w.to)) {
      const day = DateTime.fromJSDate(want, { zone }).toISODate()!;
      const runs = w.received.filter((r) => r.job === job && DateTime.fromMillis(r.at, { zone }).toISODate() === day);
      out[`${job} ${day}`] = { runs: runs.map((r) => new Date(r.at).toISOString()), want: [want.toISOString()] };
    }
  }
  return out;
}

const changesOf2027 = (zone: string) => offsetChanges(zone, new Date("2027-01-01T00:00:00Z"), new Date("2028-01-01T00:00:00Z"));

describe("zoned daily jobs across the 2027 offset changes, through the local QStash server", () => {
  for (const zone of ZONES) {
    for (const faultyZones of [false, true]) {
      it(`${zone}, faulty CRON_TZ transport ${faultyZones ? "on" : "off"}: one run per local day at 01:30 and at 18:00, at croner's instant`, async () => {
        const changes = changesOf2027(zone);
        expect(changes).toHaveLength(2);
        for (const change of changes) {
          const days = byLocalDay(zone, await weekAround(zone, change.at, { faultyZones, translate: true }));
          expect(Object.keys(days).length).toBeGreaterThanOrEqual(10);
          for (const [key, d] of Object.entries(days)) expect(d.runs, key).toEqual(d.want);
          await rig!.close();
          rig = undefined;
        }
      });
    }
  }

  it("the faulty switch does what a faulty transport does: with CRON_TZ sent as is, Lisbon misses 01:30 in spring and runs it twice in autumn", async () => {
    const [spring, autumn] = changesOf2027("Europe/Lisbon");
    const springDays = byLocalDay("Europe/Lisbon", await weekAround("Europe/Lisbon", spring!.at, { faultyZones: true, translate: false }));
    expect(springDays["daily-0130 2027-03-28"]!.runs).toEqual([]);
    await rig!.close();
    const autumnDays = byLocalDay("Europe/Lisbon", await weekAround("Europe/Lisbon", autumn!.at, { faultyZones: true, translate: false }));
    expect(autumnDays["daily-0130 2027-10-31"]!.runs).toEqual(["2027-10-31T00:30:00.000Z", "2027-10-31T01:30:00.000Z"]);
    // The 18:00 job is nowhere near the change: the same either way.
    expect(autumnDays["daily-1800 2027-10-31"]!.runs).toEqual(autumnDays["daily-1800 2027-10-31"]!.want);
  });
});
