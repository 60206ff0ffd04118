import type { Client } from "@upstash/qstash";
import type { AlertDeps } from "../alerts/incidents";
import { describeError } from "../errors";
import { isOurDeadLetter, jobOfUrl, listDeadLetters, type DeadLetter } from "../qstash/dlq";
import { recordDeadLetter, type FailureCallback } from "./record";

export interface Reconciled {
  /** This deployment's messages in QStash's DLQ. */
  inDlq: number;
  /** Of those, dead letters the app had no row for: recorded and alerted now. */
  recorded: number;
  /** Of those, dead letters whose alert had a channel still to send: sent now (or tried). */
  alertsRetried: number;
  /** Alerts that still did not reach every channel; the next reconciliation tries them again. */
  alertsPending: number;
  errors: string[];
}

const b64 = (s: string | undefined) => (s === undefined ? undefined : Buffer.from(s).toString("base64"));

/** A DLQ message as the failure callback would have described it. */
export function callbackOf(m: DeadLetter): FailureCallback {
  const nonRetryable = m.responseStatus === 489;
  return {
    sourceMessageId: m.messageId,
    url: m.url,
    method: m.method ?? "POST",
    status: m.responseStatus,
    body: m.responseBodyBase64 ?? b64(m.responseBody),
    sourceBody: m.bodyBase64 ?? b64(m.body),
    // The DLQ keeps no retry count: a message there used every retry unless refused with 489.
    ...(m.maxRetries !== undefined && !nonRetryable && { retried: m.maxRetries }),
    ...(m.maxRetries !== undefined && { maxRetries: m.maxRetries }),
    dlqId: m.dlqId,
    ...(m.scheduleId !== undefined && { scheduleId: m.scheduleId }),
    createdAt: m.createdAt,
  };
}

/**
 * The app's dead letters against QStash's DLQ: every message of this deployment's jobs that QStash
 * gave up on gets its dead-letter row and its one alert, even when its failure callback never got
 * through (the database was down for each attempt) or its alert did not reach every channel. What
 * is settled already is found in one call and left alone, so a second pass sends nothing.
 * `listed`: the DLQ messages to reconcile when the caller has listed them already (the console).
 */
export async function reconcileDeadLetters(deps: AlertDeps, client: Client, now = new Date(), listed?: readonly DeadLetter[]): Promise<Reconciled> {
  // Failure callbacks that QStash gave up on are in the DLQ too; the message they were about is
  // what counts (it is there as well), so they are left for a person to delete.
  const ours = (listed ?? (await listDeadLetters(client))).filter((m) => isOurDeadLetter(m, deps.env.appUrl) && jobOfUrl(m.url));
  const out: Reconciled = { inDlq: ours.length, recorded: 0, alertsRetried: 0, alertsPending: 0, errors: [] };
  if (!ours.length) return out;
  const unsettled = new Set(await deps.db.rpc<string[]>("dead_letters_unsettled", { p_message_ids: ours.map((m) => m.messageId), p_now: now }));
  for (const m of ours) {
    if (!unsettled.has(m.messageId)) continue;
    try {
      const r = await recordDeadLetter(deps, callbackOf(m), { via: "reconcile" });
      if (r.decision !== "recorded") continue;
      if (r.new) out.recorded++;
      else out.alertsRetried++;
      if (r.alertPending) out.alertsPending++;
    } catch (err) {
      out.errors.push(`${m.dlqId} (${m.url}): ${describeError(err).message}`);
    }
    // Duplicate DLQ entries of one message (a replayed message that failed again) are one dead letter.
    unsettled.delete(m.messageId);
  }
  if (out.recorded || out.alertsRetried) deps.log.warn("dead_letters.reconciled", { ...out });
  return out;
}
