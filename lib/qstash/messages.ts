import { QstashError, type Client } from "@upstash/qstash";
import type { Db } from "../db/types";
import { NonRetryableError } from "../errors";
import { publishJob, qstashClient, type PublishDeps, type PublishOptions } from "./publish";

/**
 * One-time messages that can be taken back: each published id is recorded with its owner, what
 * the message is for (`form:<id>:deadline`), so the owner's messages can be cancelled by name.
 * A cancel races with delivery (a message due now may already be on its way): the job must still
 * check at delivery whether its work is wanted.
 */
export type MessageDeps = PublishDeps & { db: Db };

export interface JobMessage {
  message_id: string;
  owner: string;
  job: string;
  not_before: string | null;
  status: "scheduled" | "cancelled" | "delivered";
  created_at: string;
  cancelled_at: string | null;
}

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
};

export async function schedule(deps: MessageDeps, req: ScheduleRequest): Promise<{ messageId: string; deduplicated: boolean }> {
  const now = new Date();
  const notBefore = req.notBefore ?? new Date(now.getTime() + req.delaySeconds! * 1000);
  const published = await publishJob(deps, req.job, req.payload, { notBefore: req.notBefore, delaySeconds: req.delaySeconds, deduplicationId: req.deduplicationId, flowControl: req.flowControl });
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
 * Cancels every message of the owner still scheduled. One that QStash no longer holds (404:
 * delivered, or dead-lettered) is recorded as delivered. What was answered is recorded even when
 * a later cancel fails, and the error is thrown.
 */
export async function cancel(deps: MessageDeps, owner: string): Promise<{ cancelled: number; delivered: number }> {
  const pending = await find(deps, owner, "scheduled");
  if (!pending.length) return { cancelled: 0, delivered: 0 };
  const client = deps.client ?? qstashClient(deps.env);
  const cancelled: string[] = [];
  const gone: string[] = [];
  try {
    for (const m of pending) {
      if (await cancelOne(client, m.message_id)) cancelled.push(m.message_id);
      else gone.push(m.message_id);
    }
  } finally {
    if (cancelled.length || gone.length) await deps.db.rpc("job_messages_cancel", { p_owner: owner, p_cancelled: cancelled, p_gone: gone, p_now: new Date() });
  }
  return { cancelled: cancelled.length, delivered: gone.length };
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
