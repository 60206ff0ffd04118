import { confirmCapturedPayment, failPayment } from "../lib/payments";
import { NonRetryableError } from "@/lib/errors";
import { defineJob } from "@/lib/jobs/define";
import { runEffects } from "@/lib/jobs/effects";
import { createRegistry } from "@/lib/jobs/registry";
import { commerceProviders } from "../providers";
import alertOrderAttention from "./alert-order-attention";
import sendOrderEmail from "./send-order-email";

interface Stale {
  payment_id: string;
  transaction_id: string;
  order_id: string;
  amount: number;
  created_at: string;
}

type Outcome = { outcome: "confirmed" | "already" | "failed" | "left"; razorpay: string };

/** A payment still pending this long after it was created has probably lost its webhook. */
export const STALE_AFTER_MS = 10 * 60_000;
/** What publishing needs to know of the jobs it publishes (neither has a schedule). */
const publishable = createRegistry([sendOrderEmail, alertOrderAttention], []);

/**
 * Payments pending for more than 10 minutes are looked up at Razorpay: captured -> the order is
 * confirmed (the webhook's own function) and its email published; failed -> the payment is marked
 * failed and the order's stock released; anything else is asked again after a quarter of its age
 * (10 minutes to 6 hours: an abandoned checkout stays `created` for good). Each payment is
 * the effect `payment:<id>:reconcile`, and the confirmation is conditional in SQL, so a webhook
 * arriving at the same moment confirms nothing twice.
 */
export default defineJob({
  name: "reconcile-stale-payments",
  description: "Payments pending over 10 minutes -> ask Razorpay; captured: confirm the order and email; failed: mark failed, release stock",
  timeoutMs: 120_000,
  async handler(ctx) {
    const { db, env, providers, now, run, signal } = ctx;
    const razorpay = commerceProviders.of(providers).payments();
    const stats = { confirmed: 0, alreadyConfirmed: 0, markedFailed: 0, released: 0, stillPending: 0 };
    const counts = await runEffects<Stale, Outcome>(ctx, {
      due: ({ after, limit }) =>
        db.rpc<Stale[]>("commerce_stale_payments_due", {
          p_job: run.job,
          p_now: now,
          p_stale_ms: STALE_AFTER_MS,
          p_after_created_at: after?.created_at ?? null,
          p_after_id: after?.payment_id ?? null,
          p_limit: limit,
        }),
      key: (p) => `payment:${p.payment_id}:reconcile`,
      onUnknown: "retry", // asking Razorpay again only reads; the confirmation is conditional in SQL
      subject: (p) => p.payment_id,
      work: async (p) => {
        const at = await razorpay.fetchPayment(p.transaction_id, signal);
        if (at.status === "captured") {
          const r = await confirmCapturedPayment({ env, registry: publishable, db }, { transactionId: p.transaction_id, amount: at.amount, now });
          if (r.outcome === "conflict" || r.outcome === "unknown_payment") {
            throw new NonRetryableError(`payment ${p.payment_id} (${p.transaction_id}) is captured at Razorpay but cannot confirm its order: ${r.reason ?? r.outcome}`);
          }
          stats[r.outcome === "confirmed" ? "confirmed" : "alreadyConfirmed"]++;
          return { outcome: r.outcome, razorpay: at.status };
        }
        if (at.status === "failed") {
          const r = await failPayment(db, { transactionId: p.transaction_id, now });
          if (r.outcome === "conflict" || r.outcome === "unknown_payment") {
            throw new NonRetryableError(`payment ${p.payment_id} (${p.transaction_id}) failed at Razorpay but is ${r.reason ?? r.outcome} here`);
          }
          if (r.outcome === "failed") stats.markedFailed++;
          stats.released += r.released ?? 0;
          return { outcome: r.outcome === "failed" ? "failed" : "already", razorpay: at.status };
        }
        // created, authorized, refunded: nothing to do yet; the settle releases the effect so the next run asks again.
        stats.stillPending++;
        return { outcome: "left", razorpay: at.status };
      },
      finish: "commerce_reconcile_settle",
      pageSize: 50,
      concurrency: 4,
    });
    return { ...stats, errors: counts.failed + counts.unknown + counts.abandoned, abandoned: counts.abandoned, skipped: counts.skipped };
  },
});
