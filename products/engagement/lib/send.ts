import type { Email } from "@/lib/emails/layout";
import type { JobContext, JobStats } from "@/lib/jobs/define";
import { runEffects } from "@/lib/jobs/effects";
import { unsubscribeSecret, unsubscribeUrl } from "./unsubscribe-token";

export interface Target {
  learner_id: string;
  email: string;
}

/**
 * One engagement email to one learner, exactly once in effect: the target is read at delivery
 * (opted out, practised or sent since the plan: nothing to do), claimed under its effect key,
 * sent through the email provider with that key as idempotency key, and recorded in
 * engagement_sends by the finish function in the same transaction as the effect.
 * A Resend 5xx leaves the effect unknown and asks for a retry run (runAgainAt); a 429 stops the
 * run, so the delivery is answered 429 with the provider's Retry-After.
 */
export async function sendOnce<T extends Target>(
  ctx: JobContext<unknown>,
  opts: { kind: string; target: () => Promise<T[]>; key: (t: T) => string; render: (t: T, unsubscribeUrl: string) => Email },
): Promise<JobStats> {
  // Fail closed before anything is claimed: an email without a working unsubscribe link is not sent.
  unsubscribeSecret(ctx.env);
  const email = ctx.providers.email();
  let wanted = 0;
  const counts = await runEffects<T, { email: string }>(ctx, {
    due: async ({ after }) => {
      if (after !== undefined) return [];
      const rows = await opts.target();
      wanted = rows.length;
      return rows;
    },
    key: opts.key,
    onUnknown: "retry-with-key", // Resend keeps the first email per key
    subject: (t) => t.learner_id,
    work: async (t, effect) => {
      const message = opts.render(t, unsubscribeUrl(ctx.env, t.learner_id));
      const sent = await email.send({ to: t.email, ...message, idempotencyKey: effect.key, tags: { kind: opts.kind } }, ctx.signal);
      return { email: sent.id };
    },
    finish: "engagement_sends_finish",
    maxAttempts: 6,
    pageSize: 1,
    concurrency: 1,
  });
  return {
    sent: counts.succeeded,
    failed: counts.failed + counts.unknown + counts.abandoned,
    // Held by another delivery of the same email, or done already.
    skipped: counts.skipped,
    // No longer wanted at delivery: unsubscribed, practised, the day is over, or sent.
    dropped: wanted === 0 ? 1 : 0,
  };
}
