import { defineJob } from "@/lib/jobs/define";
import type { Registry } from "@/lib/jobs/registry";
import { parkedMessages } from "./maintenance/parked";
import { sweepSchedules } from "./maintenance/slots";
import { prune } from "./retention";

const RETENTION_MINUTE = 20;
/** Within the run's timeout with room for the sweep; what is left goes an hour later. */
const RETENTION_BUDGET_MS = 120_000;

/**
 * The layer's one QStash schedule. Every 10 minutes: slots that no delivery reached, found within
 * 13 minutes (3 of grace for a late delivery), caught up within their schedule's window or
 * recorded missed, each alerted in its job's incident; and the one-time messages parked past
 * QStash's maximum delay that are now within range. At :20 it also runs retention. keep-alive
 * (Vercel, daily) sweeps back to its own previous run, so a watchdog that stopped is no blind spot.
 * Problems (a schedule missing, a catch-up not published, an alert not sent) are in its stats and
 * the log, not a failure: the next run, 10 minutes later, publishes what was not, and a failing
 * watchdog would only add dead letters about itself.
 */
export function createWatchdog(opts: { registry: () => Promise<Registry> }) {
  return defineJob({
    name: "watchdog",
    description: "Every 10 minutes: slots no delivery reached, caught up within their window or reported missed",
    timeoutMs: 180_000,
    async handler(ctx) {
      const problems: string[] = [];
      const registry = await opts.registry();
      const { stats } = await sweepSchedules(ctx, registry, problems);
      const parked = await parkedMessages(ctx, registry, problems);
      if (problems.length) ctx.log.warn("watchdog.problems", { problems });
      // Once an hour, its :20 tick also prunes: one schedule for the layer's upkeep, not two.
      const retention = ctx.run.slotAt?.getUTCMinutes() === RETENTION_MINUTE ? await prune(ctx, { budgetMs: RETENTION_BUDGET_MS }) : undefined;
      return { ...stats, parkedMessages: parked, problems, ...(retention && { retention }) };
    },
  });
}
