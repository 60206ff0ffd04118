import { watchdogAlert } from "@/lib/emails/watchdog-alert";
import { alertChannels, deliveredAs } from "@/lib/alerts/channels";
import { ConfigError } from "@/lib/errors";
import { errorText, stopsBatch } from "@/lib/jobs/batch";
import type { JobContext } from "@/lib/jobs/define";
import { outcomeOf } from "@/lib/jobs/effects";
import type { WatchdogFindings } from "@/lib/jobs/watchdog";

/**
 * One alert a day at most per channel (lib/alerts/channels.ts: email to ALERT_EMAIL, Slack, Novu), each an
 * effect keyed alert:keep-alive:<date>:<channel>, claimed before sending and settled after, so a
 * repeat run of the same day sends nothing new (and a channel that failed is tried again by a
 * later run once its backoff has passed).
 */
export async function sendAlert(ctx: JobContext<unknown>, findings: WatchdogFindings, other: string[]): Promise<{ status: string; error?: unknown }> {
  const { db, env, providers, now, run, signal } = ctx;
  const message = watchdogAlert(findings, other);
  const day = now.toISOString().slice(0, 10);
  const channels = alertChannels(env, providers, "watchdog", signal);
  if (!channels.length) {
    const error = new ConfigError("ALERT_EMAIL is not set (nor SLACK_WEBHOOK_URL): the watchdog found problems and has no one to tell. Set ALERT_EMAIL to the on-call address.");
    return { status: `not sent: ${error.message}`, error };
  }
  const outcomes: string[] = [];
  let firstError: unknown;
  for (const ch of channels) {
    const key = `alert:keep-alive:${day}:${ch.name}`;
    const claimed = await db.rpc<unknown[]>("effects_claim", { p_job: run.job, p_run_id: run.id, p_now: now, p_lease_ms: LEASE_MS, p_items: [{ key }] });
    if (!claimed.length) {
      // Sent by an earlier run of the day, in flight in another, or failed and waiting out its backoff.
      outcomes.push(`${ch.name}: already claimed today`);
      continue;
    }
    try {
      await ch.send(message, key);
      await settle(ctx, { key, outcome: "succeeded" });
      // Locally the stand-in records to the outbox: say so, not "sent".
      outcomes.push(`${ch.name}: ${deliveredAs(providers, ch)}`);
    } catch (err) {
      // A rate limit or a missing setting means nothing was sent: the claim goes back as if never taken.
      await settle(ctx, stopsBatch(err) ? { key, outcome: "released" } : { key, outcome: outcomeOf(err), error: errorText(err) });
      outcomes.push(`${ch.name}: failed (${(err as Error).message})`);
      firstError ??= err;
    }
  }
  return { status: outcomes.join("; "), error: firstError };
}

/** As long as a claim of a live run lasts: keep-alive's timeout plus the settle grace (effects.ts). */
const LEASE_MS = 15 * 60_000;

function settle(ctx: JobContext<unknown>, row: { key: string; outcome: string; error?: string }) {
  return ctx.db.rpc("effects_finish", { p_run_id: ctx.run.id, p_now: ctx.now, p_results: [row] });
}
