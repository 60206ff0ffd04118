import { calendarReconnectEmail } from "../emails/calendar-reconnect";
import type { JobContext } from "@/lib/jobs/define";
import { runEffects } from "@/lib/jobs/effects";

interface Notice {
  connection_id: string;
  revoked_at: string;
  /** The revocation's epoch seconds: one notice per revocation. */
  revoked: number;
  to: { id: string; name: string; email: string; time_zone: string };
}

/**
 * Tells each expert whose Google grant was revoked to reconnect (email + in-app), once per
 * revocation. Apart from the refresh, so a notice that failed to send is tried again by a later
 * keep-alive although the token is not refreshed again.
 */
export async function sendReconsentNotices(ctx: JobContext<unknown>) {
  const { db, providers, now, signal } = ctx;
  const counts = await runEffects<Notice, { email: string }>(ctx, {
    due: ({ after, limit }) =>
      db.rpc<Notice[]>("reconsent_notices_due", { p_now: now, p_after_revoked_at: after?.revoked_at, p_after_id: after?.connection_id, p_limit: limit }),
    key: (n) => `reconsent:${n.connection_id}:${n.revoked}`,
    onUnknown: "retry-with-key", // Resend and Novu keep the first request per key
    subject: (n) => n.connection_id,
    work: async (n, effect) => {
      const message = calendarReconnectEmail({ name: n.to.name });
      const sent = await providers.email().send({ to: n.to.email, ...message, idempotencyKey: effect.key, tags: { kind: "calendar-reconnect" } }, signal);
      await providers.notify().trigger(
        { workflowId: "calendar-reconnect", subscriber: { id: n.to.id, email: n.to.email, name: n.to.name }, payload: { connectionId: n.connection_id, subject: message.subject }, transactionId: effect.key },
        signal,
      );
      return { email: sent.id };
    },
    concurrency: 4,
  });
  return { notified: counts.succeeded, noticesFailed: counts.failed + counts.unknown + counts.abandoned };
}
