import { Cron } from "croner";
import { parseCron } from "../jobs/schedules";

/** Published plan limits (QStash pricing page, see the team's QStash wire notes). */
export const PLANS = {
  free: { label: "free plan", schedules: 10, messagesPerDay: 1000 },
  payg: { label: "pay-as-you-go plan", schedules: 1000, messagesPerDay: undefined },
} as const;
export type PlanName = keyof typeof PLANS | "none";

/**
 * Deliveries in the 24 hours after `from`, counted from the cron (its CRON_TZ zone included).
 * First attempts only: each retry is one more message, and so is every one-time message a job
 * publishes, so the real count is higher.
 */
export function messagesPerDay(cron: string, from: Date): number {
  const { expression, timezone } = parseCron(cron, "cron");
  const c = new Cron(expression, { mode: "5-part", timezone, paused: true });
  const end = from.getTime() + 86_400_000;
  let n = 0;
  for (let t = c.nextRun(from); t && t.getTime() <= end; t = c.nextRun(t)) n++;
  return n;
}

export interface LimitReport {
  plan: PlanName;
  /** Every schedule the account will hold: ours after the sync plus the others. */
  schedules: number;
  messagesPerDay: number;
  perSchedule: { scheduleId: string; messagesPerDay: number | undefined; ours: boolean }[];
  warnings: string[];
  /** Why the sync must not go ahead: more schedules than the plan holds (QStash would refuse some, so jobs would silently never run). */
  refusals: string[];
}

export function checkLimits(
  plan: PlanName,
  ours: readonly { scheduleId: string; cron: string }[],
  others: readonly { scheduleId: string; cron: string; isPaused?: boolean }[],
  from: Date,
): LimitReport {
  const perSchedule = [
    ...ours.map((s) => ({ scheduleId: s.scheduleId, messagesPerDay: count(s.cron, from), ours: true })),
    // A paused schedule still counts as a schedule, but sends nothing.
    ...others.map((s) => ({ scheduleId: s.scheduleId, messagesPerDay: s.isPaused ? 0 : count(s.cron, from), ours: false })),
  ];
  const total = perSchedule.reduce((a, s) => a + (s.messagesPerDay ?? 0), 0);
  const report: LimitReport = { plan, schedules: perSchedule.length, messagesPerDay: total, perSchedule, warnings: [], refusals: [] };
  if (plan === "none") return report;
  const limit = PLANS[plan];
  if (report.schedules > limit.schedules) {
    const other = others.length ? ` + ${others.length} other${others.length === 1 ? "" : "s"} already in the account` : "";
    report.refusals.push(
      `${report.schedules} schedules (${ours.length} for this deployment's jobs${other}) exceed the ${limit.label}'s ${limit.schedules}: QStash would refuse the ones over the limit and their jobs would never run. ` +
        `Enable fewer products (PRODUCTS, ${report.schedules - limit.schedules} schedule(s) fewer), remove schedules of other apps from the account, or upgrade the plan and say so with --plan payg (or QSTASH_PLAN=payg).`,
    );
  }
  if (limit.messagesPerDay !== undefined && total > limit.messagesPerDay) {
    const top = [...perSchedule].sort((a, b) => (b.messagesPerDay ?? 0) - (a.messagesPerDay ?? 0)).slice(0, 3);
    report.warnings.push(
      `about ${n(total)} messages/day from schedules alone (first attempts, without retries or one-time messages) exceed the ${limit.label}'s ${n(limit.messagesPerDay)}; most from ${top.map((s) => `${s.scheduleId} (${n(s.messagesPerDay ?? 0)})`).join(", ")}. Deliveries over the limit are rejected: slow the crons down or upgrade.`,
    );
  }
  return report;
}

const n = (x: number) => x.toLocaleString("en-US");

function count(cron: string, from: Date): number | undefined {
  try {
    return messagesPerDay(cron, from);
  } catch {
    return undefined; // a foreign cron croner cannot read: not counted, rather than guessed
  }
}
