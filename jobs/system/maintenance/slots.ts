import { alertMissedSlots } from "@/lib/alerts/incidents";
import { describeError } from "@/lib/errors";
import { decideSlots, publishCatchUps, type Decided, type SweepResult } from "@/lib/jobs/catch-up";
import type { JobContext } from "@/lib/jobs/define";
import type { Registry } from "@/lib/jobs/registry";
import { operatorClient } from "@/lib/qstash/client";
import { publishSlotRun } from "@/lib/qstash/slot-runs";
import { qstashView, type ViewedSchedule } from "./qstash-view";

const MISSING = "its schedule is missing in QStash (run pnpm qstash:schedule)";

/**
 * The watchdog's sweep, shared by the QStash-fired watchdog (every 10 minutes) and keep-alive (the
 * Vercel-fired daily heartbeat, over the whole day, so slots are decided even when the watchdog
 * itself stopped): slots no delivery reached are caught up or recorded missed, each once, and
 * each opens or joins its job's incident. Paused schedules are left alone; missing ones are swept;
 * none is when QStash cannot be asked.
 */
export async function sweepSchedules(ctx: JobContext<unknown>, registry: Registry, problems: string[], lookbackMs?: number): Promise<{ stats: Record<string, unknown>; sweep: SweepResult; viewed: ViewedSchedule[] }> {
  const view = await qstashView(ctx, registry.schedules, problems);
  const swept = view.viewed
    // Paused: on purpose. Unknown (QStash could not be asked): without its createdAt every slot of
    // the day would look missed; keep-alive's digest lists them instead, and the next sweep decides.
    .filter((v) => v.state === "ok" || v.state === "missing")
    .map((v) => ({ ...v.schedule, since: v.since, ...(v.state === "missing" && { note: MISSING, afterLastRun: true }) }));
  const sweep = await decideSlots(ctx.db, swept, ctx.now, lookbackMs === undefined ? {} : { lookbackMs });
  const notes = new Map(swept.map((s) => [s.job, s.note]));
  const windows = new Map(swept.map((s) => [s.job, s.catchUp.windowMs]));
  const byJob = [...groupByJob(sweep.decided)].map(([job, decided]) => {
    const decision = new Map(decided.map((d) => [d.slot.getTime(), d]));
    return { job, slots: decided.map((d) => d.slot), what: (slot: Date) => whatOf(decision.get(slot.getTime())!, windows.get(job) ?? 0, notes.get(job)) };
  });
  let unsent = false;
  try {
    unsent = (await alertMissedSlots(ctx, byJob, ctx.now)).some((o) => o.retry);
  } catch (err) {
    // The decisions stand; the alert is what failed, and the log and stats say so.
    ctx.log.error("alert.failed", { what: "missed_slots", error: describeError(err) });
    unsent = true;
  }
  if (unsent) problems.push("a missed-slot alert did not reach every channel (see the log, alert.outcome)");
  const client = operatorClient(ctx.env);
  await publishCatchUps({ db: ctx.db, publish: (job, slot) => publishSlotRun({ env: ctx.env, registry, client }, job, slot, "catch-up") }, swept, ctx.now, sweep);
  problems.push(...sweep.errors);
  const count = (k: Decided["decision"]) => sweep.decided.filter((d) => d.decision === k).length;
  return {
    sweep,
    viewed: view.viewed,
    stats: { qstash: view.status, expectedSlots: sweep.expected, caughtUp: count("catch-up"), covered: count("covered"), missed: count("missed"), published: sweep.published },
  };
}

function whatOf(d: Decided, windowMs: number, note: string | undefined): string {
  const at = d.slot.toISOString();
  const why = note ? `: ${note}` : "";
  if (d.decision === "catch-up") return `missed its ${at} run (no delivery reached the app${why}); caught up: one run published for that slot`;
  if (d.decision === "covered") return `missed its ${at} run (no delivery reached the app${why}); covered by the catch-up run of a later slot`;
  const window = windowMs ? `older than its catch-up window (${Math.round(windowMs / 60_000)} min)` : "catch-up is off for it";
  return `missed its ${at} run (no delivery reached the app${why}); ${window}, so not run: replay it with pnpm job:backfill ${d.job} --from ${at} --to ${new Date(d.slot.getTime() + 1000).toISOString()}`;
}

function groupByJob(decided: readonly Decided[]): Map<string, Decided[]> {
  const by = new Map<string, Decided[]>();
  for (const d of decided) by.set(d.job, [...(by.get(d.job) ?? []), d]);
  return by;
}

/** What the sweeps decided in the day before `now`, one line per job, for keep-alive's digest. */
export async function dayOfDecisions(ctx: Pick<JobContext<unknown>, "db" | "now">): Promise<string[]> {
  const from = new Date(ctx.now.getTime() - 24 * 3_600_000);
  const byJob = await ctx.db.rpc<Record<string, Partial<Record<Decided["decision"], number>>>>("schedule_slots_summary", { p_from: from, p_to: ctx.now });
  return Object.entries(byJob).map(([job, c]) => {
    const parts = [c["catch-up"] && `${c["catch-up"]} caught up`, c.covered && `${c.covered} covered by a later catch-up`, c.missed && `${c.missed} missed`].filter(Boolean);
    const self = job === "watchdog" ? " (the watchdog itself: slots went unnoticed until this daily sweep)" : "";
    return `${job}: slots no delivery reached in the last 24 h: ${parts.join(", ")}; each alerted when found${self}`;
  });
}
