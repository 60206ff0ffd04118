import { z } from "zod";
import { alertFailure, safely, type AlertDeps, type AlertOutcome } from "../alerts/incidents";
import { jobOfUrl } from "../qstash/dlq";

/** The body QStash POSTs to a failure callback once a message's retries are exhausted. */
export const FailureCallback = z.looseObject({
  sourceMessageId: z.string().min(1),
  url: z.string().min(1),
  status: z.number().int().optional(),
  body: z.string().optional(),
  sourceBody: z.string().optional(),
  retried: z.number().int().optional(),
  maxRetries: z.number().int().optional(),
  dlqId: z.string().optional(),
  scheduleId: z.string().optional(),
});
export type FailureCallback = z.infer<typeof FailureCallback>;

export type Recorded =
  | { decision: "replay" }
  | {
      decision: "recorded";
      deadLetterId: string;
      /** First seen now; false for a redelivered callback or a dead letter reconciled before. */
      new: boolean;
      job: string | null;
      /** The alert's outcome; undefined when there is no job to alert about, or the alert threw. */
      alert?: AlertOutcome;
      /** Some channel did not get the alert and another attempt may fix it: have this tried again. */
      alertPending: boolean;
    };

const text = (b64: string | undefined) => (b64 === undefined ? null : Buffer.from(b64, "base64").toString("utf8"));

/**
 * One dead letter, from QStash's failure callback or found in QStash's DLQ by the reconciliation:
 * stored once per message, however often it arrives, and alerted once per dead letter, grouped per
 * job per incident (lib/alerts). Noting the same dead letter again finishes the sends of its alert
 * that did not go out and repeats none that did, so calling this again is how an alert is retried.
 */
export async function recordDeadLetter(
  deps: AlertDeps,
  cb: FailureCallback,
  opts: { via: "callback" | "reconcile"; jti?: string; jtiExpiresAt?: Date },
): Promise<Recorded> {
  const job = jobOfUrl(cb.url) ?? null;
  const r = await deps.db.rpc<{ decision: "replay" } | { decision: "recorded"; dead_letter_id: string; new: boolean }>("dead_letter_record", {
    p_callback: cb,
    p_job: job,
    p_response_body: text(cb.body),
    p_source_body: text(cb.sourceBody),
    p_jti: opts.jti ?? null,
    p_jti_expires_at: opts.jtiExpiresAt ?? null,
  });
  if (r.decision === "replay") return r;
  if (r.new) deps.log.error("job.dead_letter", { job, via: opts.via, messageId: cb.sourceMessageId, status: cb.status, dlqId: cb.dlqId, retried: cb.retried });
  if (!job) return { decision: "recorded", deadLetterId: r.dead_letter_id, new: r.new, job, alertPending: false };
  const what = `dead-lettered after ${cb.retried ?? 0} retr${cb.retried === 1 ? "y" : "ies"}: HTTP ${cb.status ?? "?"} ${(text(cb.body) ?? "").slice(0, 300)}`;
  const alert = await safely(deps.log, "dead_letter", job, () => alertFailure(deps, { job, reason: `dead-letter:${cb.sourceMessageId}`, what }));
  return { decision: "recorded", deadLetterId: r.dead_letter_id, new: r.new, job, alert, alertPending: !alert || alert.retry };
}
