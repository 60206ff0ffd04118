import { NonRetryableError } from "@/lib/errors";
import { cancel, schedule, type MessageDeps } from "@/lib/qstash/messages";

/** The one-time job that calls a patient at a form's deadline. */
export const CALL_JOB = "call-form";

/** Whose messages they are in job_messages: the form's deadline call. */
export const callOwner = (formId: string) => `form:${formId}:deadline`;

/** The deduplication id of a deadline call (also what check-forms publishes under). */
export const callDedupId = (formId: string, deadline: Date) => `call-form:${formId}:${deadline.toISOString()}`;

/**
 * Publishes the call at the deadline (notBefore), with the failure callback every job message
 * carries. A deadline moved away and back within QStash's 10-minute deduplication window maps
 * to the message cancelled on the way: that one case takes a fresh id.
 */
export async function scheduleCall(deps: MessageDeps, formId: string, deadline: Date): Promise<string> {
  const req = { owner: callOwner(formId), job: CALL_JOB, payload: { formId }, notBefore: deadline };
  try {
    return (await schedule(deps, { ...req, deduplicationId: callDedupId(formId, deadline) })).messageId;
  } catch (err) {
    if (!(err instanceof NonRetryableError) || !/was cancelled/.test(err.message)) throw err;
    return (await schedule(deps, { ...req, deduplicationId: `${callDedupId(formId, deadline)}:${Date.now()}` })).messageId;
  }
}

/** Cancels the pending call, then publishes it for the new deadline. */
export async function rescheduleCall(deps: MessageDeps, formId: string, deadline: Date): Promise<string> {
  await cancel(deps, callOwner(formId));
  return scheduleCall(deps, formId, deadline);
}

/** Cancels the pending call; the job checks the form at delivery anyway (a cancel races with it). */
export function cancelCall(deps: MessageDeps, formId: string) {
  return cancel(deps, callOwner(formId));
}
