import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../dev/qstash/server";
import { rejection, startRig, type Rig } from "./qstash-harness";

// 2026-01-15 12:00:30 UTC, a Thursday in winter: New York is UTC-5, Berlin UTC+1.
const START = Date.UTC(2026, 0, 15, 12, 0, 30);
const MIN = 60_000;

let rig: Rig;
beforeEach(async () => {
  rig = await startRig({ clock: new ManualClock(START) });
});
afterEach(() => rig.close());

const auth = () => ({ Authorization: `Bearer ${rig.server.token}` });

describe("schedules CRUD", () => {
  it("creates with a given id and answers the schedule in QStash's shape", async () => {
    const destination = `${rig.dest.url}/api/cron/sync?src=qstash`;
    const res = await rig.client.schedules.create({
      destination,
      cron: "  */5 * * * *  ",
      scheduleId: "test-sync",
      body: '{"a":1}',
      headers: { "X-Env": "local" },
      retries: 2,
      delay: 30,
      callback: `${rig.dest.url}/cb`,
      failureCallback: `${rig.dest.url}/failed`,
      timeout: 60,
      label: "sync",
    });
    expect(res).toEqual({ scheduleId: "test-sync" });
    const s = await rig.client.schedules.get("test-sync");
    expect(s).toEqual({
      scheduleId: "test-sync",
      cron: "*/5 * * * *",
      destination,
      createdAt: START,
      method: "POST",
      header: { "Content-Type": ["application/json"], "X-Env": ["local"] },
      body: '{"a":1}',
      retries: 2,
      delay: 30,
      callback: `${rig.dest.url}/cb`,
      failureCallback: `${rig.dest.url}/failed`,
      timeout: 60,
      label: "sync",
      labels: ["sync"],
      isPaused: false,
      nextScheduleTime: Date.UTC(2026, 0, 15, 12, 5),
      callerIP: "127.0.0.1",
      callerIp: "127.0.0.1",
    });
    expect((await rig.client.schedules.list()).map((x) => x.scheduleId)).toEqual(["test-sync"]);
  });

  it("generates an scd_ id when none is given", async () => {
    const { scheduleId } = await rig.client.schedules.create({ destination: `${rig.dest.url}/x`, cron: "0 * * * *" });
    expect(scheduleId).toMatch(/^scd_[A-Za-z0-9]{20,}$/);
  });

  it("upserts by id as a full replace: headers left out are cleared", async () => {
    const destination = `${rig.dest.url}/job`;
    await rig.client.schedules.create({ destination, cron: "0 9 * * *", scheduleId: "s1", retries: 5, callback: `${rig.dest.url}/cb`, body: "old", delay: 10, headers: { "X-A": "1" } });
    await rig.client.schedules.pause({ schedule: "s1" });
    await rig.client.schedules.create({ destination: `${destination}/v2`, cron: "30 9 * * *", scheduleId: "s1" });
    const list = await rig.client.schedules.list();
    expect(list).toHaveLength(1);
    const s = list[0]!;
    expect(s).toMatchObject({ scheduleId: "s1", cron: "30 9 * * *", destination: `${destination}/v2`, retries: 3, delay: 0, isPaused: false, header: { "Content-Type": ["application/json"] } });
    expect(s.callback).toBeUndefined();
    expect(s.body).toBeUndefined();
    expect(s.nextScheduleTime).toBe(Date.UTC(2026, 0, 16, 9, 30));
  });

  it("answers 404 in QStash's form for an unknown id, and deletes", async () => {
    expect(await rejection(rig.client.schedules.get("nope"))).toEqual({ status: 404, error: "schedule nope not found" });
    await rig.client.schedules.create({ destination: `${rig.dest.url}/x`, cron: "* * * * *", scheduleId: "gone" });
    await rig.client.schedules.delete("gone");
    expect(await rejection(rig.client.schedules.get("gone"))).toMatchObject({ status: 404 });
    await rig.clock.advance(5 * MIN);
    expect(rig.dest.received).toHaveLength(0);
  });

  it("rejects a bad cron, an unknown CRON_TZ zone and a bad id with 400", async () => {
    const destination = `${rig.dest.url}/x`;
    expect(await rejection(rig.client.schedules.create({ destination, cron: "61 * * * *" }))).toMatchObject({ status: 400, error: expect.stringMatching(/^invalid cron/) });
    expect(await rejection(rig.client.schedules.create({ destination, cron: "* * * *" }))).toMatchObject({ status: 400, error: expect.stringMatching(/^invalid cron/) });
    expect(await rejection(rig.client.schedules.create({ destination, cron: "CRON_TZ=Mars/Olympus 0 9 * * *" }))).toEqual({
      status: 400,
      error: 'invalid cron: unknown time zone "Mars/Olympus" in CRON_TZ (use an IANA name such as Europe/Berlin)',
    });
    expect(await rejection(rig.client.schedules.create({ destination, cron: "* * * * *", scheduleId: "bad id!" }))).toMatchObject({ status: 400 });
    expect(await rejection(rig.client.schedules.create({ destination: "example.com/x", cron: "* * * * *" }))).toMatchObject({ status: 400, error: expect.stringMatching(/invalid scheme/) });
    expect(await rig.client.schedules.list()).toEqual([]);
  });
});

describe("schedules firing", () => {
  it("fires on each tick with Upstash-Schedule-Id, signed, tracking last/next times and states", async () => {
    const destination = `${rig.dest.url}/tick`;
    rig.dest.answer((_, i) => (i === 1 ? { status: 500 } : { status: 200 }));
    await rig.client.schedules.create({ destination, cron: "*/2 * * * *", scheduleId: "every-2", body: "tick", retries: 0 });
    await rig.clock.advance(4 * MIN);
    expect(rig.dest.received.map((r) => r.at)).toEqual([Date.UTC(2026, 0, 15, 12, 2), Date.UTC(2026, 0, 15, 12, 4)]);
    const [first, second] = rig.dest.received;
    expect(first!.headers["upstash-schedule-id"]).toBe("every-2");
    expect(first!.text).toBe("tick");
    expect(await rig.verify(first!, destination)).toBe(true);

    const s = await rig.client.schedules.get("every-2");
    expect(s.lastScheduleTime).toBe(Date.UTC(2026, 0, 15, 12, 4));
    expect(s.nextScheduleTime).toBe(Date.UTC(2026, 0, 15, 12, 6));
    // Only the last tick's messages, with their outcome: the second delivery got a 500.
    expect(s.lastScheduleStates).toEqual({ [String(second!.headers["upstash-message-id"])]: "FAIL" });
    await rig.clock.advance(2 * MIN);
    const again = await rig.client.schedules.get("every-2");
    expect(again.lastScheduleStates).toEqual({ [String(rig.dest.received[2]!.headers["upstash-message-id"])]: "SUCCESS" });
  });

  it("honours CRON_TZ: 09:00 in New York is 14:00 UTC in January", async () => {
    await rig.client.schedules.create({ destination: `${rig.dest.url}/ny`, cron: "CRON_TZ=America/New_York 0 9 * * *", scheduleId: "ny" });
    await rig.client.schedules.create({ destination: `${rig.dest.url}/utc`, cron: "0 9 * * *", scheduleId: "utc" });
    expect((await rig.client.schedules.get("ny")).nextScheduleTime).toBe(Date.UTC(2026, 0, 15, 14, 0));
    expect((await rig.client.schedules.get("utc")).nextScheduleTime).toBe(Date.UTC(2026, 0, 16, 9, 0));
    await rig.clock.advanceTo(Date.UTC(2026, 0, 16, 14, 0));
    expect(rig.dest.received.map((r) => [r.path, r.at])).toEqual([
      ["/ny", Date.UTC(2026, 0, 15, 14, 0)],
      ["/utc", Date.UTC(2026, 0, 16, 9, 0)],
      ["/ny", Date.UTC(2026, 0, 16, 14, 0)],
    ]);
  });

  it("delivers a tick after the schedule's Upstash-Delay", async () => {
    await rig.client.schedules.create({ destination: `${rig.dest.url}/d`, cron: "*/10 * * * *", delay: "90s" });
    await rig.clock.advanceTo(Date.UTC(2026, 0, 15, 12, 12));
    expect(rig.dest.received.map((r) => r.at)).toEqual([Date.UTC(2026, 0, 15, 12, 11, 30)]);
  });

  it("pauses and resumes through PATCH (the SDK) and POST (the docs)", async () => {
    await rig.client.schedules.create({ destination: `${rig.dest.url}/p`, cron: "* * * * *", scheduleId: "p" });
    await rig.client.schedules.pause({ schedule: "p" });
    const paused = await rig.client.schedules.get("p");
    expect(paused.isPaused).toBe(true);
    expect(paused.nextScheduleTime).toBeUndefined();
    await rig.clock.advance(3 * MIN);
    expect(rig.dest.received).toHaveLength(0);

    await rig.client.schedules.resume({ schedule: "p" });
    expect((await rig.client.schedules.get("p")).isPaused).toBe(false);
    await rig.clock.advance(MIN);
    expect(rig.dest.received).toHaveLength(1);

    const pause = await fetch(`${rig.server.url}/v2/schedules/p/pause`, { method: "POST", headers: auth() });
    expect(pause.status).toBe(200);
    await rig.clock.advance(3 * MIN);
    expect(rig.dest.received).toHaveLength(1);
    const resume = await fetch(`${rig.server.url}/v2/schedules/p/resume`, { method: "POST", headers: auth() });
    expect(resume.status).toBe(200);
    await rig.clock.advance(MIN);
    expect(rig.dest.received).toHaveLength(2);
    expect((await fetch(`${rig.server.url}/v2/schedules/missing/pause`, { method: "PATCH", headers: auth() })).status).toBe(404);
  });
});
