import { createHash } from "node:crypto";
import { find, schedule, type MessageDeps } from "../qstash/messages";
import { scheduleCron } from "./schedules";

/** A retry this close before the job's next tick waits for the tick. */
const TICK_SLACK_MS = 15 * 60_000;

export type RetryRun = "next-tick" | "already-scheduled" | "scheduled";

/**
 * Failed and unknown effects are due again within minutes or hours (effects.sql), but a daily job
 * would only see them at its next tick. When that tick comes later than the retry, one one-time
 * run of the job (same payload) is published for the retry time; a run already scheduled early
 * enough is kept, so a string of failing runs publishes one message, not one each.
 */
export async function scheduleRetryRun(deps: MessageDeps, run: { job: string; payload: unknown }, at: Date, now: Date): Promise<RetryRun> {
  const s = deps.registry.scheduleOf(run.job);
  const tick = s && scheduleCron(s).nextRun(now);
  if (tick && tick.getTime() <= at.getTime() + TICK_SLACK_MS) return "next-tick";
  const payload = JSON.stringify(run.payload ?? {});
  const owner = `retry:${run.job}:${createHash("sha256").update(payload).digest("hex").slice(0, 12)}`;
  const pending = await find(deps, owner, "scheduled");
  const early = pending.some((m) => m.not_before && Date.parse(m.not_before) > now.getTime() && Date.parse(m.not_before) <= at.getTime() + TICK_SLACK_MS);
  if (early) return "already-scheduled";
  await schedule(deps, { owner, job: run.job, payload: run.payload ?? {}, notBefore: at, deduplicationId: `${owner}:${Math.ceil(at.getTime() / 60_000)}` });
  return "scheduled";
}
