import type { Client } from "@upstash/qstash";
import { account, type SlotResult } from "./accounting";
import { gateOf, type Stretch, type WindowPlan } from "./faults";
import { startStack } from "./stack";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export interface WindowReport {
  plan: WindowPlan;
  slots: SlotResult[];
  /** Requests that reached the app's front door, by what the gate did with them. */
  requests: Record<string, number>;
  /** Deliveries QStash made of stale second schedules (the doubled ticks). */
  doubledDeliveries: number;
  /** CRON_TZ schedules QStash held: what a faulty transport could have skipped or doubled. */
  zonedOnTransport: number;
  dbCalls: number;
  seconds: number;
}

/**
 * One window of the year on its own stack and manual clock (a fresh local QStash server, synced as
 * `pnpm qstash:schedule` syncs, so nothing fires in the months between windows), run hour by hour
 * to its end, then accounted: slots in [from, to - 10 min), whose deliveries and catch-up are over.
 */
export async function runWindow(plan: WindowPlan, seed: number): Promise<WindowReport> {
  const started = performance.now();
  let now = () => 0;
  // Synced a minute before `from`, so that the first slot accounted is the first tick after the sync.
  const stack = await startStack({ start: plan.from - MINUTE, zone: plan.zone, faultyZones: plan.faultyZones, gate: gateOf(plan, seed, () => now()) });
  now = () => stack.clock.now();
  let zonedOnTransport = 0;
  try {
    for (const s of plan.stretches) if (s.kind === "doubled") armDoubled(stack.clock, stack.client, s);
    for (let t = plan.from; t < plan.to; t = Math.min(plan.to, t + HOUR)) {
      await stack.clock.advanceTo(Math.min(plan.to, t + HOUR));
      zonedOnTransport = Math.max(zonedOnTransport, Object.values(stack.qstash.state.schedules).filter((s) => s.cron.includes("CRON_TZ")).length);
    }
    const slots = await account(stack.registry, plan, plan.from, plan.to - 10 * MINUTE, stack.hits);
    const requests: Record<string, number> = {};
    for (const h of stack.hits) requests[h.gate] = (requests[h.gate] ?? 0) + 1;
    const doubledDeliveries = stack.hits.filter((h) => h.scheduleId?.startsWith("stale-")).length;
    return { plan, slots, requests, doubledDeliveries, zonedOnTransport, dbCalls: stack.dbCalls(), seconds: (performance.now() - started) / 1000 };
  } finally {
    await stack.close();
  }
}

/**
 * A stale second schedule per schedule of the stretch's jobs (ids outside the app's prefix, as a
 * renamed SCHEDULE_PREFIX leaves behind), firing the same cron 30 s later: every tick of those
 * jobs is delivered twice, as two messages, while the stretch lasts.
 */
function armDoubled(clock: { setTimer(at: number, fn: () => unknown): unknown }, client: Client, s: Stretch) {
  const ids: string[] = [];
  clock.setTimer(s.from, async () => {
    for (const sch of await client.schedules.list()) {
      const job = sch.destination.split("/api/cron/")[1];
      if (!job || !s.jobs!.includes(job) || sch.scheduleId.startsWith("stale-")) continue;
      const scheduleId = `stale-${sch.scheduleId}`;
      await client.schedules.create({ scheduleId, destination: sch.destination, cron: sch.cron, method: "POST", body: "{}", delay: 30, retries: sch.retries, headers: { "Content-Type": "application/json" } });
      ids.push(scheduleId);
    }
  });
  clock.setTimer(s.to, async () => {
    for (const id of ids) await client.schedules.delete(id);
  });
}
