import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../dev/qstash/server";
import { jobRoute } from "../../lib/http/job-route";
import { defineJob, type Overlap } from "../../lib/jobs/define";
import type { RunDeps } from "../../lib/jobs/run";
import { createLogger } from "../../lib/log";
import { startRig, type Rig } from "../dev/qstash-harness";
import { KEYS, ledger, params, qstashRequest, testDeps, uniqueName } from "../support/app";
import { serveRoutes } from "../support/http-app";

/**
 * Overlap buffer-one and the slot key through the real route, delivered by the local QStash server
 * on a manual clock (its schedules fire the ticks; a 429's Retry-After decides the redelivery).
 */
type Answer = { status: number; retryAfter: string | null; body: Record<string, unknown>; messageId: string | null; at: number };

let rig: Rig | undefined;
let app: Awaited<ReturnType<typeof serveRoutes>> | undefined;
let deps: RunDeps | undefined;
afterEach(async () => {
  await rig?.close();
  await app?.close();
  await deps?.db.close();
  rig = app = deps = undefined;
});

const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : null);

/** A scheduled job whose runs note their slot; `hold` keeps a run going until released. */
async function setup(start: string, overlap: Overlap, cron: string, timeoutMs: number, faultyZones = false) {
  const name = uniqueName("buffer");
  const slots: string[] = [];
  let release: (() => void) | undefined;
  let hold = false;
  const job = defineJob({
    name,
    description: "notes its slot",
    overlap,
    timeoutMs,
    handler: async ({ run }) => {
      slots.push(iso(run.slotAt)!);
      if (hold) {
        hold = false;
        await new Promise<void>((r) => (release = r));
      }
      return { slot: iso(run.slotAt) };
    },
  });
  rig = await startRig({ clock: new ManualClock(Date.parse(start)), currentSigningKey: KEYS.current, nextSigningKey: KEYS.next, signingNow: Date.now, faultyZones });
  const clock = rig.clock;
  const answers: Answer[] = [];
  const logs: Record<string, unknown>[] = [];
  const route = jobRoute("cron", async () => deps!);
  // Every answer the app gives QStash, as QStash gets it.
  const recorded = async (req: Request, ctx: { params: Promise<{ job: string }> }) => {
    const res = await route.POST(req, ctx);
    answers.push({ status: res.status, retryAfter: res.headers.get("retry-after"), body: (await res.clone().json()) as Record<string, unknown>, messageId: req.headers.get("upstash-message-id"), at: clock.now() });
    return res;
  };
  app = await serveRoutes({ cron: { GET: route.GET, POST: recorded } });
  deps = { ...testDeps([job], [{ job: name, cron, retries: 3 }], { APP_URL: app.url, QSTASH_URL: rig.server.url, QSTASH_TOKEN: rig.server.token }), clock: () => new Date(clock.now()) };
  deps.log = createLogger("debug", {}, (line) => void logs.push(JSON.parse(line) as Record<string, unknown>));
  const holdNext = () => {
    hold = true;
    return () => release!();
  };
  return { name, slots, answers, logs, holdNext, url: `${app.url}/api/cron/${name}` };
}

describe("overlap buffer-one, through the local QStash server", () => {
  it("tick 2 waits (429 + Retry-After) and runs after tick 1 with its own slot; tick 3 skips; all recorded", { timeout: 30_000 }, async () => {
    // Timeout 9 min: a tick waiting on a fresh run is told to come back at its expected end.
    const t = await setup("2031-03-04T09:05:10Z", "buffer-one", "*/5 * * * *", 9 * 60_000);
    // Tick 1 (09:05), a schedule's delivery sent straight to the route, holds the job.
    const releaseFirst = t.holdNext();
    const first = jobRoute("cron", async () => deps!).POST(qstashRequest(`/api/cron/${t.name}`, "{}", { url: t.url, messageId: "msg_tick_1", scheduleId: `test-${t.name}` }), params(t.name));
    await expect.poll(() => t.slots.length).toBe(1);
    await rig!.client.schedules.create({ scheduleId: `test-${t.name}`, destination: t.url, cron: "*/5 * * * *", retries: 3 });

    await rig!.clock.advanceTo(Date.parse("2031-03-04T09:10:30Z"));
    expect(t.answers).toHaveLength(1);
    const waited = t.answers[0]!;
    expect(waited).toMatchObject({ status: 429, body: { status: "waiting", slotAt: "2031-03-04T09:10:00.000Z" } });
    // About the holder's expected end (09:05:10 + 9 min): long past tick 3 at 09:15.
    expect(Number(waited.retryAfter)).toBeGreaterThan(500);
    expect(Number(waited.retryAfter)).toBeLessThanOrEqual(540);

    await rig!.clock.advanceTo(Date.parse("2031-03-04T09:15:30Z"));
    expect(t.answers).toHaveLength(2);
    expect(t.answers[1]).toMatchObject({ status: 200, body: { status: "skipped" } });
    expect(t.answers[1]!.messageId).not.toBe(waited.messageId);

    releaseFirst();
    expect((await first).status).toBe(200);
    // QStash delivers tick 2 again after its Retry-After (before the 09:20 tick): it runs now, for 09:10.
    await rig!.clock.advanceTo(Date.parse("2031-03-04T09:19:59Z"));
    expect(t.answers).toHaveLength(3);
    expect(t.answers[2]).toMatchObject({ status: 200, messageId: waited.messageId, body: { status: "succeeded", stats: { slot: "2031-03-04T09:10:00.000Z" } } });
    expect(t.answers[2]!.at - waited.at).toBe(Number(waited.retryAfter) * 1000);
    expect(t.slots).toEqual(["2031-03-04T09:05:00.000Z", "2031-03-04T09:10:00.000Z"]);

    // Recorded either way: the waiter on the holder's row, the later tick as a skip naming it.
    const rows = await ledger(t.name);
    const holder = rows.find((r) => r.message_id === "msg_tick_1")!;
    const raw = holder as unknown as { buffered_message_id: string; buffered_slot_at: Date; buffered_at: Date };
    expect(holder).toMatchObject({ status: "succeeded" });
    expect(raw.buffered_message_id).toBe(waited.messageId);
    expect(iso(raw.buffered_slot_at)).toBe("2031-03-04T09:10:00.000Z");
    expect(raw.buffered_at).toBeInstanceOf(Date);
    expect(rows.map((r) => [r.status, r.message_id === waited.messageId ? "tick 2" : r.message_id === "msg_tick_1" ? "tick 1" : "tick 3", iso(r.slot_at)])).toEqual([
      ["succeeded", "tick 1", "2031-03-04T09:05:00.000Z"],
      ["skipped", "tick 3", "2031-03-04T09:15:00.000Z"],
      ["succeeded", "tick 2", "2031-03-04T09:10:00.000Z"],
    ]);
    expect(rows[1]!.stats).toEqual({ held_by: holder.id, waiting: waited.messageId });
    expect(rows[2]!.attempt).toBe(1);
    const events = t.logs.filter((l) => String(l.event).startsWith("job.run.") && l.event !== "job.run.started" && l.event !== "job.run.completed");
    expect(events.map((l) => l.event)).toEqual(expect.arrayContaining(["job.run.buffered", "job.run.skipped"]));
    expect(t.logs.find((l) => l.event === "job.run.skipped")).toMatchObject({ heldBy: holder.id, reason: expect.stringContaining("buffer-one") });
  });

  it("a redelivery of the waiting tick while the holder still runs waits again, and keeps its first slot", { timeout: 30_000 }, async () => {
    // Timeout 2 min: the waiter comes back at 09:12 while the holder still runs, then later.
    const t = await setup("2031-03-04T09:05:10Z", "buffer-one", "*/5 * * * *", 2 * 60_000);
    const releaseFirst = t.holdNext();
    const first = jobRoute("cron", async () => deps!).POST(qstashRequest(`/api/cron/${t.name}`, "{}", { url: t.url, messageId: "msg_tick_1", scheduleId: `test-${t.name}` }), params(t.name));
    await expect.poll(() => t.slots.length).toBe(1);
    await rig!.client.schedules.create({ scheduleId: `test-${t.name}`, destination: t.url, cron: "*/5 * * * *", retries: 3 });
    await rig!.clock.advanceTo(Date.parse("2031-03-04T09:10:30Z"));
    const waited = t.answers[0]!;
    expect(waited.status).toBe(429);
    // Redelivered (attempt 1) while tick 1 still holds the job, though past its expected end: waits again.
    await rig!.clock.advanceTo(waited.at + Number(waited.retryAfter) * 1000);
    expect(t.answers.slice(1).map((a) => [a.status, a.messageId === waited.messageId])).toEqual([[429, true]]);
    releaseFirst();
    expect((await first).status).toBe(200);
    await rig!.clock.advanceTo(Date.parse("2031-03-04T09:14:59Z"));
    expect(t.answers.at(-1)).toMatchObject({ status: 200, messageId: waited.messageId, body: { status: "succeeded", stats: { slot: "2031-03-04T09:10:00.000Z" } } });
    expect(t.slots).toEqual(["2031-03-04T09:05:00.000Z", "2031-03-04T09:10:00.000Z"]);
  });
});

describe("the slot key, through the local QStash server", () => {
  it("a tick delivered twice for one slot (two schedules, two message ids) runs once, even with overlap allow", { timeout: 30_000 }, async () => {
    const t = await setup("2031-03-04T09:05:10Z", "allow", "*/5 * * * *", 60_000);
    // A faulty transport: the same cron twice for one job, as a doubled zoned tick is.
    for (const id of [`test-${t.name}`, `test-${t.name}-2`]) await rig!.client.schedules.create({ scheduleId: id, destination: t.url, cron: "*/5 * * * *", retries: 3 });
    await rig!.clock.advanceTo(Date.parse("2031-03-04T09:10:30Z"));
    expect(t.answers.map((a) => a.status)).toEqual([200, 200]);
    expect(t.slots).toEqual(["2031-03-04T09:10:00.000Z"]);
    const rows = await ledger(t.name);
    expect(rows.map((r) => iso(r.slot_at))).toEqual(["2031-03-04T09:10:00.000Z", "2031-03-04T09:10:00.000Z"]);
    // Delivered one after the other or side by side: a duplicate of the success, or a skip beside it.
    expect(rows.filter((r) => r.status === "succeeded")).toHaveLength(1);
    const other = rows.find((r) => r.status !== "succeeded")!;
    expect(["duplicate", "skipped"]).toContain(other.status);
    expect(other.stats).toMatchObject({ same_slot: true });
  });

  it("a zoned tick a faulty transport fires twice on the night the hour repeats runs once (Lisbon 01:30, 2027-10-31)", { timeout: 30_000 }, async () => {
    const cron = "CRON_TZ=Europe/Lisbon 30 1 * * *";
    const t = await setup("2027-10-30T23:00:00Z", "skip", cron, 60_000, true);
    // The zoned cron sent as is: the faulty transport fires 01:30 WEST (00:30Z) and 01:30 WET (01:30Z).
    await rig!.client.schedules.create({ scheduleId: `test-${t.name}`, destination: t.url, cron, retries: 3 });
    await rig!.clock.advanceTo(Date.parse("2027-10-31T02:00:00Z"));
    expect(t.answers.map((a) => [new Date(a.at).toISOString(), a.status, a.body.status])).toEqual([
      ["2027-10-31T00:30:00.000Z", 200, "succeeded"],
      ["2027-10-31T01:30:00.000Z", 200, "duplicate"],
    ]);
    expect(t.slots).toEqual(["2027-10-31T00:30:00.000Z"]);
    expect((await ledger(t.name)).map((r) => [r.status, iso(r.slot_at)])).toEqual([
      ["succeeded", "2027-10-31T00:30:00.000Z"],
      ["duplicate", "2027-10-31T00:30:00.000Z"],
    ]);
  });
});
