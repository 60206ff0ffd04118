import type { Db } from "@/lib/db/types";
import type { PublishDeps } from "@/lib/qstash/publish";
import { publishOrderAttention } from "./order-attention";
import { publishOrderEmail } from "./order-email";

/** What commerce_confirm_payment answers (supabase/migrations/20261130005100_commerce_payments.sql). */
export interface ConfirmResult {
  outcome: "confirmed" | "already" | "conflict" | "unknown_payment";
  payment_id?: string;
  order_id?: string;
  order_status?: string;
  reason?: string;
  /** Confirmed without all of its stock (its locks had expired): the admins are alerted once. */
  needs_attention?: boolean;
}

export interface FailResult {
  outcome: "failed" | "already" | "conflict" | "unknown_payment";
  payment_id?: string;
  order_id?: string;
  released?: number;
  reason?: string;
}

/**
 * A payment Razorpay reports captured: the one confirmation both the webhook and
 * reconcile-stale-payments use. The SQL confirms at most once however many callers race; each
 * caller that finds the order confirmed (by itself or earlier) publishes the confirmation email,
 * so a caller that died between the two is made good by the next, and the email's own key keeps
 * it to one. An order paid without its stock is published to the admins the same way.
 */
export async function confirmCapturedPayment(
  deps: PublishDeps & { db: Db },
  p: { transactionId: string; amount?: number; now: Date },
): Promise<ConfirmResult> {
  const r = await deps.db.rpc<ConfirmResult>("commerce_confirm_payment", { p_transaction_id: p.transactionId, p_amount: p.amount ?? null, p_now: p.now });
  if ((r.outcome === "confirmed" || r.outcome === "already") && r.order_id) {
    await publishOrderEmail(deps, r.order_id, "confirmed");
    if (r.needs_attention) await publishOrderAttention(deps, r.order_id);
  }
  return r;
}

/** A payment Razorpay reports failed: marked failed, and its order's locks released when no other attempt is live. */
export function failPayment(db: Db, p: { transactionId: string; now: Date }): Promise<FailResult> {
  return db.rpc<FailResult>("commerce_fail_payment", { p_transaction_id: p.transactionId, p_now: p.now });
}
