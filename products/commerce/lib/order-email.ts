import { z } from "zod";
import { publishJob, type PublishDeps } from "@/lib/qstash/publish";

/** The job that tells a customer their order changed: an in-app notification and an email. */
export const ORDER_EMAIL_JOB = "send-order-email";

/**
 * What an order email is about, each with its trigger: placed (checkout, reported by the shop),
 * confirmed (the payment: Razorpay's webhook or reconcile-stale-payments), shipped, cancelled and
 * return_approved (reported by the shop), delivered (the courier's webhook, or the shop).
 */
export const ORDER_EMAIL_STATUSES = ["placed", "confirmed", "shipped", "delivered", "cancelled", "return_approved"] as const;
export type OrderEmailStatus = (typeof ORDER_EMAIL_STATUSES)[number];

export const orderEmailPayload = z.object({ orderId: z.uuid(), status: z.enum(ORDER_EMAIL_STATUSES) });
export type OrderEmailPayload = z.output<typeof orderEmailPayload>;

/** An order as its emails see it (commerce_order_email_due). */
export interface OrderView {
  order_id: string;
  order_number: string;
  reached: boolean;
  total: number;
  currency: string;
  tracking_number: string | null;
  confirmed_at: string | null;
  needs_attention: boolean;
  attention_reason: string | null;
  user: { id: string; email: string; name: string };
  items: { name: string; sku: string; quantity: number; unit_price: number; short: number }[];
}

/** The effect key of one order email, also the QStash deduplication id of its message and Resend's idempotency key. */
export const orderEmailKey = (orderId: string, status: OrderEmailStatus) => `order:${orderId}:${status}`;

/**
 * Publishes send-order-email for an order that reached `status`. The order change is committed
 * first; the same event published again (a webhook and the reconcile job, a retried webhook)
 * is one message within QStash's 10 minutes, and one email for good through the job's effect.
 */
export function publishOrderEmail(deps: PublishDeps, orderId: string, status: OrderEmailStatus) {
  return publishJob(deps, ORDER_EMAIL_JOB, { orderId, status }, { deduplicationId: orderEmailKey(orderId, status) });
}
