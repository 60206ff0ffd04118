import type { Registry } from "../../lib/jobs/registry";
import { appliesIn, slotOf, type Schedule } from "../../lib/jobs/schedules";
import { slotsBetween } from "../../lib/jobs/slots";
import { sql } from "../support/app";
import type { Hit } from "./app-front";
import type { FaultKind, WindowPlan } from "./faults";

const MINUTE = 60_000;
/**
 * Past a slot's catch-up window (`Schedule.catchUp.windowMs`), how long its run may take to start:
 * the watchdog decides within the window and publishes at once; the delivery, a retry of it, a
 * sweep that publishes what the last one could not.
 */
export const CATCH_UP_SLACK_MS = 15 * MINUTE;
/** How far an outage reaches: QStash's retries of a tick span 33 minutes (12 s, 2m28s, 30m8s), and a retry is credited to the slot of its arrival. */
const OUTAGE_REACH_MS = 60 * MINUTE;

export type Outcome =
  | "on time"
  | "retried"
  | "caught up"
  | "backfilled"
  | "reported missed"
  | "covered"
  | "ran twice"
  | "ran late"
  | "ran and reported missed"
  | "catch-up never ran"
  | "skipped, never decided"
  | "failed, never decided"
  | "missed silently";
/** What the plan's accounting accepts: one run inside the catch-up window, or a missed/covered decision and no run. */
export const ACCEPTED: readonly Outcome[] = ["on time", "retried", "caught up", "backfilled", "reported missed", "covered"];

export interface SlotResult {
  job: string;
  slot: Date;
  via: "qstash" | "vercel";
  fault: FaultKind | "none";
  outcome: Outcome;
}

/** Which fault reaches a slot (the first that does, most disruptive first), from the plan and from what the app's gate did. */
function faultOf(plan: WindowPlan, s: Schedule, slot: number, lost: Set<string>): FaultKind | "none" {
  for (const kind of ["down-day", "no-answer", "unavailable"] as const) {
    if (plan.stretches.some((x) => x.kind === kind && x.from - OUTAGE_REACH_MS <= slot && slot < x.to + OUTAGE_REACH_MS)) return kind;
  }
  if (plan.stretches.some((x) => x.kind === "doubled" && x.jobs!.includes(s.job) && x.from <= slot && slot < x.to)) return "doubled";
  if (lost.has(`${s.job} ${slot}`)) return "answer-lost";
  if (plan.faultyZones && s.timezone !== "UTC") return "faulty-zones";
  return "none";
}

/**
 * Every (job, slot) of the window's QStash and Vercel schedules in [from, to), with its outcome from
 * the ledger (`job_runs` by `slot_at`: succeeded runs, else skipped or failed ones) and, once it exists, the watchdog's
 * decisions (`schedule_slots`), and the fault that reached it.
 */
export async function account(registry: Registry, plan: WindowPlan, from: number, to: number, hits: readonly Hit[]): Promise<SlotResult[]> {
  const schedules = registry.schedules.filter((s) => appliesIn(s, "test"));
  const rows = await sql()<{ job: string; slot_at: Date; trigger: string; status: string; started_at: Date }[]>`
    select job, slot_at, trigger, status, started_at from job_runs
     where status in ('succeeded', 'skipped', 'failed') and slot_at >= ${new Date(from)} and slot_at < ${new Date(to)}`;
  const [table] = await sql()<{ exists: boolean }[]>`select to_regclass('public.schedule_slots') is not null as exists`;
  const decisions = table?.exists
    ? await sql()<{ job: string; slot_at: Date; decision: string }[]>`select job, slot_at, decision from schedule_slots where slot_at >= ${new Date(from)} and slot_at < ${new Date(to)}`
    : [];
  const key = (job: string, at: Date | number) => `${job} ${new Date(at).getTime()}`;
  const ran = new Map<string, { trigger: string; started_at: Date }[]>();
  const other = new Map<string, string>();
  for (const r of rows) {
    const k = key(r.job, r.slot_at);
    if (r.status === "succeeded") ran.set(k, [...(ran.get(k) ?? []), r]);
    else other.set(k, other.get(k) === "failed" ? "failed" : r.status);
  }
  const decided = new Map(decisions.map((d) => [key(d.job, d.slot_at), d.decision]));
  const lost = new Set<string>();
  for (const h of hits) {
    const s = h.gate === "lose-answer" ? registry.scheduleOf(h.path.split("/").at(-1)!) : undefined;
    const at = s && slotOf(s, new Date(h.at));
    if (at) lost.add(key(s.job, at));
  }

  return schedules.flatMap((s) =>
    slotsBetween(s, new Date(from), new Date(to)).map((slot): SlotResult => {
      const rs = ran.get(key(s.job, slot)) ?? [];
      const decision = decided.get(key(s.job, slot));
      return { job: s.job, slot, via: s.via, fault: faultOf(plan, s, slot.getTime(), lost), outcome: outcomeOf(s, slot, rs, decision, other.get(key(s.job, slot))) };
    }),
  );
}

/** `other`: what the slot's rows say when none succeeded (a tick skipped by the overlap rule, a failed run). */
function outcomeOf(s: Schedule, slot: Date, rs: { trigger: string; started_at: Date }[], decision: string | undefined, other: string | undefined): Outcome {
  if (rs.length > 1) return "ran twice";
  if (rs.length === 0) {
    if (decision === "missed") return "reported missed";
    if (decision === "covered") return "covered";
    if (decision === "catch-up") return "catch-up never ran";
    return other === "skipped" ? "skipped, never decided" : other === "failed" ? "failed, never decided" : "missed silently";
  }
  if (decision === "missed" || decision === "covered") return "ran and reported missed";
  const r = rs[0]!;
  const lag = r.started_at.getTime() - slot.getTime();
  if (lag > s.catchUp.windowMs + CATCH_UP_SLACK_MS) return "ran late";
  if (r.trigger === "catch-up") return "caught up";
  if (r.trigger === "backfill") return "backfilled";
  return lag < MINUTE ? "on time" : "retried";
}
