import { z } from "zod";
import { alertFailure, safely } from "../alerts/incidents";
import { verifySignature } from "../auth/signature";
import { describeError } from "../errors";
import type { RunDeps } from "../jobs/run";
import { refuseMisconfigured } from "./misconfigured";
import { json, nonRetryable } from "./respond";

/** The body QStash POSTs to a failure callback once a message's retries are exhausted. */
const FailureCallback = z.looseObject({
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

const JOB_IN_URL = /\/api\/(?:cron|jobs)\/([a-z0-9-]+)(?:[?#]|$)/;
const text = (b64: string | undefined) => (b64 === undefined ? null : Buffer.from(b64, "base64").toString("utf8"));

/**
 * `POST /api/jobs/failed`: QStash's failure callback. Stores a dead letter (once per message, however
 * often the callback is redelivered) and alerts once per dead letter, grouped per job per incident
 * (lib/alerts). Only QStash-signed requests get in.
 */
export function failureRoute(getDeps: () => Promise<RunDeps>) {
  async function POST(req: Request): Promise<Response> {
    let deps: RunDeps;
    try {
      deps = await getDeps();
    } catch (err) {
      return refuseMisconfigured(err);
    }
    const raw = await req.text();
    const signature = req.headers.get("upstash-signature");
    if (signature === null) return json(401, { error: "missing Upstash-Signature: the failure callback accepts only QStash-signed requests" });
    const check = await verifySignature(deps.env.qstash, signature, raw, `${deps.env.appUrl}/api/jobs/failed`);
    if (!check.ok) {
      deps.log.warn("auth.rejected", { route: "failed", reason: check.reason });
      return json(401, { error: check.reason });
    }
    let parsed: z.infer<typeof FailureCallback>;
    try {
      parsed = FailureCallback.parse(JSON.parse(raw));
    } catch (err) {
      return nonRetryable({ error: `invalid failure callback body: ${(err as Error).message}` });
    }
    const job = JOB_IN_URL.exec(parsed.url)?.[1] ?? null;
    try {
      const r = await deps.db.rpc<{ decision: "replay" } | { decision: "recorded"; dead_letter_id: string; new: boolean }>("dead_letter_record", {
        p_callback: parsed,
        p_job: job,
        p_response_body: text(parsed.body),
        p_source_body: text(parsed.sourceBody),
        p_jti: check.jti,
        p_jti_expires_at: check.expiresAt,
      });
      if (r.decision === "replay") return json(401, { error: "invalid signature: this signature was already used (replayed request)" });
      if (r.new) deps.log.error("job.dead_letter", { job, messageId: parsed.sourceMessageId, status: parsed.status, dlqId: parsed.dlqId, retried: parsed.retried });
      // Redelivered callbacks too: the incident gives the same failure the same answer, and a send
      // that failed (or never happened, the instance died) is finished here; one sent is not repeated.
      if (job) {
        const what = `dead-lettered after ${parsed.retried ?? 0} retr${parsed.retried === 1 ? "y" : "ies"}: HTTP ${parsed.status ?? "?"} ${(text(parsed.body) ?? "").slice(0, 300)}`;
        await safely(deps.log, "dead_letter", job, () => alertFailure(deps, { job, reason: `dead-letter:${parsed.sourceMessageId}`, what }));
      }
      return json(200, { status: "recorded", deadLetterId: r.dead_letter_id, job });
    } catch (err) {
      deps.log.error("job.dead_letter.record_failed", { job, error: describeError(err) });
      return json(500, { error: `could not record the dead letter: ${(err as Error).message}. QStash will retry the callback.` });
    }
  }
  return { POST };
}
