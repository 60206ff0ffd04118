import { alertPaused, safely } from "../alerts/incidents";
import { describeError } from "../errors";
import type { RunDeps } from "../jobs/run-types";
import { operatorClient } from "../qstash/client";
import { resumeHint, setJobPaused } from "../qstash/pause";

/**
 * Pause on failure: a schedule with `pauseAfterFailures: n` is paused in QStash once n of its
 * scheduled messages in a row were dead-lettered (no success between), so a job that fails every
 * tick stops filling the DLQ; one alert says so and how to resume. The streak starts again after
 * a success or this pause, and the ledger's key on the streak makes two callbacks pause once.
 */
export async function pauseOnFailure(deps: RunDeps, job: string): Promise<{ paused: string[]; failures: number } | undefined> {
  const threshold = deps.registry.scheduleOf(job)?.pauseAfterFailures;
  if (!threshold) return undefined;
  const streak = await deps.db.rpc<{ failures: number; since: string; pause: boolean }>("schedule_failure_streak", { p_job: job, p_threshold: threshold });
  if (!streak.pause) return { paused: [], failures: streak.failures };
  let paused: string[] = [];
  let error: string | undefined;
  try {
    paused = await setJobPaused(operatorClient(deps.env), deps.env, job, true);
  } catch (err) {
    error = describeError(err).message;
  }
  const what = error
    ? `failed ${streak.failures} scheduled runs in a row (dead letters), and pausing its schedule in QStash failed (${error}): pause it by hand (pnpm qstash:pause ${job}) or fix the job`
    : `failed ${streak.failures} scheduled runs in a row (dead letters), so its schedule (${paused.join(", ") || "none found in QStash"}) is paused in QStash (pauseAfterFailures: ${threshold}); fix the cause, then ${resumeHint(deps.env, job)}`;
  deps.log.error("schedule.paused_on_failure", { job, failures: streak.failures, paused, error });
  await safely(deps.log, "paused", job, () => alertPaused(deps, job, streak.since, what));
  return { paused, failures: streak.failures };
}
