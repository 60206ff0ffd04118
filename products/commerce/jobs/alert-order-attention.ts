import { orderAttentionEmail } from "../emails/order-attention";
import { adminRecipients } from "../lib/admin";
import { orderAttentionKey, orderAttentionPayload, ORDER_ATTENTION_JOB } from "../lib/order-attention";
import type { OrderView } from "../lib/order-email";
import { NonRetryableError } from "@/lib/errors";
import { defineJob } from "@/lib/jobs/define";
import { runEffects } from "@/lib/jobs/effects";

/**
 * Published when a payment confirmed an order whose stock was gone (commerce_confirm_payment marks
 * it needs_attention): one email to the admins, and Slack when configured, as the effect
 * `order:<id>:needs-attention`, however often it is published.
 */
export default defineJob({
  name: ORDER_ATTENTION_JOB,
  description: "A paid order short of stock (needs_attention) -> one admin alert (email, Slack when configured)",
  payload: orderAttentionPayload,
  timeoutMs: 60_000,
  async handler(ctx) {
    const { db, env, providers, payload, signal } = ctx;
    const order = await db.rpc<OrderView | null>("commerce_order_email_due", { p_order_id: payload.orderId, p_status: "needs_attention" });
    if (!order) throw new NonRetryableError(`order ${payload.orderId} does not exist`);
    if (!order.reached) return { sent: 0, notNeeded: 1 };
    const counts = await runEffects<OrderView, { email: string | null; slack: boolean }>(ctx, {
      due: ({ after }) => Promise.resolve(after ? [] : [order]),
      key: (o) => orderAttentionKey(o.order_id),
      onUnknown: "retry", // Slack has no idempotency key: a second alert beats a lost one
      subject: (o) => o.order_id,
      work: async (o, effect) => {
        const message = orderAttentionEmail(o);
        const slack = providers.slack();
        const to = env.alertEmails.length || !slack ? adminRecipients(env, "the alert about an order paid without its stock") : [];
        const sent = to.length ? await providers.email().send({ to, ...message, idempotencyKey: effect.key, tags: { kind: "order-attention" } }, signal) : undefined;
        if (slack) await slack.post({ text: `*${message.subject}*\n${message.text}`, key: effect.key }, signal);
        return { email: sent?.id ?? null, slack: Boolean(slack) };
      },
    });
    return { sent: counts.succeeded, failed: counts.failed + counts.unknown + counts.abandoned, skipped: counts.skipped };
  },
});
