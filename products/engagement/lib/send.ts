import type { Email } from "@/lib/emails/layout";
import type { JobContext, JobStats } from "@/lib/jobs/define";
import { runEffectBatches } from "@/lib/jobs/effect-batches";
import { EMAIL_BATCH_MAX } from "@/lib/providers";
import { unsubscribeSecret, unsubscribeUrl } from "./unsubscribe-token";

export interface Target {
  learner_id: string;
  email: string;
}

/** Resend keeps an idempotency key 24 h; a lost batch is asked again only well within that. */
const REPLAY_WINDOW_MS = 20 * 3_600_000;

/**
 * One page of engagement emails (up to 100 learners), each exactly once in effect, in one Resend
 * batch request: the page's targets are read at delivery (opted out, practised or sent since the
 * plan: left out), claimed under their effect keys, sent as one batch whose idempotency key is
 * derived from the claims, and recorded in engagement_sends by the finish function in the same
 * transaction as the effects. A lost or partial answer leaves exactly the emails it says nothing
 * about unknown; the retry run (runAgainAt) sends that batch again, as it was, under its key, and
 * Resend answers with the first answer's ids without sending again (lib/jobs/effect-batches.ts).
 * A Resend 429 stops the run, so the delivery is answered 429 with the provider's Retry-After.
 */
export async function sendPage<T extends Target>(
  ctx: JobContext<unknown>,
  opts: {
    kind: string;
    /** How many recipients the message named. */
    named: number;
    targets: () => Promise<T[]>;
    /** A recorded batch's recipients by effect key, whatever they want now (engagement_recipients). */
    rebuild: (keys: string[]) => Promise<(T | undefined)[]>;
    key: (t: T) => string;
    render: (t: T, unsubscribeUrl: string) => Email;
  },
): Promise<JobStats> {
  // Fail closed before anything is claimed: an email without a working unsubscribe link is not sent.
  unsubscribeSecret(ctx.env);
  const email = ctx.providers.email();
  const body = (t: T) => ({ to: t.email, ...opts.render(t, unsubscribeUrl(ctx.env, t.learner_id)), tags: { kind: opts.kind } });
  let wanted = 0;
  const counts = await runEffectBatches<T, { email: string }>(ctx, {
    due: async ({ after }) => {
      if (after !== undefined) return [];
      const rows = await opts.targets();
      wanted = rows.length;
      return rows;
    },
    key: opts.key,
    subject: (t) => t.learner_id,
    send: async (targets, idempotencyKey) => {
      const answers = await email.sendBatch({ emails: targets.map(body), idempotencyKey }, ctx.signal);
      return answers.map((a) => (a && "id" in a ? { value: { email: a.id } } : a));
    },
    rebuild: opts.rebuild,
    // In question from before batches (one request per email, keyed by the effect): asked the same way.
    single: async (t, key) => ({ email: (await email.send({ ...body(t), idempotencyKey: key }, ctx.signal)).id }),
    replayWindowMs: REPLAY_WINDOW_MS,
    finish: "engagement_sends_finish",
    maxAttempts: 6,
    batchSize: EMAIL_BATCH_MAX,
  });
  return {
    sent: counts.succeeded,
    failed: counts.failed + counts.unknown + counts.abandoned,
    reconciled: counts.reconciled,
    // Held by another delivery of the same email, or done already.
    skipped: counts.skipped,
    // No longer wanted at delivery: unsubscribed, practised, the day is over, or sent.
    dropped: opts.named - wanted,
    requests: counts.requests,
  };
}

/** A recorded batch's recipients, in its order, through engagement_recipients; undefined for one who is gone. */
export async function recipientsOf<T>(ctx: JobContext<unknown>, keys: string[]): Promise<(T | undefined)[]> {
  const rows = await ctx.db.rpc<(T & { key: string })[] | null>("engagement_recipients", { p_keys: keys });
  const byKey = new Map((rows ?? []).map((r) => [r.key, r]));
  return keys.map((k) => byKey.get(k));
}
