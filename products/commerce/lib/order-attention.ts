import { z } from "zod";
import { publishJob, type PublishDeps } from "@/lib/qstash/publish";

/** The job that tells the admins a paid order lacks stock (commerce_orders.needs_attention_at). */
export const ORDER_ATTENTION_JOB = "alert-order-attention";

export const orderAttentionPayload = z.object({ orderId: z.uuid() });

/** One alert per order, however many callers find it short: the effect key and the QStash deduplication id. */
export const orderAttentionKey = (orderId: string) => `order:${orderId}:needs-attention`;

export function publishOrderAttention(deps: PublishDeps, orderId: string) {
  return publishJob(deps, ORDER_ATTENTION_JOB, { orderId }, { deduplicationId: orderAttentionKey(orderId) });
}
