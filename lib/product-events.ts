import type { PostHog } from "posthog-node";
import type { Env } from "./env";
import { describeError } from "./errors";
import type { JobStats } from "./jobs/define";
import type { Logger } from "./log";

export interface RunCompleted {
  job: string;
  runId: string;
  trigger: string;
  status: "succeeded" | "failed";
  stats: JobStats | null;
  durationMs: number | undefined;
  error?: { name: string; message: string } | null;
}

/** Bounds the one request per run: product analytics must never hold a run's answer for long. */
const REQUEST_TIMEOUT_MS = 3_000;

/**
 * `job_completed` to PostHog (the official Node SDK), once per finished run, when POSTHOG_KEY is
 * set. Sent before the run's answer, with captureImmediate: a serverless function may be frozen
 * right after it answers, and a queued event would be lost. Never throws: a run's outcome does not
 * depend on its analytics. No person profile is made: the actor is a job, not a user.
 */
export async function jobCompleted(env: Pick<Env, "posthog">, e: RunCompleted, log: Logger): Promise<void> {
  if (!env.posthog) return;
  let client: PostHog | undefined;
  try {
    // Loaded only where it is configured: most deployments and every CLI command never need it.
    const { PostHog: Client } = await import("posthog-node");
    client = new Client(env.posthog.key, { host: env.posthog.host, flushAt: 1, flushInterval: 0, fetchRetryCount: 0, requestTimeout: REQUEST_TIMEOUT_MS, disableGeoip: true });
    await client.captureImmediate({
      distinctId: `job:${e.job}`,
      event: "job_completed",
      properties: {
        job: e.job,
        run_id: e.runId,
        trigger: e.trigger,
        status: e.status,
        stats: e.stats ?? {},
        duration_ms: e.durationMs,
        ...(e.error ? { error: e.error.name } : {}),
        $process_person_profile: false,
      },
    });
  } catch (err) {
    log.warn("product_events.failed", { event: "job_completed", error: describeError(err) });
  } finally {
    await client?.shutdown(REQUEST_TIMEOUT_MS).catch(() => undefined);
  }
}
