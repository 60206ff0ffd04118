import { verifySignature } from "../auth/signature";
import { describeError } from "../errors";
import { pauseOnFailure } from "../dead-letters/pause";
import { FailureCallback, recordDeadLetter } from "../dead-letters/record";
import type { RunDeps } from "../jobs/run";
import { refuseMisconfigured } from "./misconfigured";
import { json, nonRetryable } from "./respond";

/**
 * `POST /api/jobs/failed`: QStash's failure callback. Stores a dead letter and alerts once
 * (lib/dead-letters/record.ts); answers 500 while a channel's alert has not gone out, so QStash
 * retries the callback. Only QStash-signed requests get in.
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
    let parsed: FailureCallback;
    try {
      parsed = FailureCallback.parse(JSON.parse(raw));
    } catch (err) {
      return nonRetryable({ error: `invalid failure callback body: ${(err as Error).message}` });
    }
    try {
      const r = await recordDeadLetter(deps, parsed, { via: "callback", jti: check.jti, jtiExpiresAt: check.expiresAt });
      if (r.decision === "replay") return json(401, { error: "invalid signature: this signature was already used (replayed request)" });
      // A scheduled message's first record only: a redelivered callback is not another failure.
      if (r.new && r.job && parsed.scheduleId) await pauseOnFailure(deps, r.job).catch((err: unknown) => deps.log.error("schedule.pause_on_failure.failed", { job: r.job, error: describeError(err) }));
      // QStash redelivers a callback answered with an error: the redelivery sends what did not go out.
      if (r.alertPending) {
        const channels = Object.entries(r.alert?.channels ?? {}).map(([ch, outcome]) => `${ch}: ${outcome}`).join("; ") || "the alert could not be decided (see the log)";
        return json(500, { error: `dead letter recorded, but its alert did not reach every channel (${channels}). QStash will retry the callback.`, deadLetterId: r.deadLetterId, job: r.job });
      }
      return json(200, { status: "recorded", deadLetterId: r.deadLetterId, job: r.job });
    } catch (err) {
      deps.log.error("job.dead_letter.record_failed", { messageId: parsed.sourceMessageId, error: describeError(err) });
      return json(500, { error: `could not record the dead letter: ${(err as Error).message}. QStash will retry the callback.` });
    }
  }
  return { POST };
}
