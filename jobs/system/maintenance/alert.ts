import { watchdogAlert } from "@/emails/watchdog-alert";
import { ConfigError } from "@/lib/errors";
import type { JobContext } from "@/lib/jobs/define";
import type { WatchdogFindings } from "@/lib/jobs/watchdog";

/**
 * One alert a day at most per channel: email to ALERT_EMAIL and, if set, a Slack post, each
 * claimed in SQL under alert:keep-alive:<date>:<channel> and marked sent after, so a repeat run of
 * the same day sends nothing new (and a channel that failed is tried again by the next run).
 */
export async function sendAlert(ctx: JobContext<unknown>, findings: WatchdogFindings, other: string[], leaseMs: number): Promise<{ status: string; error?: unknown }> {
  const { db, env, providers, now, run, signal } = ctx;
  const message = watchdogAlert(findings, other);
  const day = now.toISOString().slice(0, 10);
  const slack = providers.slack();
  const channels: { name: string; send: (key: string) => Promise<void> }[] = [];
  if (env.alertEmails.length) {
    channels.push({ name: "email", send: (key) => providers.email().send({ to: env.alertEmails, ...message, idempotencyKey: key, tags: { kind: "watchdog" } }, signal).then(() => {}) });
  }
  if (slack) channels.push({ name: "slack", send: (key) => slack.post({ text: `*${message.subject}*\n${message.text}`, key }, signal) });
  if (!channels.length) {
    const error = new ConfigError("ALERT_EMAIL is not set (nor SLACK_WEBHOOK_URL): the watchdog found problems and has no one to tell. Set ALERT_EMAIL to the on-call address.");
    return { status: `not sent: ${error.message}`, error };
  }
  const outcomes: string[] = [];
  let firstError: unknown;
  for (const ch of channels) {
    const key = `alert:keep-alive:${day}:${ch.name}`;
    const claim = await db.rpc<{ claimed: boolean }>("notification_claim_key", { p_key: key, p_kind: "alert", p_run_id: run.id, p_now: now, p_lease_ms: leaseMs });
    if (!claim.claimed) {
      outcomes.push(`${ch.name}: already sent today`);
      continue;
    }
    try {
      await ch.send(key);
      await db.rpc("notification_claims_finish", { p_run_id: run.id, p_now: now, p_results: [{ key, ok: true }] });
      outcomes.push(`${ch.name}: sent`);
    } catch (err) {
      await db.rpc("notification_claims_finish", { p_run_id: run.id, p_now: now, p_results: [{ key, ok: false, error: (err as Error).message }] });
      outcomes.push(`${ch.name}: failed (${(err as Error).message})`);
      firstError ??= err;
    }
  }
  return { status: outcomes.join("; "), error: firstError };
}
