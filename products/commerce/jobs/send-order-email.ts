import { commerceEnv } from "../env";
import { orderUpdateEmail } from "../emails/order-update";
import { estimatedDelivery } from "../lib/delivery-estimate";
import { orderEmailKey, orderEmailPayload, ORDER_EMAIL_JOB, type OrderView } from "../lib/order-email";
import { NonRetryableError } from "@/lib/errors";
import { defineJob } from "@/lib/jobs/define";
import { runEffects } from "@/lib/jobs/effects";

/**
 * Published when an order is placed, confirmed, shipped, delivered, cancelled or its return
 * approved: an in-app notification and an email, together the effect `order:<id>:<status>`, so the
 * same event published twice (the webhook and the reconcile job, a retried publisher) reaches the
 * customer once. A message about a status the order never reached is acknowledged and sends nothing.
 */
export default defineJob({
  name: ORDER_EMAIL_JOB,
  description: "An order changed (placed, confirmed, shipped, delivered, cancelled, return approved) -> in-app notification + email",
  payload: orderEmailPayload,
  timeoutMs: 60_000,
  async handler(ctx) {
    const { db, env, providers, payload, now, signal } = ctx;
    const order = await db.rpc<OrderView | null>("commerce_order_email_due", { p_order_id: payload.orderId, p_status: payload.status });
    if (!order) throw new NonRetryableError(`order ${payload.orderId} does not exist`);
    if (!order.reached) return { sent: 0, notReached: 1 };
    const shop = commerceEnv.of(env);
    const counts = await runEffects<OrderView, { email: string }>(ctx, {
      due: ({ after }) => Promise.resolve(after ? [] : [order]),
      key: (o) => orderEmailKey(o.order_id, payload.status),
      onUnknown: "retry-with-key", // Resend keeps the first email per key
      subject: (o) => o.order_id,
      work: async (o, effect) => {
        const eta = payload.status === "confirmed" && o.confirmed_at ? estimatedDelivery(o.confirmed_at, shop.storeTimeZone, shop.deliveryBusinessDays) : undefined;
        const message = orderUpdateEmail({
          status: payload.status,
          name: o.user.name,
          orderNumber: o.order_number,
          total: o.total,
          currency: o.currency,
          trackingNumber: o.tracking_number,
          items: o.items,
          estimatedDelivery: eta?.setLocale("en-GB").toFormat("cccc, d LLLL yyyy"),
          needsAttention: o.needs_attention,
        });
        // The notification row is keyed by the effect too: a retry after a failed email adds no second one.
        await db.rpc("commerce_notification_add", {
          p_user_id: o.user.id,
          p_key: effect.key,
          p_kind: `order-${payload.status}`,
          p_title: message.subject,
          p_body: message.line,
          p_metadata: { orderId: o.order_id, orderNumber: o.order_number },
          p_now: now,
        });
        const sent = await providers.email().send({ to: o.user.email, subject: message.subject, text: message.text, html: message.html, idempotencyKey: effect.key, tags: { kind: `order-${payload.status}` } }, signal);
        return { email: sent.id };
      },
    });
    return { sent: counts.succeeded, failed: counts.failed + counts.unknown + counts.abandoned, skipped: counts.skipped };
  },
});
