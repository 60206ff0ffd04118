import { z } from "zod";
import { publishJob, type PublishDeps } from "@/lib/qstash/publish";

/** The job that tells a customer their order changed: an in-app notification and an email. */
export const ORDER_EMAIL_JOB = "send-order-email";

/** What an order email is about; `confirmed` follows a captured payment (commerce_confirm_payment). */
export const ORDER_EMAIL_STATUSES = ["confirmed", "shipped", "delivered", "cancelled", "return_approved"] as const;
export type OrderEmailStatus = (typeof ORDER_EMAIL_STATUSES)[number];

export const orderEmailPayload = z.object({ orderId: z.uuid(), status: z.enum(ORDER_EMAIL_STATUSES) });
export type OrderEmailPayload = z.output<typeof orderEmailPayload>;

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
