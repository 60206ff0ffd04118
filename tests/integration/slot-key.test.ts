import { describe, expect, it } from "vitest";
import { defineJob, type Overlap } from "../../lib/jobs/define";
import { isTick, runJob, type RunRequest } from "../../lib/jobs/run";
import { ledger, testDeps, uniqueName } from "../support/app";

/**
 * The slot key for catch-up and backfill runs (one-time messages that name their slot, trigger
 * `catch-up` / `backfill`). The route's `?slot=&trigger=` belongs to the backfill work; here
 * runJob gets the request as the route will build it. The 429 of `in_flight` is the route's.
 */
const SLOT = new Date("2031-03-04T09:10:00Z");
const NOW = new Date("2031-03-04T09:12:00Z");

function rig(overlap: Overlap = "skip") {
  const name = uniqueName("slot-key");
  const slots: string[] = [];
  let fail = false;
  let hold = false;
  let release: (() => void) | undefined;
  const job = defineJob({
    name,
    description: "notes its slot",
    overlap,
    timeoutMs: 60_000,
    handler: async ({ run }) => {
      slots.push(run.slotAt!.toISOString());
      if (hold) {
        hold = false;
        await new Promise<void>((r) => (release = r));
      }
      if (fail) throw new Error("the sweep failed");
      return {};
    },
  });
  const deps = { ...testDeps([job], [{ job: name, cron: "*/5 * * * *" }]), clock: () => NOW };
  const run = (r: Partial<RunRequest>) => runJob({ job: name, payload: {}, trigger: "qstash", ...r }, deps);
  const catchUp = (messageId: string, slotAt = SLOT) => run({ trigger: "catch-up", messageId, slotAt });
  const tick = (messageId: string, attempt = 0) => run({ messageId, scheduleId: `test-${name}`, attempt });
  /** The next run started waits (holding the job) until the returned function is called. */
  const holdNext = () => {
    hold = true;
    return () => release!();
  };
  return { name, slots, deps, run, catchUp, tick, holdNext, setFail: (f: boolean) => (fail = f) };
}

describe("catch-up and backfill runs are messages keyed by their slot", () => {
  it("are never ticks (never skipped for overlap)", () => {
    expect(isTick({ trigger: "catch-up" })).toBe(false);
    expect(isTick({ trigger: "backfill", scheduleId: undefined })).toBe(false);
    expect(isTick({ trigger: "qstash", scheduleId: "s" })).toBe(true);
    expect(isTick({ trigger: "cli" })).toBe(true);
  });

  it("a slot that already succeeded: the catch-up is a duplicate, recorded as such", async () => {
    const r = rig();
    expect(await r.tick("msg_tick")).toMatchObject({ status: "succeeded" });
    const original = (await ledger(r.name))[0]!;
    expect(await r.catchUp("msg_catch_up")).toMatchObject({ status: "duplicate" });
    // And again for the same slot under another id (a person's backfill): still a duplicate.
    expect(await r.run({ trigger: "backfill", messageId: "msg_backfill", slotAt: SLOT })).toMatchObject({ status: "duplicate" });
    const rows = await ledger(r.name);
    expect(rows.map((x) => [x.trigger, x.status, x.slot_at?.toISOString()])).toEqual([
      ["qstash", "succeeded", SLOT.toISOString()],
      ["catch-up", "duplicate", SLOT.toISOString()],
      ["backfill", "duplicate", SLOT.toISOString()],
    ]);
    expect(rows[1]!.stats).toEqual({ original_run_id: original.id, same_slot: true });
    expect(r.slots).toEqual([SLOT.toISOString()]);
    await r.deps.db.close();
  });

  it("a slot whose run is running: the catch-up is in flight (come back later), then a duplicate once it succeeded", async () => {
    const r = rig();
    const release = r.holdNext();
    const tick = r.tick("msg_tick");
    await expect.poll(() => r.slots.length).toBe(1);
    const busy = await r.catchUp("msg_catch_up");
    const holder = (await ledger(r.name))[0]!;
    expect(busy).toEqual({ status: "in_flight", runId: holder.id, retryAfterMs: expect.any(Number) });
    expect((busy as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(50_000);
    release();
    expect(await tick).toMatchObject({ status: "succeeded" });
    expect(await r.catchUp("msg_catch_up")).toMatchObject({ status: "duplicate" });
    expect(r.slots).toHaveLength(1);
    await r.deps.db.close();
  });

  it("a slot whose run failed is run by the catch-up; a backfill runs the slot it names, not the clock's", async () => {
    const r = rig();
    r.setFail(true);
    expect(await r.tick("msg_tick")).toMatchObject({ status: "failed" });
    r.setFail(false);
    expect(await r.catchUp("msg_catch_up")).toMatchObject({ status: "succeeded" });
    // A backfill of an older slot while nothing runs: its own slot, not the clock's.
    const older = new Date("2031-03-03T09:10:00Z");
    expect(await r.run({ trigger: "backfill", messageId: "msg_backfill", slotAt: older })).toMatchObject({ status: "succeeded" });
    const rows = await ledger(r.name);
    expect(rows.map((x) => [x.trigger, x.status, x.slot_at?.toISOString()])).toEqual([
      ["qstash", "failed", SLOT.toISOString()],
      ["catch-up", "succeeded", SLOT.toISOString()],
      ["backfill", "succeeded", older.toISOString()],
    ]);
    expect(r.slots).toEqual([SLOT, SLOT, older].map((d) => d.toISOString()));
    await r.deps.db.close();
  });

  it("a doubled tick of a running slot skips even under overlap allow; its retry after a failure runs it", async () => {
    const r = rig("allow");
    r.setFail(true);
    const release = r.holdNext();
    const first = r.tick("msg_a");
    await expect.poll(() => r.slots.length).toBe(1);
    expect(await r.tick("msg_b")).toMatchObject({ status: "skipped" });
    release();
    expect(await first).toMatchObject({ status: "failed" });
    r.setFail(false);
    // QStash retries msg_a: failed runs of a slot block nothing.
    expect(await r.tick("msg_a", 1)).toMatchObject({ status: "succeeded" });
    expect(await r.tick("msg_b", 1)).toMatchObject({ status: "duplicate" });
    expect(r.slots).toHaveLength(2);
    await r.deps.db.close();
  });
});

describe("buffer-one, decided by the ledger", () => {
  it("a tick that cannot be delivered again (CLI, Vercel cron) skips; a catch-up of the waiting tick's slot comes back after it", async () => {
    const r = rig("buffer-one");
    const release = r.holdNext();
    const first = r.tick("msg_1");
    await expect.poll(() => r.slots.length).toBe(1);
    expect(await r.run({ trigger: "cli" })).toMatchObject({ status: "skipped" });
    // The tick of the next slot waits (clock moved on: slot 09:15).
    const later = { ...r.deps, clock: () => new Date("2031-03-04T09:15:05Z") };
    const waiting = await runJob({ job: r.name, payload: {}, trigger: "qstash", messageId: "msg_2", scheduleId: `test-${r.name}` }, later);
    expect(waiting).toMatchObject({ status: "waiting", buffered: { slotAt: new Date("2031-03-04T09:15:00Z") } });
    // The watchdog, seeing 09:15 unclaimed, sends a catch-up: it must not run beside the holder.
    expect(await r.catchUp("msg_catch_up", new Date("2031-03-04T09:15:00Z"))).toMatchObject({ status: "in_flight" });
    release();
    expect(await first).toMatchObject({ status: "succeeded" });
    expect(await runJob({ job: r.name, payload: {}, trigger: "qstash", messageId: "msg_2", scheduleId: `test-${r.name}`, attempt: 1 }, later)).toMatchObject({ status: "succeeded" });
    expect(await r.catchUp("msg_catch_up", new Date("2031-03-04T09:15:00Z"))).toMatchObject({ status: "duplicate" });
    expect(r.slots).toEqual(["2031-03-04T09:10:00.000Z", "2031-03-04T09:15:00.000Z"]);
    await r.deps.db.close();
  });
});
