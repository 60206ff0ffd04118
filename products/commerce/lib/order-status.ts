import type { Db } from "@/lib/db/types";
import type { PublishDeps } from "@/lib/qstash/publish";
import { publishOrderEmail } from "./order-email";

/** The changes the shop reports itself; confirmed follows the payment and is not among them. */
export const REPORTED_STATUSES = ["placed", "shipped", "delivered", "cancelled", "return_approved"] as const;
export type ReportedStatus = (typeof REPORTED_STATUSES)[number];

/** What commerce_order_transition answers (supabase/migrations/20261209001000_commerce_order_status.sql). */
export interface TransitionResult {
  outcome: "changed" | "already" | "conflict" | "unknown_order";
  order_id: string;
  order_status?: string;
  reason?: string;
}

/**
 * Applies a reported change and publishes its email. A repeat (`already`) publishes too, so a
 * caller that died between the two is made good by its retry; the email's key keeps it to one.
 */
export async function reportOrderStatus(
  deps: PublishDeps & { db: Db },
  p: { orderId: string; status: ReportedStatus; trackingNumber?: string; now: Date },
): Promise<TransitionResult> {
  const r = await deps.db.rpc<TransitionResult>("commerce_order_transition", {
    p_order_id: p.orderId,
    p_status: p.status,
    p_tracking_number: p.trackingNumber ?? null,
    p_now: p.now,
  });
  if (r.outcome === "changed" || r.outcome === "already") await publishOrderEmail(deps, r.order_id, p.status);
  return r;
}

/** The courier delivered the parcel with this tracking number: each of its orders, as reportOrderStatus. */
export async function parcelDelivered(deps: PublishDeps & { db: Db }, p: { trackingNumber: string; now: Date }): Promise<TransitionResult[]> {
  const results = await deps.db.rpc<TransitionResult[]>("commerce_orders_delivered", { p_tracking_number: p.trackingNumber, p_now: p.now });
  for (const r of results) if (r.outcome === "changed" || r.outcome === "already") await publishOrderEmail(deps, r.order_id, "delivered");
  return results;
}
