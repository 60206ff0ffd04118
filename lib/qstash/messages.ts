import { QstashError, type Client } from "@upstash/qstash";
import { NonRetryableError } from "../errors";
import type { JobMessage, MessageDeps } from "./message-types";
import { park, publishHorizon } from "./parked";
import { publishJob, qstashClient, type PublishOptions } from "./publish";

export type { JobMessage, MessageDeps } from "./message-types";
export { publishParked } from "./parked";

/**
 * One-time messages that can be taken back: each published id is recorded with its owner, what
 * the message is for (`form:<id>:deadline`), so the owner's messages can be cancelled by name.
 * A cancel races with delivery (a message due now may already be on its way): the job must still
 * check at delivery whether its work is wanted.
 *
 * A message due further out than QStash accepts (QSTASH_MAX_DELAY) is parked in job_messages
 * instead and published once within range (lib/qstash/parked.ts); its id is then ours
 * (`parked_<uuid>`), and cancel and reschedule work on it the same.
 */

/** When to deliver: at a time, or after a delay in seconds. */
export type When = { notBefore: Date; delaySeconds?: undefined } | { delaySeconds: number; notBefore?: undefined };

export type ScheduleRequest = When & {
  owner: string;
  job: string;
  payload: unknown;
  /**
   * QStash keeps one message per id for 10 minutes, cancelled ones included: a reschedule within
   * that window needs a new id, or its publish answers the cancelled message (schedule throws then).
   */
  deduplicationId?: string;
  /** Throttles the owner's kind of work (a campaign's executions) across all its messages. */
  flowControl?: PublishOptions["flowControl"];
  retries?: PublishOptions["retries"];
  retryDelay?: PublishOptions["retryDelay"];
};

export async function schedule(deps: MessageDeps, req: ScheduleRequest): Promise<{ messageId: string; deduplicated: boolean }> {
  const now = deps.clock?.() ?? new Date();
  const notBefore = req.notBefore ?? new Date(now.getTime() + req.delaySeconds! * 1000);
  if (notBefore > publishHorizon(deps.env, now)) {
    return park(deps, { owner: req.owner, job: req.job, payload: req.payload, notBefore, deduplicationId: req.deduplicationId, flowControl: req.flowControl, retries: req.retries, retryDelay: req.retryDelay }, now);
  }
  const opts = { notBefore: req.notBefore, delaySeconds: req.delaySeconds, deduplicationId: req.deduplicationId, flowControl: req.flowControl, retries: req.retries, retryDelay: req.retryDelay };
  const published = await publishJob(deps, req.job, req.payload, opts);
  // Published first, recorded second: a message whose record failed still runs, and its job's
  // own check at delivery decides; a record without a message could never be cancelled anyway.
  const row = await deps.db.rpc<JobMessage>("job_messages_record", {
    p_owner: req.owner,
    p_job: req.job,
    p_message_id: published.messageId,
    p_not_before: notBefore,
    p_now: now,
  });
  if (row.status === "cancelled") {
    throw new NonRetryableError(
      `QStash deduplicated the message for ${req.owner} into ${published.messageId}, which was cancelled: nothing is scheduled. Use another deduplicationId (QStash remembers one for 10 minutes).`,
    );
  }
  return published;
}

/** The owner's messages, oldest first (only those in `status` when given). */
export function find(deps: Pick<MessageDeps, "db">, owner: string, status?: JobMessage["status"]): Promise<JobMessage[]> {
  return deps.db.rpc<JobMessage[]>("job_messages_find", { p_owner: owner, p_status: status ?? null });
}

/**
 * Cancels every message of the owner still scheduled. A parked one is only marked cancelled (QStash
 * never had it; one being published right now is taken back by its sweeper). One that QStash no
 * longer holds (404: delivered, or dead-lettered) is recorded as delivered. What was answered is
 * recorded even when a later cancel fails, and the error is thrown.
 */
export async function cancel(deps: MessageDeps, owner: string): Promise<{ cancelled: number; delivered: number }> {
  // Parked first: one a sweeper publishes after this is cancelled by the sweeper, one it published
  // before is scheduled and found below.
  const parked = await deps.db.rpc<number>("job_messages_cancel_parked", { p_owner: owner, p_now: deps.clock?.() ?? new Date() });
  const pending = await find(deps, owner, "scheduled");
  if (!pending.length) return { cancelled: parked, delivered: 0 };
  const client = deps.client ?? qstashClient(deps.env);
  const cancelled: string[] = [];
  const gone: string[] = [];
  try {
    for (const m of pending) {
      // A published parked message is known to QStash by its published id, to the caller by ours.
      if (await cancelOne(client, m.published_id ?? m.message_id)) cancelled.push(m.message_id);
      else gone.push(m.message_id);
    }
  } finally {
    if (cancelled.length || gone.length) await deps.db.rpc("job_messages_cancel", { p_owner: owner, p_cancelled: cancelled, p_gone: gone, p_now: deps.clock?.() ?? new Date() });
  }
  return { cancelled: parked + cancelled.length, delivered: gone.length };
}

/** True when QStash cancelled the message, false when it no longer held it. */
async function cancelOne(client: Client, messageId: string): Promise<boolean> {
  try {
    const res = await client.messages.cancel(messageId);
    return res.cancelled > 0;
  } catch (err) {
    if (err instanceof QstashError && err.status === 404) return false;
    throw err;
  }
}

/** Cancels the owner's scheduled messages, then schedules the new one. */
export async function reschedule(
  deps: MessageDeps,
  req: ScheduleRequest,
): Promise<{ messageId: string; deduplicated: boolean; cancelled: number; delivered: number }> {
  const before = await cancel(deps, req.owner);
  return { ...(await schedule(deps, req)), ...before };
}
