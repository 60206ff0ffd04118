import { randomUUID } from "node:crypto";
import type { Db } from "../db/types";
import type { Env } from "../env";
import { describeError } from "../errors";
import type { Logger } from "../log";
import { outcomeOf } from "../jobs/effects";
import { createProviders, type Providers } from "../providers";
import { alertChannels, deliveredAs, type AlertMessage } from "./channels";
import { failureMessage, pausedMessage, recoveryMessage } from "./messages";

export interface AlertDeps {
  env: Env;
  db: Db;
  log: Logger;
  providers?: Providers;
}

export interface AlertOutcome {
  decision: "alert" | "quiet" | "recovered" | "none";
  key?: string;
  /** Per channel: sent, recorded in the outbox, already claimed, or failed (why). */
  channels: Record<string, string>;
  /** A channel's send failed in a way another attempt may fix: the caller should have it tried again. */
  retry: boolean;
}

/** The `job` of alert sends in the effects table (`subject`: the job alerted about). */
export const ALERT_EFFECTS = "alerts";
/** How long a claim on one channel's send holds before another instance may take it over. */
const SEND_LEASE_MS = 2 * 60_000;

const consoleUrl = (env: Pick<Env, "appUrl">, job: string) => `${env.appUrl}/ops/jobs/${encodeURIComponent(job)}`;

interface Noted {
  decision: "alert" | "quiet";
  key: string | null;
  alerts?: number;
  quiet_since_last?: number;
  opened_at?: string;
  repeat: boolean;
}

/**
 * One failure of a job (`reason` names it: the dead letter's message, the missed slot), noted in
 * the job's incident. The first failure of an incident alerts; more within ALERT_COOLDOWN_MINUTES
 * are counted; past it one more alert. The same failure noted twice (a redelivered callback, two
 * instances) gets the first decision again, and each channel's send is claimed by key, so it goes
 * out once.
 */
export async function alertFailure(deps: AlertDeps, f: { job: string; reason: string; what: string }, now = new Date()): Promise<AlertOutcome> {
  const noted = await deps.db.rpc<Noted>("alert_note", { p_job: f.job, p_reason: f.reason, p_now: now, p_cooldown_ms: deps.env.alerts.cooldownMs });
  if (noted.decision !== "alert" || !noted.key) return { decision: "quiet", channels: {}, retry: false };
  // A repeat lost the first call's numbers; it only finishes sends that did not go out.
  const message = failureMessage({ job: f.job, what: f.what, console: consoleUrl(deps.env, f.job) }, { alerts: noted.alerts ?? 1, quiet_since_last: noted.quiet_since_last ?? 0, opened_at: noted.opened_at ?? now.toISOString() });
  return { decision: "alert", key: noted.key, ...(await deliver(deps, f.job, noted.key, message, now)) };
}

/** Slots noted per job per call: a job every minute that missed a whole day is one incident, not 1,440 calls. */
export const MISSED_SLOTS_NOTED = 50;

/**
 * The slot sweeps' missed slots (jobs/system/maintenance/slots.ts), each noted once
 * (`missed:<slot>`), grouped into the job's incident: the first alerts, the rest wait for the
 * cooldown. `what` says what became of the slot (caught up, covered, missed).
 */
export async function alertMissedSlots(
  deps: AlertDeps,
  missed: readonly { job: string; slots: readonly Date[]; what?: (slot: Date) => string }[],
  now = new Date(),
): Promise<AlertOutcome[]> {
  const out: AlertOutcome[] = [];
  for (const m of missed) {
    const slots = [...m.slots].sort((a, b) => a.getTime() - b.getTime()).slice(-MISSED_SLOTS_NOTED);
    for (const slot of slots) {
      const at = slot.toISOString();
      out.push(await alertFailure(deps, { job: m.job, reason: `missed:${at}`, what: m.what?.(slot) ?? `missed its ${at} run (no delivery reached the app)` }, now));
    }
  }
  return out;
}

/**
 * A schedule paused on failure: noted in the job's incident like any failure, and always sent,
 * whatever the cooldown, because nothing more will come from the job until a person resumes it.
 */
export async function alertPaused(deps: AlertDeps, job: string, streak: string, what: string, now = new Date()): Promise<AlertOutcome> {
  const reason = `paused:${streak}`;
  await deps.db.rpc<Noted>("alert_note", { p_job: job, p_reason: reason, p_now: now, p_cooldown_ms: deps.env.alerts.cooldownMs });
  const key = `alert:${job}:${reason}`;
  return { decision: "alert", key, ...(await deliver(deps, job, key, pausedMessage({ job, what, console: consoleUrl(deps.env, job) }), now)) };
}

/** What job_run_close (or alert_recover) answers when a success closed the job's open incident. */
export interface Recovered {
  decision: "recovered";
  key: string;
  opened_at: string;
  failures: number;
  alerts: number;
}

/**
 * The job succeeded and its close ended the job's open incident (job_run_close decides it, in the
 * same call: exactly one close wins an incident): its one recovery notice.
 */
export async function alertRecovery(deps: AlertDeps, job: string, r: Recovered, now = new Date()): Promise<AlertOutcome> {
  return { decision: "recovered", key: r.key, ...(await deliver(deps, job, r.key, recoveryMessage(job, r, consoleUrl(deps.env, job)), now)) };
}

/** Never throws: the caller (a failure callback, a run that just succeeded) must not fail for an alert. */
export async function safely(log: Logger, what: string, job: string, alert: () => Promise<AlertOutcome>): Promise<AlertOutcome | undefined> {
  try {
    const out = await alert();
    if (out.decision !== "none") log[out.retry ? "warn" : "info"]("alert.outcome", { what, job, decision: out.decision, key: out.key, channels: out.channels });
    return out;
  } catch (err) {
    log.error("alert.failed", { what, job, error: describeError(err) });
    return undefined;
  }
}

async function deliver(deps: AlertDeps, job: string, key: string, message: AlertMessage, now: Date): Promise<Pick<AlertOutcome, "channels" | "retry">> {
  const providers = deps.providers ?? createProviders(deps.env, deps.db);
  const channels = alertChannels(deps.env, providers, "incident");
  if (!channels.length) {
    deps.log.error("alert.no_channel", { job, key, subject: message.subject, hint: "set ALERT_EMAIL, SLACK_WEBHOOK_URL or NOVU_ALERT_WORKFLOW: this alert reached no one" });
    return { channels: {}, retry: false };
  }
  const out: Record<string, string> = {};
  let retry = false;
  for (const ch of channels) {
    const sendKey = `${key}:${ch.name}`;
    // Each channel's send is an effect (the one exactly-once mechanism), outside any run: the claim
    // has its own id, and its lease covers a sender that dies. A send that failed or whose outcome
    // is unknown is due again at once, and the caller says so (the failure callback answers 500),
    // so QStash's redelivery sends it; one that went out is never claimed again.
    const claimId = randomUUID();
    const claimed = await deps.db.rpc<{ key: string; reconcile: boolean }[]>("effects_claim", { p_job: ALERT_EFFECTS, p_run_id: claimId, p_now: now, p_lease_ms: SEND_LEASE_MS, p_items: [{ key: sendKey, subject: job }] });
    if (!claimed.length) {
      out[ch.name] = "already claimed";
      continue;
    }
    const settle = (outcome: "succeeded" | "failed" | "unknown" | "abandoned", error?: string) =>
      deps.db.rpc("effects_finish", { p_run_id: claimId, p_now: new Date(), p_results: [{ key: sendKey, outcome, error }], p_backoff_ms: 0 });
    // An earlier send's outcome is unknown (it timed out, or its sender died): alerts prefer a
    // possible duplicate to a lost alert, so it is sent again; a channel without dedupe may repeat.
    const again = claimed[0]!.reconcile;
    try {
      await ch.send(message, sendKey);
      await settle("succeeded");
      out[ch.name] = deliveredAs(providers, ch) + (again && !ch.dedupes ? " (again after an unknown outcome: may be a duplicate)" : "");
    } catch (err) {
      // A rejection (4xx) was not sent; a timeout or a 5xx may have been. A configuration error
      // (a deleted webhook, a rejected key) needs a person, not another attempt.
      const outcome = outcomeOf(err);
      await settle(outcome, (err as Error).message);
      if (outcome !== "abandoned") retry = true;
      out[ch.name] = `${outcome === "abandoned" ? "abandoned" : outcome === "unknown" ? "unknown, to be sent again" : "failed, to be sent again"} (${(err as Error).message})`;
    }
  }
  return { channels: out, retry };
}
